/**
 * The files of a built guest image, as the product boots them: the builder
 * (guest-images/build.ts) makes them, TestPod copies them to the hosts and
 * NfvGuest boots them. A type of the product, not of the builder, so no
 * product module imports guest-images/ for it.
 */

/** A built guest image in the cache. */
export interface GuestImage {
    /**
     * Absolute path of the kernel, readable by QEMU: the uncompressed ELF `vmlinux` that QEMU starts at its PVH entry
     * (guest-images/pvh.ts), or the bzImage `vmlinuz` for a kernel built without PVH.
     */
    kernel: string;
    /** Absolute path of the newc initramfs, not compressed (the guest copies it rather than inflating it). */
    initrd: string;
    /** Content hash of everything the image is made from; also the name of its cache folder. */
    hash: string;
    /** The kernel's release string, as `uname -r` prints it in the guest. */
    kernelVersion: string;
    /** Tool name -> Debian version of the package it was copied from. */
    tools: Record<string, string>;
    /**
     * Our own programs (recipe `programs:`) by name -> host path of the same static
     * binary the guest has in /usr/bin, for runs on the host (the inter-VM probe's host limit).
     */
    programs?: Record<string, string>;
}
