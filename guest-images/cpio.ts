/**
 * A reproducible cpio "newc" archive writer, the format the Linux kernel unpacks
 * as an initramfs. Written here rather than piped through cpio(1) so the bytes
 * depend only on the entries: sorted names, inode numbers counted from 1,
 * owner root, one fixed mtime, and device nodes without needing mknod or root.
 */

/** One file system object in the archive. */
export type CpioEntry =
    | { type: "dir"; path: string; mode: number }
    | { type: "file"; path: string; mode: number; data: Buffer }
    | { type: "symlink"; path: string; target: string }
    | { type: "char"; path: string; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`cpio field out of range: ${n}`);
    return n.toString(16).padStart(8, "0");
}

function pad4(len: number): Buffer {
    return Buffer.alloc((4 - (len % 4)) % 4);
}

function header(fields: {
    ino: number;
    mode: number;
    nlink: number;
    mtime: number;
    size: number;
    rdevmajor: number;
    rdevminor: number;
    nameSize: number;
}): string {
    return (
        "070701" +
        [fields.ino, fields.mode, 0, 0, fields.nlink, fields.mtime, fields.size, 0, 0, fields.rdevmajor, fields.rdevminor, fields.nameSize, 0]
            .map(hex8)
            .join("")
    );
}

/**
 * Serialises entries into a newc archive. Paths are relative (no leading `/`),
 * sorted bytewise so a parent always precedes its children; every parent must
 * itself be an entry, so the kernel never meets a file in a missing directory.
 */
export function writeCpio(entries: CpioEntry[], mtime: number): Buffer {
    const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
    const dirs = new Set<string>();
    const parts: Buffer[] = [];
    let ino = 0;
    let prev = "";
    for (const e of sorted) {
        // The builder's RootTree makes normalised, unique entries with their directories: these are its bugs.
        if (e.path === "" || e.path.startsWith("/") || e.path.endsWith("/") || e.path.split("/").some((c) => c === "." || c === ".." || c === "")) {
            throw new Error(`cpio entry path ${JSON.stringify(e.path)} must be relative and normalised, like "usr/bin/sh"`);
        }
        if (e.path === prev) throw new Error(`cpio entry ${e.path} appears twice`);
        prev = e.path;
        const parent = e.path.includes("/") ? e.path.slice(0, e.path.lastIndexOf("/")) : "";
        if (parent !== "" && !dirs.has(parent)) throw new Error(`cpio entry ${e.path} has no directory entry for ${parent}`);

        let mode: number;
        let data: Buffer = Buffer.alloc(0);
        let rdev: [number, number] = [0, 0];
        switch (e.type) {
            case "dir":
                mode = S_IFDIR | (e.mode & 0o7777);
                dirs.add(e.path);
                break;
            case "file":
                mode = S_IFREG | (e.mode & 0o7777);
                data = e.data;
                break;
            case "symlink":
                mode = S_IFLNK | 0o777;
                data = Buffer.from(e.target);
                break;
            case "char":
                mode = S_IFCHR | (e.mode & 0o7777);
                rdev = [e.major, e.minor];
                break;
        }
        ino += 1;
        const name = Buffer.from(e.path + "\0");
        const head = Buffer.from(
            header({ ino, mode, nlink: e.type === "dir" ? 2 : 1, mtime, size: data.length, rdevmajor: rdev[0], rdevminor: rdev[1], nameSize: name.length }),
        );
        parts.push(head, name, pad4(head.length + name.length), data, pad4(data.length));
    }
    const trailer = Buffer.from("TRAILER!!!\0");
    const head = Buffer.from(header({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, rdevmajor: 0, rdevminor: 0, nameSize: trailer.length }));
    parts.push(head, trailer, pad4(head.length + trailer.length));
    return Buffer.concat(parts);
}
