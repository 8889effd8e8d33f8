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
const UNLOCKED_CHANGE_SCRIPT = 'n=$(cat "$1"); w=$((n + $2)); [ "$w" -lt 0 ] && w=0; echo "$w" > "$1" 2>/dev/null; echo "$n $w $(cat "$1")"';

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
    return ["flock", nrFile, ...unlockedChangeArgv(nrFile, delta)];
}

/**
 * The write runs in a session of its own (`setsid -w`, which still hands back its output and exit code): the
 * kernel gives pages one by one and stops at a pending signal, so a kill of the run (kill -9 of its process
 * groups, Ctrl-C in its terminal, a closed terminal) in the middle of the write left the pool part-changed,
 * at a size the ledger's intent could not decide. Out of the run's groups the write ends as asked even when
 * the run does not; settlePool (hugepageOperations.ts) waits for a pool still moving.
 */
function unlockedChangeArgv(nrFile: string, delta: number): string[] {
    return ["setsid", "-w", "sh", "-c", UNLOCKED_CHANGE_SCRIPT, "sh", nrFile, String(delta)];
}

/** One change of the pool by `delta`, taking its lock for that change alone. */
export async function changePool(host: HostAccess, nrFile: string, delta: number): Promise<PoolChange> {
    return runChange(host, nrFile, delta, poolChangeArgv(nrFile, delta));
}

async function runChange(host: HostAccess, nrFile: string, delta: number, argv: string[]): Promise<PoolChange> {
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

/** A pool whose lock this process holds: reads and changes that no other holder of the lock can come between. */
export interface LockedPool {
    readonly nrFile: string;
    /** The pool's size now. */
    size(): Promise<number>;
    /** Grows or shrinks the pool by `delta` (the lock is already held, so this does not wait for it). */
    change(delta: number): Promise<PoolChange>;
}

/**
 * Holds the lock while the holder lives, and no longer. The shell itself takes the lock (on descriptor 9, which
 * nothing it starts inherits), so ending that one process releases it: a kill() of the command (over SSH, the
 * remote side kills it when its stdin closes, as when the kit dies) or, locally, the kit's death: the shell
 * prints a line a second, and the first one after the kit is gone hits a closed pipe.
 */
const HOLD_SCRIPT = 'exec 9<"$1"; flock 9 || exit 1; echo locked; while sleep 1 9<&- >/dev/null 2>&1; do echo; done';

/**
 * Runs `work` while holding the pool's lock: flock(1) on the pool's own sysfs file, the lock every change of
 * a pool by the kit takes (changePool above, the migration's room), on this machine or over SSH. Hosts that
 * share a kernel (the emulated lab's) share the lock as they share the pool. The lock is held by a process
 * on the host for as long as `work` runs, so several reads, ledger writes and one pool change are one step
 * to every other holder.
 */
export async function withPoolLock<T>(host: HostAccess, nrFile: string, work: (pool: LockedPool) => Promise<T>): Promise<T> {
    const argv = ["sh", "-c", HOLD_SCRIPT, "sh", nrFile];
    const holder = host.start(argv);
    try {
        await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new HostCommandError(host.name, argv, null, "", "", "timeout", `did not get the lock of ${nrFile} in 120 s`)),
                120_000,
            );
            let said = "";
            holder.stdout.on("data", (chunk: Buffer) => {
                said += chunk.toString();
                if (said.includes("locked")) {
                    clearTimeout(timer);
                    resolve();
                }
            });
            holder.result.then(
                (r) => {
                    clearTimeout(timer);
                    reject(new HostCommandError(host.name, argv, r.exitCode, r.stdout, r.stderr, "exit", `ended before it held the lock of ${nrFile}`));
                },
                (e) => {
                    clearTimeout(timer);
                    reject(e);
                },
            );
        });
        return await work({
            nrFile,
            size: () => readPool(host, nrFile),
            change: (delta) => runChange(host, nrFile, delta, unlockedChangeArgv(nrFile, delta)),
        });
    } finally {
        await holder.kill();
    }
}
