/**
 * The kit's records of the pulumi processes it starts, and the removal of
 * locks their runs left (the decision itself is lockOwner.ts, pure).
 *
 * Where: `<file backend>/.nfvkit/runs/<token>.json`, beside the backend's own
 * `.pulumi/` folder, so that every checkout and machine that shares the
 * backend sees them (the engine owns `.pulumi/locks/`: any file there is a
 * lock to it). One record per pulumi process, written as soon as it is
 * started, removed when it exits, unless its lock outlived it (pulumi killed
 * with -9): then the record stays, so that the next run on this machine can
 * tell the lock is dead. A kit process killed with -9 leaves its record too;
 * the next run removes it once the pulumi it names is gone and holds no lock.
 *
 * Only for `file://` backends: other backends get no record, and their locks
 * are never removed by the kit.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    judgeLock,
    parseRunRecord,
    refusalMessage,
    shellQuote,
    type HostIdentity,
    type LockFile,
    type ProcessSeen,
    type RecordRead,
    type RunRecord,
} from "./lockOwner";

/** The folder of a `file://` backend URL, or undefined for any other backend. */
export function fileBackendDir(backendUrl: string | undefined): string | undefined {
    if (!backendUrl?.startsWith("file://")) return undefined;
    return backendUrl.slice("file://".length).replace(/\?.*$/, "");
}

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

/** Every lock file of the backend, as the engine wrote it (pid, username, hostname, timestamp). */
function lockFilesUnder(dir: string): { path: string; text: string }[] {
    let names: string[];
    try {
        names = readdirSync(dir, { recursive: true }) as string[];
    } catch {
        return [];
    }
    return names
        .filter((n) => n.endsWith(".json"))
        .flatMap((n) => {
            try {
                return [{ path: path.join(dir, n), text: readFileSync(path.join(dir, n), "utf8") }];
            } catch {
                return [];
            }
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
    const backend = fileBackendDir(env.PULUMI_BACKEND_URL);
    if (!backend || pid === undefined) return () => {};
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
    const dir = runRecordsDir(backend);
    const file = path.join(dir, `${record.token}.json`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
    return () => {
        const lockLeft = lockFilesUnder(path.join(backend, ".pulumi", "locks"))
            .map((l) => parseLock(l.path, l.text))
            .some((l) => l?.pid === pid && l.hostname === here.hostname);
        if (!lockLeft) rmSync(file, { force: true });
    };
}

function readRecords(backend: string): RecordRead[] {
    const dir = runRecordsDir(backend);
    let names: string[];
    try {
        names = readdirSync(dir).filter((n) => n.endsWith(".json"));
    } catch {
        return [];
    }
    return names.map((n) => {
        const file = path.join(dir, n);
        let text: string;
        try {
            text = readFileSync(file, "utf8");
        } catch (err) {
            return { path: file, unreadable: (err as NodeJS.ErrnoException).code ?? String(err) };
        }
        const parsed = parseRunRecord(text);
        return typeof parsed === "string" ? { path: file, unreadable: parsed } : { path: file, record: parsed };
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
    const backend = fileBackendDir(backendUrl);
    if (!backend) return;
    const here = hostIdentity();
    const reads = readRecords(backend);
    const refusals: string[] = [];
    const locks = lockFilesUnder(path.join(backend, ".pulumi", "locks"));
    const stackDir = path.join(backend, ".pulumi", "locks", "organization", project, stack) + path.sep;
    for (const { path: file, text } of locks.filter((l) => l.path.startsWith(stackDir))) {
        const lock = parseLock(file, text);
        if (!lock) {
            refusals.push(
                `Stack ${stack} is locked by ${file}, which the kit cannot read as a lock. Make sure nothing runs on stack ${stack}, then remove it by hand:\n  rm -f ${shellQuote(file)} ${shellQuote(`${file}.attrs`)}`,
            );
            continue;
        }
        const verdict = judgeLock(lock, reads, here, processSeen);
        if (verdict.remove) {
            // The engine's blob store keeps the file's attributes beside it: remove both, as `pulumi cancel` does.
            for (const f of [file, `${file}.attrs`]) rmSync(f, { force: true });
            rmSync(path.join(runRecordsDir(backend), `${verdict.record.token}.json`), { force: true });
            log(`Removed the lock on stack ${stack} left by pulumi ${verdict.record.command} (pid ${lock.pid}, taken ${lock.timestamp}): ${verdict.why}.`);
        } else {
            refusals.push(refusalMessage(stack, lock, verdict));
        }
    }
    if (refusals.length > 0) throw new StaleLockError(refusals.join("\n\n"));
    // Records of this machine's runs that are over and hold no lock (any stack's): nothing will ever read them.
    const held = locks.map((l) => parseLock(l.path, l.text)).filter((l): l is LockFile => l !== undefined);
    for (const r of reads) {
        if (!("record" in r)) continue;
        const { record } = r;
        if (held.some((l) => l.pid === record.pid && l.hostname === record.hostname)) continue;
        if (record.machineId !== here.machineId || !here.machineId) continue;
        if (record.bootId !== here.bootId) {
            rmSync(r.path, { force: true });
            continue;
        }
        // Another container on this kernel: its pids are not ours to look at.
        if (record.pidNamespace !== here.pidNamespace) continue;
        const seen = processSeen(record.pid);
        if (!seen.running || seen.startTicks !== record.pidStart) rmSync(r.path, { force: true });
    }
}
