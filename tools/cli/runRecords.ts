/**
 * The kit's records of the pulumi processes it starts, and the removal of
 * locks their runs left (the decision itself is lockOwner.ts, pure).
 *
 * Where: `<backend>/.nfvkit/runs/<token>.json`, beside the backend's own
 * `.pulumi/` folder (a file backend's folder or an S3 bucket: backendStore.ts), so that every checkout and machine that shares the
 * backend sees them (the engine owns `.pulumi/locks/`: any file there is a
 * lock to it). One record per pulumi process, written as soon as it is
 * started, removed when it exits, unless its lock outlived it (pulumi killed
 * with -9): then the record stays, so that the next run on this machine can
 * tell the lock is dead. A kit process killed with -9 leaves its record too;
 * the next run removes it once the pulumi it names is gone and holds no lock.
 *
 * Only for `file://` and `s3://` backends: other backends get no record, and
 * their locks are never removed by the kit.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { backendStore, type BackendStore } from "./backendStore";
import { judgeLock, parseRunRecord, refusalMessage, type HostIdentity, type LockFile, type ProcessSeen, type RecordRead, type RunRecord } from "./lockOwner";

/** The kit's run records of a file backend's folder. */
export function runRecordsDir(backendDir: string): string {
    return path.join(backendDir, ".nfvkit", "runs");
}

function readTrimmed(file: string): string | undefined {
    try {
        return readFileSync(file, "utf8").trim() || undefined;
    } catch {
        return undefined;
    }
}

/** This machine as the records name it. */
export function hostIdentity(): HostIdentity {
    let pidNamespace: string | undefined;
    try {
        pidNamespace = readlinkSync("/proc/self/ns/pid");
    } catch {
        pidNamespace = undefined;
    }
    return {
        hostname: os.hostname(),
        machineId: readTrimmed("/etc/machine-id") ?? readTrimmed("/var/lib/dbus/machine-id"),
        bootId: readTrimmed("/proc/sys/kernel/random/boot_id"),
        pidNamespace,
    };
}

/** The kernel's clock ticks per second, which /proc/<pid>/stat's start time counts in; 100 on every Linux the kit runs on. */
const CLOCK_TICKS = 100;

/** What this machine sees of `pid` now (its start time from /proc/<pid>/stat and the boot time from /proc/stat). */
export function processSeen(pid: number): ProcessSeen {
    let stat: string;
    try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
        return { running: false };
    }
    // The command name is in parentheses and may hold spaces: the fields after its closing one are fixed; start time is field 22.
    const startTicks = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))?.[1] ?? 0);
    return { running: true, startTicks, startedAtMs: bootSeconds * 1000 + (Number(startTicks) * 1000) / CLOCK_TICKS };
}

/** The engine's lock objects and the kit's run records, as keys of the backend. */
const LOCKS = ".pulumi/locks/";
const RUNS = ".nfvkit/runs/";

/** Every lock of the backend under `prefix`, as the engine wrote it (pid, username, hostname, timestamp). */
function locksUnder(store: BackendStore, prefix: string): { key: string; text: string }[] {
    return store
        .list(prefix)
        .filter((k) => k.endsWith(".json"))
        .flatMap((key) => {
            const text = store.read(key);
            return text === undefined ? [] : [{ key, text }];
        });
}

function parseLock(file: string, text: string): LockFile | undefined {
    try {
        const l = JSON.parse(text) as { pid?: unknown; hostname?: unknown; username?: unknown; timestamp?: unknown };
        if (!Number.isInteger(l.pid) || typeof l.hostname !== "string") return undefined;
        return {
            path: file,
            pid: l.pid as number,
            hostname: l.hostname,
            username: typeof l.username === "string" ? l.username : undefined,
            timestamp: String(l.timestamp ?? ""),
        };
    } catch {
        return undefined;
    }
}

/**
 * Writes the record of a pulumi just started as `pid` with `args`, in the
 * backend of `env`; returns what to call when it has exited (removes the
 * record unless its lock is still there). Nothing for other backends.
 */
