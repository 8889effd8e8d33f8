/**
 * The records the kit keeps on a host for host-wide changes (an RT host's
 * tuning, an SR-IOV PF's VFs): who made the change, and what the host had
 * before it. They live on the host, under /var/lib/nfvkit/, written before
 * the first change, so that a run killed before it reported still finds them,
 * and so that a second stack on the same host sees whose the change is.
 * Pure: parsing and the decisions; rtHostOperations.ts and sriovOperations.ts
 * read and write them through HostAccess.
 */
import { CpuSet } from "../spec/units";
import { describeStamp, foreignFix, isOwnStamp, type Owner, type OwnerStamp } from "../types/ownership";

/** The runtime values the RT tuning replaces, as the host had them before the kit first touched it. */
export interface TuningBefore {
    schedRtRuntimeUs: string;
    thpEnabled: string;
    thpDefrag: string;
    ksmRun: string;
}

/** What the tuning itself sets for each of them (rtTuning.ts's sysctl file and script). */
export const TUNING_SET: TuningBefore = { schedRtRuntimeUs: "-1", thpEnabled: "never", thpDefrag: "never", ksmRun: "0" };

/** The on-host record of an RT host's tuning (RT_FILES.before). */
export interface RtRecord {
    /** The resource that made the change; absent in a record written by a kit from before owner records. */
    owner?: OwnerStamp;
    /** The owner in words ("nfv-testpod/lab-rt host lab-rt-1"), as the kit's files name it. */
    ownerName?: string;
    before: TuningBefore;
    /** Each IRQ's smp_affinity_list before the kit moved it (file → CPU list); empty in a record from before per-IRQ undo. */
    irqs: Record<string, string>;
    /** The CPU list the tuning moves IRQs to, at the last change: the value the kit set. */
    housekeepingCpus?: string;
}

/** The on-host record of an SR-IOV PF the kit took (sriovRecordPath). */
export interface PfRecord {
    owner: OwnerStamp;
    ownerName: string;
    pf: string;
    before: { numVfs: number; up: boolean };
    /** The sriov_numvfs the kit set at its last change. */
    numVfs: number;
    /** The VFs the kit configured: its own. */
    vfs: number[];
}

/** Where a PF's record lives: one file per PF netdev name. */
export function sriovRecordPath(pf: string): string {
    return `/var/lib/nfvkit/sriov/${pf.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`;
}

const tuningKeys = ["schedRtRuntimeUs", "thpEnabled", "thpDefrag", "ksmRun"] as const;

/**
 * An RT record as the host holds it. A record from before owner records is the plain `before` object; it is read as
 * owned by nobody in particular (see docs/rt-hosts.md) and with no per-IRQ values.
 */
export function parseRtRecord(text: string, file: string): RtRecord {
    const data = parseObject(text, file);
    if (tuningKeys.every((k) => typeof data[k] === "string")) return { before: pick(data), irqs: {} };
    const before = data.before as Record<string, unknown> | undefined;
    if (!before || typeof before !== "object" || !tuningKeys.every((k) => typeof before[k] === "string"))
        throw new Error(`${file} is not an nfvkit RT record: it has no "before" with ${tuningKeys.join(", ")}`);
    const irqs = (data.irqs && typeof data.irqs === "object" ? data.irqs : {}) as Record<string, unknown>;
    return {
        ...(isStamp(data.owner) ? { owner: data.owner } : {}),
        ...(typeof data.ownerName === "string" ? { ownerName: data.ownerName } : {}),
        before: pick(before),
        irqs: Object.fromEntries(Object.entries(irqs).filter(([, v]) => typeof v === "string")) as Record<string, string>,
        ...(typeof data.housekeepingCpus === "string" ? { housekeepingCpus: data.housekeepingCpus } : {}),
    };
}

export function parsePfRecord(text: string, file: string): PfRecord {
    const data = parseObject(text, file);
    const before = data.before as { numVfs?: unknown; up?: unknown } | undefined;
    if (
        !isStamp(data.owner) ||
        typeof data.pf !== "string" ||
        typeof before?.numVfs !== "number" ||
        typeof before.up !== "boolean" ||
        typeof data.numVfs !== "number" ||
        !Array.isArray(data.vfs)
    )
        throw new Error(`${file} is not an nfvkit SR-IOV record: it needs owner, pf, before {numVfs, up}, numVfs and vfs`);
    return {
        owner: data.owner,
        ownerName: typeof data.ownerName === "string" ? data.ownerName : data.owner.urn,
        pf: data.pf,
        before: { numVfs: before.numVfs, up: before.up },
        numVfs: data.numVfs,
        vfs: data.vfs.filter((v): v is number => typeof v === "number"),
    };
}

