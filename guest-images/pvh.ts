/**
 * The guest kernel as an uncompressed ELF with a PVH entry point, taken out of
 * the Debian package's bzImage at build time.
 *
 * Why: QEMU loads such an ELF straight into guest memory and starts it at its
 * 32-bit PVH entry, so the guest skips the bzImage's real-mode setup and its
 * own xz decompression. Under TCG that decompression is most of the time
 * before the kernel's first line (4 s of a 13 s boot here), and in a guest
 * nested inside the TCG lab VM it is minutes. On KVM the boot is shorter too.
 *
 * A kernel without a PVH note, or one compressed with a format the builder
 * cannot unpack, keeps booting from its bzImage: `pvhKernel` says why not.
 */
import * as zlib from "node:zlib";
import { filterBytes } from "./run";

/** What `pvhKernel` found: the ELF to boot, or the reason the bzImage stays. */
export type PvhResult = { elf: Buffer } | { reason: string };

/** The ELF note Xen and QEMU read the PVH entry from: name "Xen", type XEN_ELFNOTE_PHYS32_ENTRY. */
const XEN_ELFNOTE_PHYS32_ENTRY = 18;
const PT_NOTE = 4;

export async function pvhKernel(bzImage: Buffer): Promise<PvhResult> {
    // The x86 boot protocol's setup header (Documentation/arch/x86/boot.rst): "HdrS" at 0x202, version at 0x206,
    // setup_sects at 0x1f1 (0 means 4), and from version 2.08 the compressed payload's offset (from the start of the
    // protected-mode code, which follows the setup sectors) and length at 0x248 and 0x24c.
    if (bzImage.length < 0x250 || bzImage.toString("latin1", 0x202, 0x206) !== "HdrS") return { reason: "the kernel file is not a bzImage" };
    if (bzImage.readUInt16LE(0x206) < 0x208) return { reason: "its boot protocol is older than 2.08 (no payload fields)" };
    const setupSectors = bzImage[0x1f1] || 4;
    const start = (setupSectors + 1) * 512 + bzImage.readUInt32LE(0x248);
    const payload = bzImage.subarray(start, start + bzImage.readUInt32LE(0x24c));
    let elf: Buffer;
    if (payload.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) {
        // The kernel's build appends the uncompressed size after the xz stream: --single-stream stops before it.
        elf = await filterBytes("xz", ["-dc", "--single-stream"], payload);
    } else if (payload[0] === 0x1f && payload[1] === 0x8b) {
        elf = zlib.gunzipSync(payload);
    } else {
        return { reason: `its payload is compressed with a format the builder does not unpack (magic ${payload.subarray(0, 4).toString("hex")})` };
    }
    if (!hasPvhNote(elf)) return { reason: "the kernel has no PVH entry point (CONFIG_PVH is off)" };
    return { elf };
}

/** True when a 64-bit little-endian ELF carries the Xen PHYS32_ENTRY note in one of its PT_NOTE segments. */
export function hasPvhNote(elf: Buffer): boolean {
    if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) return false;
    const phoff = Number(elf.readBigUInt64LE(0x20));
    const phentsize = elf.readUInt16LE(0x36);
    const phnum = elf.readUInt16LE(0x38);
    for (let i = 0; i < phnum; i++) {
        const ph = phoff + i * phentsize;
        if (elf.readUInt32LE(ph) !== PT_NOTE) continue;
        let at = Number(elf.readBigUInt64LE(ph + 8));
        const end = at + Number(elf.readBigUInt64LE(ph + 0x20));
        while (at + 12 <= end) {
            const nameSize = elf.readUInt32LE(at);
            const descSize = elf.readUInt32LE(at + 4);
            const type = elf.readUInt32LE(at + 8);
            const name = elf.toString("latin1", at + 12, at + 12 + nameSize).replace(/\0+$/, "");
            if (name === "Xen" && type === XEN_ELFNOTE_PHYS32_ENTRY) return true;
            at += 12 + align4(nameSize) + align4(descSize);
        }
    }
    return false;
}

function align4(n: number): number {
    return (n + 3) & ~3;
}
