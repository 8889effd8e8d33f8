#!/usr/bin/env bash
# Prepares this machine to be a libvirt/KVM test host for the kit:
# Debian packages (QEMU and libvirt from bookworm-backports for the igb SR-IOV
# NIC and current ivshmem), the libvirt daemons, and a hugetlbfs mount.
# Idempotent: every step checks first and says what it found or did.
set -euo pipefail

say() { printf '\033[1m[nfvkit host]\033[0m %s\n' "$*"; }
need_root() {
  if [ "$(id -u)" != 0 ]; then
    say "this step needs root: $1. Re-run as root (sudo) or do it by hand."
    exit 1
  fi
}

# Packages the kit drives (virsh, QEMU) and builds guest images from. openssh-client reaches
# remote hosts; openssh-server and iproute2 are for the tests, which start their own sshd in
# a network namespace (the system ssh service is never started or needed), and for the
# emulated lab (npm run lab), which also needs util-linux (unshare, nsenter, setsid) to give
# each lab host its own namespaces and daemons. gcc and libc6-dev compile the guest image's
# own C programs static, and the ring's unit test.
HOST_PACKAGES_BACKPORTS=(qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-clients)
# The lab VM host (npm run lab -- up --kind vm, tests/rthost) is built from Debian packages with
# debootstrap, partitioned with parted and given its file system by mkfs.ext4 -d (e2fsprogs), all
# without loop devices or mounts.
# chromium (headless) opens the probes' HTML report in its browser test (tests/browser).
HOST_PACKAGES=(busybox-static cpio kmod pciutils libxml2-utils rt-tests stress-ng qemu-guest-agent rtla xz-utils openssh-client openssh-server iproute2 util-linux gcc libc6-dev debootstrap parted e2fsprogs chromium)

missing=()
for p in "${HOST_PACKAGES_BACKPORTS[@]}" "${HOST_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "install ${missing[*]}"
  if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "adding Debian bookworm-backports (QEMU 10, libvirt 11)"
    cat > /etc/apt/sources.list.d/nfvkit-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  say "installing ${missing[*]} (apt-get, takes a few minutes the first time)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q -t bookworm-backports "${HOST_PACKAGES_BACKPORTS[@]}" >/dev/null
  # The backports step moves some shared libraries to their backports versions (Mesa, for
  # QEMU's display modules). On a machine that had those libraries installed, apt moves their
  # sibling packages with them; on one that lacked a sibling (a trimmed image, or one where a
  # package was purged by hand), the sibling's candidate is still bookworm's, which requires the
  # bookworm library, and apt stops with "held broken packages". Only then are the remaining
  # packages taken from backports too, where their versions match (apt cannot be told to take
  # just the siblings from there). The tools then are newer than bookworm's (rtla 6.12,
  # OpenSSH 10), which the kit and its tests handle as well.
  if ! apt-get install -y -q "${HOST_PACKAGES[@]}" >/dev/null; then
    say "apt could not match bookworm's packages with the libraries QEMU brought from backports: taking them from bookworm-backports too"
    apt-get install -y -q -t bookworm-backports "${HOST_PACKAGES[@]}" >/dev/null
  fi
else
  say "packages present: QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([0-9.]*\).*/\1/p'), libvirt $(virsh --version)"
fi

# sshd's privilege separation directory: Debian's service creates it at start, and the
# tests run sshd without that service.
if [ ! -d /run/sshd ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /run/sshd
  say "created /run/sshd for the tests' own sshd"
fi

# hugetlbfs must be mounted before libvirtd starts, or libvirt will not offer
# hugepage-backed memory until it is restarted.
restart_libvirtd=0
if ! grep -qs ' hugetlbfs ' /proc/mounts; then
  need_root "mount hugetlbfs"
  mkdir -p /dev/hugepages
  mount -t hugetlbfs hugetlbfs /dev/hugepages
  say "mounted hugetlbfs on /dev/hugepages"
  restart_libvirtd=1
else
  say "hugetlbfs mounted on $(awk '$3=="hugetlbfs"{print $2; exit}' /proc/mounts)"
fi

# On kernels with RT group scheduling (cgroup v1 cpu.rt_runtime_us), libvirt's
# per-domain cpu cgroups get no real-time budget, so SCHED_FIFO vCPUs fail with
# "Cannot set scheduler parameters ... Operation not permitted". Keeping QEMU
# out of the cpu controller leaves its threads in the root group's RT budget;
# the kit uses cpusets for pinning, never cpu shares or quotas.
QEMU_CONF=/etc/libvirt/qemu.conf
if [ -f /sys/fs/cgroup/cpu/cpu.rt_runtime_us ] && ! grep -q '^cgroup_controllers.*nfvkit' "$QEMU_CONF" 2>/dev/null; then
  need_root "edit $QEMU_CONF"
  printf '\n# nfvkit: no "cpu" controller, so SCHED_FIFO vCPUs keep the root RT budget (RT group scheduling kernel)\ncgroup_controllers = [ "cpuset", "memory", "devices", "blkio", "cpuacct" ] # nfvkit\n' >> "$QEMU_CONF"
  say "RT group scheduling kernel: libvirt set to leave QEMU out of the cpu cgroup controller so FIFO vCPUs can run"
  restart_libvirtd=1
fi

libvirt_up() { virsh -c qemu:///system version >/dev/null 2>&1; }
if libvirt_up && [ "$restart_libvirtd" = 1 ] && pgrep -x libvirtd >/dev/null; then
  say "restarting libvirtd so it sees the new hugetlbfs mount and configuration"
  pkill -x libvirtd || true
  for _ in $(seq 50); do pgrep -x libvirtd >/dev/null || break; sleep 0.1; done
fi
if ! pgrep -x virtlogd >/dev/null; then
  need_root "start virtlogd"
  virtlogd -d
  say "started virtlogd (writes guest console logs)"
fi
if ! libvirt_up; then
  need_root "start libvirtd"
  if [ -d /run/systemd/system ]; then
    systemctl start libvirtd
  else
    libvirtd -d
  fi
  for _ in $(seq 100); do libvirt_up && break; sleep 0.1; done
  libvirt_up || { say "libvirtd did not answer on qemu:///system; see /var/log/libvirt/"; exit 1; }
  say "started libvirtd"
else
  say "libvirtd answers on qemu:///system"
fi
