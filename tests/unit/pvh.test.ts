/**
 * The guest kernel's PVH ELF, taken out of a bzImage (guest-images/pvh.ts):
 * built here byte by byte as the x86 boot protocol and the ELF format lay them
 * out, so each answer is known. The real kernel's case is in tests/image.
 */
import test from "ava";
import * as zlib from "node:zlib";
import { hasPvhNote, pvhKernel } from "../../guest-images/pvh";

/** A 64-bit ELF with one PT_NOTE segment holding the given notes ([name, type]). */
function elfWithNotes(notes: [string, number][]): Buffer {
    const body = Buffer.concat(
        notes.map(([name, type]) => {
            const nameBytes = Buffer.from(`${name}\0`, "latin1");
            const padded = Buffer.alloc((nameBytes.length + 3) & ~3);
            nameBytes.copy(padded);
            const head = Buffer.alloc(12);
            head.writeUInt32LE(nameBytes.length, 0);
            head.writeUInt32LE(8, 4);
            head.writeUInt32LE(type, 8);
            return Buffer.concat([head, padded, Buffer.alloc(8, 0x11)]);
        }),
    );
    const ehdr = Buffer.alloc(64);
    ehdr.writeUInt32BE(0x7f454c46, 0);
    ehdr[4] = 2; // 64-bit
    ehdr[5] = 1; // little-endian
    ehdr.writeBigUInt64LE(64n, 0x20); // program headers right after the ELF header
    ehdr.writeUInt16LE(56, 0x36);
    ehdr.writeUInt16LE(1, 0x38);
    const phdr = Buffer.alloc(56);
    phdr.writeUInt32LE(4, 0); // PT_NOTE
    phdr.writeBigUInt64LE(120n, 8); // file offset of the notes
    phdr.writeBigUInt64LE(BigInt(body.length), 0x20);
    return Buffer.concat([ehdr, phdr, body]);
}

/** A bzImage: setup sectors with the header, then the protected-mode part whose payload the header points at. */
function bzImage(payload: Buffer, opts: { version?: number; setupSectors?: number } = {}): Buffer {
    const setupSectors = opts.setupSectors ?? 2;
    const setup = Buffer.alloc((setupSectors + 1) * 512);
    setup[0x1f1] = setupSectors;
    setup.write("HdrS", 0x202, "latin1");
    setup.writeUInt16LE(opts.version ?? 0x20f, 0x206);
    const before = Buffer.alloc(100, 0x90); // decompressor code ahead of the payload
    setup.writeUInt32LE(before.length, 0x248);
    setup.writeUInt32LE(payload.length, 0x24c);
    return Buffer.concat([setup, before, payload, Buffer.from([1, 2, 3, 4])]);
}

const pvhElf = elfWithNotes([
    ["Xen", 6],
    ["Linux", 18],
    ["Xen", 18],
]);

test("an ELF whose notes include Xen's PHYS32_ENTRY has a PVH entry; other notes or a non-ELF do not", (t) => {
    t.true(hasPvhNote(pvhElf));
    t.false(
        hasPvhNote(
            elfWithNotes([
                ["Xen", 6],
                ["Linux", 18],
            ]),
        ),
        "type 18 under another name is not the PVH entry",
    );
    t.false(hasPvhNote(Buffer.from("MZ not an ELF at all, but long enough to read a header from.......")));
});

test("a bzImage with a gzip payload gives back the exact ELF; its setup sector count (0 means 4) is honoured", async (t) => {
    const two = await pvhKernel(bzImage(zlib.gzipSync(pvhElf), { setupSectors: 2 }));
    t.true("elf" in two && two.elf.equals(pvhElf));
    // 0 in the header means 4 sectors: lay the image out with 4 and write 0.
    const four = bzImage(zlib.gzipSync(pvhElf), { setupSectors: 4 });
    four[0x1f1] = 0;
    const zero = await pvhKernel(four);
    t.true("elf" in zero && zero.elf.equals(pvhElf));
});

test("the bzImage stays, with the reason, when the payload has no PVH entry or cannot be unpacked", async (t) => {
    t.deepEqual(await pvhKernel(bzImage(zlib.gzipSync(elfWithNotes([["Xen", 6]])))), { reason: "the kernel has no PVH entry point (CONFIG_PVH is off)" });
    t.deepEqual(await pvhKernel(bzImage(Buffer.from([0x02, 0x21, 0x4c, 0x18, 0, 0]))), {
        reason: "its payload is compressed with a format the builder does not unpack (magic 02214c18)",
    });
    t.deepEqual(await pvhKernel(bzImage(zlib.gzipSync(pvhElf), { version: 0x206 })), { reason: "its boot protocol is older than 2.08 (no payload fields)" });
    t.deepEqual(await pvhKernel(Buffer.alloc(4096)), { reason: "the kernel file is not a bzImage" });
});
