/**
 * Whose is a stack's lock, and may the kit remove it? Pure: the caller reads
 * the lock file, the kit's run records and this machine, and passes them in.
 *
 * A file backend's lock names only a pid, a user, a hostname and a time. Two
 * containers with one hostname, or two VMs both called `debian`, sharing a
 * `file://` backend, make the same lock look like their own, and "that pid is
 * not running here" then says nothing. So the kit keeps its own record of each
 * pulumi it starts (runRecords.ts): a per-run token, the machine's
 * /etc/machine-id, the kernel's boot id, the pid namespace, the pid and the
 * process's start time. A lock is dead for sure only when its one record was
 * written on this machine, and either in an earlier boot, or in this boot and
 * pid namespace by a pid that is gone or is now another process. Everything
 * else is "not sure", and the lock is left for a person to remove.
 */

/** Who this machine is: read from /etc/machine-id, /proc/sys/kernel/random/boot_id, /proc/self/ns/pid. */
export interface HostIdentity {
    hostname: string;
    /** undefined where the machine has no /etc/machine-id (some containers): then no lock is ever sure to be ours. */
    machineId?: string;
    bootId?: string;
    /** `pid:[4026531836]`: two containers on one kernel share the boot id but each sees its own pids. */
    pidNamespace?: string;
}

/**
 * The kit's record of one pulumi it started, a JSON file in the backend
 * (`<backend>/.nfvkit/runs/<token>.json`). No argument values, no environment:
 * nothing in it can be a secret.
 */
export interface RunRecord {
    /** Random, one per run; also the file's name. */
    token: string;
    /** The pulumi subcommand (`up`, `destroy`, `refresh`, ...), for the messages. */
    command: string;
    /** `--stack`'s value where given. */
    stack?: string;
    hostname: string;
    machineId: string | null;
    bootId: string | null;
    pidNamespace: string | null;
    /** The pulumi process, which is the pid its lock names. */
    pid: number;
    /** Its start time in clock ticks since boot (/proc/<pid>/stat field 22): with the boot id, it names one process. */
    pidStart: string | null;
    /** When the kit started it (ISO time). */
    startedAt: string;
}

/** A lock file as the engine writes it (`.pulumi/locks/<org>/<project>/<stack>/<id>.json`). */
export interface LockFile {
    /** Where it is: a file backend's path, a bucket's s3:// address. */
    path: string;
    pid: number;
    hostname: string;
    username?: string;
    timestamp: string;
}

/** A record file as read: parsed, or why it could not be. */
export type RecordRead = { path: string; record: RunRecord } | { path: string; unreadable: string };

/** What this machine sees of a pid now: nothing, or a process and when it started. */
export type ProcessSeen = { running: false } | { running: true; startTicks: string; startedAtMs: number };

export type LockVerdict =
    { remove: true; record: RunRecord; why: string } | { remove: false; live: boolean; record?: RunRecord; why: string; unreadable: string[] };

const FIELDS: Record<keyof RunRecord, "string" | "number" | "string|null" | "string?"> = {
    token: "string",
    command: "string",
    stack: "string?",
    hostname: "string",
    machineId: "string|null",
    bootId: "string|null",
    pidNamespace: "string|null",
    pid: "number",
    pidStart: "string|null",
    startedAt: "string",
};

