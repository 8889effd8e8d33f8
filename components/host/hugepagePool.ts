/**
 * One change to a kernel hugepage pool, made as a single step. The pool file
 * is read, changed and read back under flock(1) on that same sysfs file: two
 * changes of one pool never interleave, even when they come from different
 * "hosts" that share a kernel (the emulated lab's hosts all draw on this
 * machine's pool, and a stack reserves for each in parallel). A read, then a
 * write a moment later, lost one of two concurrent reservations there.
 */
import type { HostAccess } from "./access";

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

export async function changePool(host: HostAccess, nrFile: string, delta: number): Promise<PoolChange> {
    const r = await host.run(["flock", nrFile, "sh", "-c", CHANGE_SCRIPT, "sh", nrFile, String(delta)], { timeoutMs: 120_000 });
    const [before, wanted, after] = r.stdout.trim().split(/\s+/).map(Number);
    if (r.exitCode !== 0 || [before, wanted, after].some((v) => !Number.isInteger(v)))
        throw new Error(`could not change the hugepage pool ${nrFile} by ${delta}: ${(r.stderr || r.stdout).trim() || `exit ${r.exitCode}`}`);
    return { before, wanted, after };
}