export function recordRun(pid: number | undefined, args: string[], env: NodeJS.ProcessEnv, startedAt: Date): () => void {
    const store = backendStore(env.PULUMI_BACKEND_URL);
    if (!store || pid === undefined) return () => {};
    const here = hostIdentity();
    const seen = processSeen(pid);
    const stackAt = args.indexOf("--stack");
    const record: RunRecord = {
        token: randomUUID(),
        command: args.find((a) => !a.startsWith("-")) ?? "",
        ...(stackAt >= 0 && args[stackAt + 1] ? { stack: args[stackAt + 1] } : {}),
        hostname: here.hostname,
        machineId: here.machineId ?? null,
        bootId: here.bootId ?? null,
        pidNamespace: here.pidNamespace ?? null,
        pid,
        pidStart: seen.running ? seen.startTicks : null,
        startedAt: startedAt.toISOString(),
    };
    const key = `${RUNS}${record.token}.json`;
    try {
        store.write(key, JSON.stringify(record, null, 2) + "\n");
    } catch {
        // No record (a bucket that cannot be written): a lock this run leaves is then "not sure", never removed.
        return () => {};
    }
    return () => {
        try {
            const lockLeft = locksUnder(store, LOCKS)
                .map((l) => parseLock(store.where(l.key), l.text))
                .some((l) => l?.pid === pid && l.hostname === here.hostname);
            if (!lockLeft) store.remove(key);
        } catch {
            // The bucket went away meanwhile: the record stays, and the next run's sweep removes it.
        }
    };
}

function readRecords(store: BackendStore): (RecordRead & { key: string })[] {
    return store
        .list(RUNS)
        .filter((k) => k.endsWith(".json"))
        .map((key) => {
            const text = store.read(key);
            if (text === undefined) return { key, path: store.where(key), unreadable: "gone while it was read" };
            const parsed = parseRunRecord(text);
            return typeof parsed === "string" ? { key, path: store.where(key), unreadable: parsed } : { key, path: store.where(key), record: parsed };
        });
}

/** A lock the kit will not remove: the whole message says who holds it and how to remove it by hand. */
export class StaleLockError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StaleLockError";
    }
}

/**
 * Removes the locks of `stack` (project `project`) whose runs are dead for
 * sure, out loud, with their records; throws a StaleLockError naming the
 * others. Then removes the records of this machine's dead runs that hold no
 * lock (a kit process killed while its pulumi ran on to the end).
 */
export function clearDeadLocks(backendUrl: string | undefined, project: string, stack: string, log: (line: string) => void): void {
    const store = backendStore(backendUrl);
    if (!store) return;
    let reads: (RecordRead & { key: string })[];
    let locks: { key: string; text: string }[];
    try {
        reads = readRecords(store);
        locks = locksUnder(store, LOCKS);
    } catch (err) {
        // Pulumi reads the same backend next, and says so itself if it cannot; a lock it finds there is for a person.
        log(
            `The kit could not read the locks of stack ${stack} (${(err as Error).message}). If pulumi then says the stack is locked, make sure ` +
                `nothing runs on it, and remove its locks by hand with: pulumi cancel --stack ${stack} --yes`,
        );
        return;
    }
    const here = hostIdentity();
    const refusals: string[] = [];
    const stackPrefix = `${LOCKS}organization/${project}/${stack}/`;
    for (const { key, text } of locks.filter((l) => l.key.startsWith(stackPrefix))) {
        const where = store.where(key);
        const lock = parseLock(where, text);
        if (!lock) {
            refusals.push(
                `Stack ${stack} is locked by ${where}, which the kit cannot read as a lock. Make sure nothing runs on stack ${stack}, then remove it by hand:\n  ${store.removeByHand(key)}`,
            );
            continue;
        }
        const verdict = judgeLock(lock, reads, here, processSeen);
        if (verdict.remove) {
            store.remove(key);
            store.remove(`${RUNS}${verdict.record.token}.json`);
            log(`Removed the lock on stack ${stack} left by pulumi ${verdict.record.command} (pid ${lock.pid}, taken ${lock.timestamp}): ${verdict.why}.`);
        } else {
            refusals.push(refusalMessage(stack, lock, verdict, store.removeByHand(key)));
        }
    }
    if (refusals.length > 0) throw new StaleLockError(refusals.join("\n\n"));
    // Records of this machine's runs that are over and hold no lock (any stack's): nothing will ever read them.
    const held = locks.map((l) => parseLock(l.key, l.text)).filter((l): l is LockFile => l !== undefined);
    for (const r of reads) {
        if (!("record" in r)) continue;
        const { record } = r;
        if (held.some((l) => l.pid === record.pid && l.hostname === record.hostname)) continue;
        if (record.machineId !== here.machineId || !here.machineId) continue;
        if (record.bootId !== here.bootId) {
            store.remove(r.key);
            continue;
        }
        // Another container on this kernel: its pids are not ours to look at.
        if (record.pidNamespace !== here.pidNamespace) continue;
        const seen = processSeen(record.pid);
        if (!seen.running || seen.startTicks !== record.pidStart) store.remove(r.key);
    }
}