/** Parses a record file's text; a missing or mistyped field makes it unreadable, never a guess. */
export function parseRunRecord(text: string): RunRecord | string {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (err) {
        return `not JSON (${(err as Error).message})`;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
    const obj = value as Record<string, unknown>;
    for (const [field, type] of Object.entries(FIELDS)) {
        const v = obj[field];
        const ok =
            type === "string"
                ? typeof v === "string"
                : type === "number"
                  ? Number.isInteger(v)
                  : type === "string|null"
                    ? v === null || typeof v === "string"
                    : v === undefined || typeof v === "string";
        if (!ok) return `field "${field}" is ${v === undefined ? "missing" : `not a ${type}`}`;
    }
    return obj as unknown as RunRecord;
}

/**
 * The records that can be the lock's: same hostname and pid as the lock, and
 * begun no later than the lock was taken (a second of slack for clocks read
 * by two programs). A record written after the lock is another run's.
 */
function recordsOf(lock: LockFile, records: RunRecord[]): RunRecord[] {
    const lockAt = Date.parse(lock.timestamp);
    return records.filter((r) => r.hostname === lock.hostname && r.pid === lock.pid && (Number.isNaN(lockAt) || Date.parse(r.startedAt) <= lockAt + 1000));
}

/**
 * Decides one lock. `seen(pid)` is what this machine sees of a pid now. The
 * lock is removed only when the kit is sure its run is gone; every other case
 * says why not, and whether its holder is known to be alive.
 */
export function judgeLock(lock: LockFile, reads: RecordRead[], here: HostIdentity, seen: (pid: number) => ProcessSeen): LockVerdict {
    const unreadable = reads.flatMap((r) => ("unreadable" in r ? [`${r.path} (${r.unreadable})`] : []));
    const mine = recordsOf(
        lock,
        reads.flatMap((r) => ("record" in r ? [r.record] : [])),
    );
    const notSure = (why: string, record?: RunRecord): LockVerdict => ({ remove: false, live: false, record, why, unreadable });
    if (mine.length === 0) {
        if (unreadable.length > 0)
            return notSure(`no readable kit record names this lock, and ${unreadable.length} record(s) could not be read, one of which may be its own`);
        return notSure("no kit record names this lock: it was taken by pulumi run by hand or by another tool, which the kit cannot see");
    }
    if (mine.length > 1)
        return notSure(`${mine.length} kit records name the same host ${lock.hostname} and pid ${lock.pid}: the kit cannot tell which run holds it`);
    const record = mine[0];
    if (!here.machineId || !here.bootId) return notSure("this machine has no /etc/machine-id or boot id to compare with the lock's record");
    if (record.machineId === null || record.machineId !== here.machineId)
        return notSure(
            `it was taken on another machine (machine-id ${record.machineId ?? "unknown"}, this one is ${here.machineId})` +
                (record.hostname === here.hostname ? ` that has the same hostname ${record.hostname}` : ""),
            record,
        );
    if (record.bootId !== here.bootId) return { remove: true, record, why: `it was taken by pid ${record.pid} before this machine last booted` };
    if (record.pidNamespace === null || record.pidNamespace !== here.pidNamespace)
        return notSure(
            `it was taken in another pid namespace of this machine (${record.pidNamespace ?? "unknown"}, this one is ${here.pidNamespace ?? "unknown"}): another container, whose pids this one cannot see`,
            record,
        );
    const now = seen(record.pid);
    if (!now.running) return { remove: true, record, why: `pid ${record.pid} no longer runs` };
    if (record.pidStart !== null && now.startTicks === record.pidStart)
        return { remove: false, live: true, record, why: `pid ${record.pid} is still running (pulumi ${record.command})`, unreadable };
    // The pid is another process now. It can hold this lock only if it existed when the lock was taken.
    const lockAt = Date.parse(lock.timestamp);
    if (record.pidStart !== null && !Number.isNaN(lockAt) && now.startedAtMs > lockAt)
        return { remove: true, record, why: `pid ${record.pid} is now another process, started after the lock was taken` };
    return notSure(`pid ${record.pid} runs a process the kit cannot tell from the run that took the lock`, record);
}

/** The whole refusal: what holds the lock, why the kit leaves it, and the two ways to remove it by hand. */
export function refusalMessage(
    stack: string,
    lock: LockFile,
    verdict: Extract<LockVerdict, { remove: false }>,
    /** The shell line that removes the lock object by hand: a file backend's `rm`, a bucket's `aws s3 rm` (backendStore.ts). */
    removeByHand = `rm -f ${shellQuote(lock.path)} ${shellQuote(`${lock.path}.attrs`)}`,
): string {
    const holder = `pid ${lock.pid} on host ${lock.hostname}${lock.username ? ` (user ${lock.username})` : ""}, taken at ${lock.timestamp}`;
    const run = verdict.record ? `; the kit's record of that run: pulumi ${verdict.record.command}, run token ${verdict.record.token}` : "";
    const lines = [`Stack ${stack} is locked by ${holder}${run}.`];
    if (verdict.live) {
        lines.push(
            `That run is still going (${verdict.why}). Wait for it to end. If it hangs, stop it on host ${lock.hostname} with: kill ${lock.pid}`,
            "(pulumi then releases the lock itself; after kill -9 the next npm run up or down removes it).",
        );
        return lines.join("\n");
    }
    lines.push(
        `The kit leaves the lock alone because it cannot be sure that run is over: ${verdict.why}.`,
        `Make sure nothing runs on stack ${stack} any more (ask whoever uses host ${lock.hostname}), then remove the lock by hand, either with`,
        `  pulumi cancel --stack ${stack} --yes      (removes every lock of the stack; from this checkout, put .state/bin first on PATH and set PULUMI_BACKEND_URL as the README's "Using pulumi directly" says)`,
        "or with",
        // A file backend keeps each file's attributes beside it (`<lock>.attrs`): its line removes both.
        `  ${removeByHand}`,
    );
    if (verdict.unreadable.length > 0) lines.push(`The kit's records it could not read (remove them once no run uses them): ${verdict.unreadable.join(", ")}`);
    return lines.join("\n");
}

/** A path as one shell word, so that the `rm` line can be pasted as it is. */
export function shellQuote(s: string): string {
    return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