/** Whether a record is this resource's: a record with no owner (an earlier kit's) is taken as the stack's own. */
export function ownsRecord(record: { owner?: OwnerStamp }, owner: Owner): boolean {
    return record.owner === undefined || isOwnStamp(record.owner, owner);
}

/** The refusal's words for a record another resource owns: who, and what to do. */
export function foreignRecord(record: { owner?: OwnerStamp; ownerName?: string }, owner: Owner, file: string): { reason: string; fix: string } {
    const stamp = record.owner!;
    return {
        reason: `is taken by ${describeStamp(stamp, owner)}${record.ownerName ? ` (${record.ownerName})` : ""}, as its record ${file} says`,
        fix:
            stamp.urn === owner.urn
                ? foreignFix(owner, stamp, `undo its changes and remove ${file} by hand`)
                : `run \`npm run down\` for that stack; if its state is lost, undo its changes and remove ${file} by hand`,
    };
}

/** One value the kit changed: what it was before, what the kit set, and what the host has now (undefined: gone). */
export interface RestoreItem {
    /** In a person's words: "kernel.sched_rt_runtime_us", "IRQ 24". */
    name: string;
    file: string;
    /** "cpus" for a CPU list ("0-1" is "0,1"); else compared as text. */
    kind?: "cpus";
    before: string;
    set: string;
    found: string | undefined;
}

/** What a delete does with the values the kit changed. */
export interface RestorePlan {
    /** Still the kit's value: put back as it was before. */
    restore: RestoreItem[];
    /** Changed by someone after the kit: left as it is, and said. */
    left: RestoreItem[];
}

/**
 * Restore only where the host still has the value the kit set: a value changed after the kit (by an administrator, by
 * another tool) is left and reported; one that is gone (an IRQ freed) or already back is skipped. Values are compared
 * as the host means them (CPU lists by their CPUs).
 */
export function planRestore(items: readonly RestoreItem[]): RestorePlan {
    const plan: RestorePlan = { restore: [], left: [] };
    for (const item of items) {
        const same = item.kind === "cpus" ? sameCpus : (a: string, b: string) => a.trim() === b.trim();
        if (item.found === undefined || same(item.found, item.before)) continue;
        if (same(item.found, item.set)) plan.restore.push(item);
        else plan.left.push(item);
    }
    return plan;
}

/** Two CPU lists name the same CPUs ("0-1" and "0,1"); a list that does not parse is compared as text. */
export function sameCpus(a: string, b: string): boolean {
    try {
        return CpuSet.parse(a.trim(), "cpus").toString() === CpuSet.parse(b.trim(), "cpus").toString();
    } catch {
        return a.trim() === b.trim();
    }
}

/** The line a delete says for a value it leaves. */
export function leftWords(host: string, item: RestoreItem): string {
    return `host ${host}: ${item.name} is ${item.found}, not the ${item.set} the kit set: changed after the kit, so it stays (before the kit: ${item.before})`;
}

function parseObject(text: string, file: string): Record<string, unknown> {
    let data: unknown;
    try {
        data = JSON.parse(text);
    } catch (e) {
        throw new Error(`${file} is not JSON (${(e as Error).message}): the kit's record on the host was changed by hand`);
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error(`${file} is not an nfvkit record: not a JSON object`);
    return data as Record<string, unknown>;
}

function isStamp(v: unknown): v is OwnerStamp {
    const s = v as OwnerStamp | undefined;
    return !!s && typeof s === "object" && typeof s.urn === "string" && (s.lineage === undefined || typeof s.lineage === "string");
}

function pick(o: Record<string, unknown>): TuningBefore {
    return { schedRtRuntimeUs: String(o.schedRtRuntimeUs), thpEnabled: String(o.thpEnabled), thpDefrag: String(o.thpDefrag), ksmRun: String(o.ksmRun) };
}
