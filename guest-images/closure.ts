/**
 * Pure helpers that decide what goes into the initramfs: the shared-library
 * closure from ldd output, the kernel-module load order, and where a host path
 * lands in the guest's merged-/usr tree.
 */
import { HostCommandError } from "../components/host/access/errors";

/**
 * Library paths from `ldd <binary>` output. The vDSO has no file, and a static
 * binary ("not a dynamic executable") needs nothing. A library this machine
 * lacks fails the command (HostCommandError), with the fix.
 */
export function parseLdd(output: string, binary = "<binary>"): string[] {
    const paths: string[] = [];
    for (const raw of output.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.includes("not a dynamic executable") || line.includes("statically linked")) continue;
        if (line.includes("=> not found"))
            throw new HostCommandError("local", ["ldd", binary], 0, output, "", "exit", `missing library: ${line}`, {
                fix: "install the Debian package that provides it on this machine, then build again",
            });
        // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
        const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(line);
        if (m) paths.push(m[1]);
    }
    return paths;
}

/** Kernel module names use `-` and `_` interchangeably; the kernel reports `_`. */
export function moduleKey(name: string): string {
    return name.replace(/-/g, "_");
}

/**
 * Load order for the requested modules: each module after everything it
 * depends on, otherwise in request order. `depends` maps every module in the
 * closure (keyed by moduleKey) to the modules it needs.
 */
export function orderModules(requested: string[], depends: ReadonlyMap<string, string[]>): string[] {
    // `depends` comes from the kernel package's own modules, which never form a cycle or name an unknown module:
    // either would be a bug of the builder, so they are plain errors.
    const order: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, chain: string[]) => {
        const key = moduleKey(name);
        if (state.get(key) === "done") return;
        if (state.get(key) === "visiting") throw new Error(`kernel modules depend on each other in a cycle: ${[...chain, key].join(" -> ")}`);
        const deps = depends.get(key);
        if (deps === undefined) throw new Error(`kernel module ${key} is needed (${chain.join(" -> ") || "requested"}) but its dependencies are unknown`);
        state.set(key, "visiting");
        for (const d of deps) visit(d, [...chain, key]);
        state.set(key, "done");
        order.push(key);
    };
    for (const r of requested) visit(r, []);
    return order;
}

const MERGED = ["bin", "sbin", "lib", "lib64"];

/**
 * Where a host file goes in the guest, as a relative archive path. The guest
 * has merged /usr (bin, sbin, lib, lib64 are symlinks into usr/), like Debian
 * bookworm, so /lib/x/libc.so.6 and /usr/lib/x/libc.so.6 are one file.
 */
export function guestPath(hostPath: string): string {
    // The builder only hands in the absolute paths ldd and dpkg give.
    if (!hostPath.startsWith("/")) throw new Error(`expected an absolute path, got ${hostPath}`);
    const rel = hostPath.replace(/\/+/g, "/").slice(1);
    const top = rel.split("/")[0];
    return MERGED.includes(top) ? `usr/${rel}` : rel;
}
