/**
 * What the emulated lab VM host is made of, as plain data: the Debian
 * packages, the disk size and the first-boot script. The image cache key is
 * a hash of this recipe, so a change here builds a new disk and an unchanged
 * recipe is never built twice.
 */
import { createHash } from "node:crypto";

/** Debian release and mirror the disk is built from (Debian packages only). */
export const VM_SUITE = "bookworm";
export const VM_MIRROR = "http://deb.debian.org/debian";

/**
 * Packages on top of debootstrap's minbase, each for a reason:
 * - systemd-sysv, udev, dbus: a normal boot, so the kit meets the host it would meet on hardware;
 * - linux-image-amd64: the stock kernel the host boots first, so the kit's kernel switch is real;
 * - linux-image-rt-amd64: the PREEMPT_RT kernel, preinstalled because the lab VM has no fast
 *   way to the mirror (the kit still checks and installs it when missing);
 * - grub-pc: the host's own bootloader on its own disk, so boot args take effect as on hardware;
 * - openssh-server: the kit reaches the host over SSH only;
 * - iproute2, pciutils, ethtool, kmod: `ip link ... vf N`, lspci, driver binding;
 * - procps: sysctl; irqbalance: its ban list is part of the RT tuning;
 * - rt-tests, rtla: readiness checks (hwlatdetect, rtla hwnoise) on the host;
 * - libvirt-daemon-system, libvirt-daemon-driver-qemu, libvirt-clients, qemu-system-x86: the host
 *   runs guests as a lab host would, reached by the kit over qemu+ssh; QEMU (TCG inside TCG) is
 *   what takes a VF through vfio-pci into a nested guest;
 * - libpam-systemd: polkitd (libvirt's) needs "default-logind | logind", and debootstrap does
 *   not resolve alternatives, so the provider is named.
 */
export const VM_PACKAGES = [
    "systemd-sysv",
    "udev",
    "dbus",
    "linux-image-amd64",
    "linux-image-rt-amd64",
    "grub-pc",
    "initramfs-tools",
    "openssh-server",
    "iproute2",
    "pciutils",
    "ethtool",
    "kmod",
    "procps",
    "irqbalance",
    "rt-tests",
    "rtla",
    "libvirt-daemon-system",
    "libvirt-daemon-driver-qemu",
    "libvirt-clients",
    "qemu-system-x86",
    "libpam-systemd",
] as const;

/** The raw disk's size; sparse, and the cached copy is qcow2, so only what is written counts. */
export const VM_DISK_MIB = 4096;
/** The root partition starts at 1 MiB, leaving the gap GRUB embeds its core image in. */
export const VM_PARTITION_OFFSET_MIB = 1;

/**
 * Runs once, as PID 1 of the first boot (direct kernel boot from the build's
 * own kernel), to install GRUB on the VM's own disk: grub-install needs a block
 * device, and inside the VM /dev/vda is one without loop devices or root
 * rights on the build machine. Then it powers off.
 */
export const FIRST_BOOT_SCRIPT = `#!/bin/sh
# nfvkit lab VM: install the bootloader on this disk, then power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -o remount,rw /
echo "nfvkit-firstboot: grub-install"
if grub-install --target=i386-pc /dev/vda && update-grub; then
  echo "nfvkit-firstboot: ok"
else
  echo "nfvkit-firstboot: failed"
fi
rm -f /usr/local/sbin/nfvkit-firstboot
sync
mount -o remount,ro /
echo o > /proc/sysrq-trigger
sleep 30
`;

/**
 * The host's own GRUB settings (not the kit's): serial console so boots can be
 * watched, a short timeout, no submenu so entries are chosen by title.
 * Predictable interface names stay on: the PF is enp0s3 on every boot (its
 * PCI slot is fixed in vm.ts), so a stack file can name it. The
 * builder adds GRUB_DEFAULT naming the stock kernel, as a host that has never
 * run PREEMPT_RT would have it.
 */
export const VM_GRUB_DEFAULTS = `GRUB_TIMEOUT=1
GRUB_DISTRIBUTOR=Debian
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200"
GRUB_TERMINAL=serial
GRUB_SERIAL_COMMAND="serial --speed=115200"
GRUB_DISABLE_SUBMENU=y
GRUB_DISABLE_OS_PROBER=true
`;

/**
 * DHCP on the management NIC (QEMU user networking) through systemd-networkd,
 * already part of systemd. Matched by driver: the igb PF and its VFs are the
 * kit's to manage, and probe order decides which NIC is eth0.
 */
export const VM_NETWORK = `[Match]
Driver=virtio_net

[Network]
DHCP=ipv4
`;

/** Content hash of the recipe: the image's cache key. Bump `revision` when the builder's steps change in a way the data above does not show. */
export function recipeHash(revision = 1): string {
    const text = JSON.stringify({
        revision,
        VM_SUITE,
        VM_PACKAGES,
        VM_DISK_MIB,
        VM_PARTITION_OFFSET_MIB,
        FIRST_BOOT_SCRIPT,
        VM_GRUB_DEFAULTS,
        VM_NETWORK,
    });
    return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
