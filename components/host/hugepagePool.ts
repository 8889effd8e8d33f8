/**
 * One change to a kernel hugepage pool, made as a single step. The pool file
 * is read, changed and read back under flock(1) on that same sysfs file: two
 * changes of one pool never interleave, even when they come from different
 * "hosts" that share a kernel (the emulated lab's hosts all draw on this
 * machine's pool, and a stack reserves for each in parallel). A read, then a
 * write a moment later, lost one of two concurrent reservations there.
 */
import type { HostAccess } from "./access";
import { HostCommandError } from "./access/errors";

/** `n` is the pool before, `w` what was asked; a pool cannot go below 0. The kernel may refuse part of the change: the caller compares. */
const CHANGE_SCRIPT = 'n=$(cat "$1"); w=$((n + $2)); [ "$w" -lt 0 ] && w=0; echo "$w" > "$1" 2>/dev/null; echo "$n $w $(cat "$1")"';

/** A NUMA node's pool of one page size in sysfs. */
export function poolDir(node: number, sizeKiB: number): string {
    return `/sys/devices/system/node/node${node}/hugepages/hugepages-${sizeKiB}kB`;
}

/** A file of that pool: nr_hugepages (its size) or free_hugepages. */
export function poolFile(node: number, sizeKiB: number, file: "nr_hugepages" | "free_hugepages"): string {
    return `${poolDir(node, sizeKiB)}/${file}`;
}

/** A pool file's count. */
export async function readPool(host: HostAccess, file: string): Promise<number> {
    return Number((await host.readFile(file)).trim());
}

export interface PoolChange {
    before: number;
    wanted: number;
    after: number;
}

/** The locked change of a pool by `delta` pages, as it runs on the host. */
export function poolChangeArgv(nrFile: string, delta: number): string[] {
    return ["flock", nrFile, "sh", "-c", CHANGE_SCRIPT, "sh", nrFile, String(delta)];
}

export async function changePool(host: HostAccess, nrFile: string, delta: number): Promise<PoolChange> {
    const argv = poolChangeArgv(nrFile, delta);
    const r = await host.run(argv, { timeoutMs: 120_000 });
    const [before, wanted, after] = r.stdout.trim().split(/\s+/).map(Number);
    if ([before, wanted, after].some((v) => !Number.isInteger(v)))
        throw new HostCommandError(
            host.name,
            argv,
            r.exitCode,
            r.stdout,
            r.stderr,
            "exit",
            `printed no pool sizes, so the hugepage pool ${nrFile} is not known to have changed by ${delta}`,
        );
    return { before, wanted, after };
}
