/**
 * What a preview would change, in guest terms: which guests come and go,
 * which keep running while their pins move, which are replaced and which of
 * their inputs forces it, which links and hugepage reservations change. Read
 * from the engine's steps (engineSteps.ts) and the new plan (for link members
 * and names). Pure.
 *
 * Host reboots and VF set-up have no resource yet (the kit prints the host
 * kernel arguments a pod needs, and VFs are plan data only); their lists are
 * here so a resource that does them adds its entries without changing the
 * comment's shape. A guest's VF that changes is already one: it replaces the
 * guest.
 */
import type { PodPlan } from "../plan/podPlan";
import { tokens } from "../tokens";
import type { EngineStep } from "./engineSteps";

/** One pinned thread of a running guest that moves, e.g. vCPU 1 from host CPU 1 to 0. */
export interface PinMove {
    guest: string;
    /** `vCPU 1`, `emulator`, `iothread 1`. */
    thread: string;
    /** Host CPU (set) before and after; equal when only the FIFO priority changes. */
    from: string;
    to: string;
    fifoFrom?: string;
    fifoTo?: string;
}

/** A guest that is deleted and created again, and the inputs that force it. */
export interface Replacement {
    guest: string;
    /** Each input that forces the new domain, in words: `memory 256 MiB → 512 MiB`, `link ring1 added`. */
    reasons: string[];
    /** Pins that differ in the new domain (they come with it, not live). */
    pinMoves: PinMove[];
}

export interface LinkChange {
    link: string;
    /** Member guests (from the plan), for an added link. */
    members: string[];
    sizeBytes?: number;
    /** Why a changed link's file is made again, in words. */
    reasons: string[];
}

export interface HugepageChange {
    host: string;
    node: number;
    pageKiB: number;
    /** Pages reserved by the pod before and after; 0 when none. */
    from: number;
    to: number;
}

/** A host that must reboot for the pod (none yet: the kit does not change host kernels). */
export interface HostReboot {
    host: string;
    why: string;
}

/** A VF handed to a guest that is added, removed or set up differently. */
export interface VfChange {
    guest: string;
    vf: string;
    /** `added: <pf> <pci> ...`, `removed: ...`, `<old> → <new>`. */
    change: string;
}

export interface PodChanges {
    newGuests: string[];
    removedGuests: string[];
    /** Pins of guests that keep running: applied live. */
    pinMoves: PinMove[];
    replaced: Replacement[];
    /** Live changes other than pins (e.g. the boot timeout), `<guest>: <what>`. */
    otherUpdates: string[];
    linksAdded: LinkChange[];
    linksRemoved: LinkChange[];
    linksReplaced: LinkChange[];
    hugepages: HugepageChange[];
    hostReboots: HostReboot[];
    vfChanges: VfChange[];
    /** What the probe suite does: `first run`, `runs again`, `removed`, or unset when it is unchanged (or off). */
    probes?: "first run" | "runs again" | "removed";
    /** Resources of other kinds that change, as `<op> <type> <name>` (the guest image, future kinds). */
    other: string[];
}

const changing = (s: EngineStep) => s.op !== "same" && s.op !== "read" && s.op !== "refresh";

export function podChanges(steps: readonly EngineStep[], plan: PodPlan): PodChanges {
    const podName = steps.find((s) => s.type === tokens.testPod)?.name ?? "pod";
    const linkOfShm = new Map(plan.links.map((l) => [l.shmName, l.name]));
    const linkName = (shm: string) => linkOfShm.get(shm) ?? (shm.startsWith(`${plan.namePrefix}-`) ? shm.slice(plan.namePrefix.length + 1) : shm);
    const out: PodChanges = {
        newGuests: [],
        removedGuests: [],
        pinMoves: [],
        replaced: [],
        otherUpdates: [],
        linksAdded: [],
        linksRemoved: [],
        linksReplaced: [],
        hugepages: [],
        hostReboots: [],
        vfChanges: [],
        other: [],
    };
    // A replacement may also be listed as its two halves; one entry per resource is enough.
    const seen = new Set<string>();
    for (const step of steps.filter(changing)) {
        const op = step.op === "create-replacement" || step.op === "delete-replaced" ? "replace" : step.op;
        if (seen.has(`${step.urn} ${op}`)) continue;
        seen.add(`${step.urn} ${op}`);
        const oldIn = step.oldInputs ?? {};
        const newIn = step.newInputs ?? {};
        switch (step.type) {
            case tokens.domain: {
                const guest = childName(step.name, `${podName}-`, "-domain");
                if (op === "create") out.newGuests.push(guest);
                else if (op === "delete") out.removedGuests.push(guest);
                else {
                    const moves = pinMoves(guest, record(oldIn.pinning), record(newIn.pinning));
                    const facts = factChanges(record(oldIn.facts), record(newIn.facts), linkName);
                    out.vfChanges.push(...vfChanges(guest, record(oldIn.facts), record(newIn.facts)));
                    if (op === "replace") {
                        const reasons = [...facts];
                        if (oldIn.uri !== newIn.uri) reasons.push(`host URI ${String(oldIn.uri)} → ${String(newIn.uri)}`);
                        if (oldIn.name !== newIn.name) reasons.push(`domain name ${String(oldIn.name)} → ${String(newIn.name)}`);
                        if (reasons.length === 0)
                            reasons.push(step.replaceReasons.length > 0 ? `the domain XML (${step.replaceReasons.join(", ")})` : "the domain XML");
                        out.replaced.push({ guest, reasons, pinMoves: moves });
                    } else {
                        out.pinMoves.push(...moves);
                        for (const k of ["bootTimeoutSec", "consoleLog", "readyPattern"]) {
                            if (oldIn[k] !== newIn[k]) out.otherUpdates.push(`${guest}: ${k} ${String(oldIn[k])} → ${String(newIn[k])}`);
                        }
                        if (newLineage(oldIn, newIn)) out.otherUpdates.push(`${guest}: stamped with the stack's lineage (docs/ownership.md)`);
                    }
                }
                break;
            }
            case tokens.shmRegion: {
                const link = childName(step.name, `${podName}-link-`, "-shm");
                const planned = plan.links.find((l) => l.name === link);
                const entry: LinkChange = {
                    link,
                    members: planned?.members ?? [],
                    ...(typeof (newIn.sizeBytes ?? oldIn.sizeBytes) === "number" ? { sizeBytes: (newIn.sizeBytes ?? oldIn.sizeBytes) as number } : {}),
                    reasons: [],
                };
                if (op === "create") out.linksAdded.push(entry);
                else if (op === "delete") out.linksRemoved.push(entry);
                else if (op === "update") {
                    // A link's file is never changed in place: an update only stamps its ledger entry with the lineage.
                    if (newLineage(oldIn, newIn)) out.otherUpdates.push(`link ${link}: stamped with the stack's lineage (docs/ownership.md)`);
                } else {
                    for (const k of ["sizeBytes", "path", "hugepages", "uri"]) {
                        if (oldIn[k] !== newIn[k]) entry.reasons.push(`${k} ${String(oldIn[k])} → ${String(newIn[k])}`);
                    }
                    out.linksReplaced.push(entry);
                }
                break;
            }
            case tokens.hugepageReservation: {
                const num = (v: unknown) => (typeof v === "number" ? v : 0);
                const at = { ...oldIn, ...newIn };
                if (newLineage(oldIn, newIn)) out.otherUpdates.push(`hugepages on ${String(at.host)}: stamped with the stack's lineage (docs/ownership.md)`);
                if (op === "update" && oldIn.count === newIn.count) break;
                out.hugepages.push({
                    host: String(at.host),
                    node: num(at.node),
                    pageKiB: num(at.sizeKiB),
                    from: op === "create" ? 0 : num(oldIn.count),
                    to: op === "delete" ? 0 : num(newIn.count),
                });
                break;
            }
            case tokens.probeSuite:
                out.probes = op === "create" ? "first run" : op === "delete" ? "removed" : "runs again";
                break;
            case tokens.testPod:
            case tokens.nfvGuest:
            case tokens.ivshmemLink:
            // The stack's lineage is made once and holds nothing on a host; what takes it says so above.
            case tokens.stackLineage:
            case "pulumi:pulumi:Stack":
                // Components hold nothing of their own: their children say what changes.
                break;
            default:
                if (!step.type.startsWith("pulumi:providers:")) out.other.push(`${op} ${step.type} ${step.name}`);
        }
    }
    // A guest whose Domain is replaced as its two halves may also show as created; it is one replacement.
    const replacedGuests = new Set(out.replaced.map((r) => r.guest));
    out.newGuests = out.newGuests.filter((g) => !replacedGuests.has(g));
    out.removedGuests = out.removedGuests.filter((g) => !replacedGuests.has(g));
    // In the pod's order, as the placement table lists them; the engine's order is the order it registered them.
    const order = (g: string) => plan.guests.findIndex((p) => p.name === g) >>> 0;
    out.newGuests.sort((a, b) => order(a) - order(b));
    out.replaced.sort((a, b) => order(a.guest) - order(b.guest));
    return out;
}

/**
 * The update gives the resource its stack's lineage (a stack of an earlier
 * kit, docs/ownership.md); a preview shows the new lineage as unknown until
 * the StackLineage is made.
 */
function newLineage(oldIn: Record<string, unknown>, newIn: Record<string, unknown>): boolean {
    return !("lineage" in oldIn) && "lineage" in newIn;
}

/** `pod-vnf-domain` → `vnf`: the kit names children after their component (`<pod>-<guest>-domain`). */
function childName(name: string, prefix: string, suffix: string): string {
    let n = name;
    if (n.startsWith(prefix)) n = n.slice(prefix.length);
    if (n.endsWith(suffix)) n = n.slice(0, -suffix.length);
    return n;
}

function record(v: unknown): Record<string, string> {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, typeof x === "string" ? x : JSON.stringify(x)]));
}

/** `host CPU 1, FIFO 1` → { cpus: "1", fifo: "1" }; `host CPUs 0-1` → { cpus: "0-1" }. */
export function parsePin(text: string): { cpus: string; fifo?: string } {
    const m = /^host CPUs? ([^,]+)(?:, FIFO (\d+))?$/.exec(text.trim());
    if (!m) return { cpus: text };
    return m[2] !== undefined ? { cpus: m[1], fifo: m[2] } : { cpus: m[1] };
}

/** Threads in libvirt's order: vCPUs by number, then the emulator, then I/O threads. */
function threadOrder(thread: string): [number, number] {
    const m = /^(vCPU|iothread) (\d+)$/.exec(thread);
    if (!m) return [1, 0];
    return [m[1] === "vCPU" ? 0 : 2, Number(m[2])];
}

export function pinMoves(guest: string, before: Record<string, string>, after: Record<string, string>): PinMove[] {
    const threads = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((t) => before[t] !== undefined && after[t] !== undefined);
    threads.sort((a, b) => {
        const [ka, na] = threadOrder(a);
        const [kb, nb] = threadOrder(b);
        return ka - kb || na - nb;
    });
    const moves: PinMove[] = [];
    for (const thread of threads) {
        if (before[thread] === after[thread]) continue;
        const from = parsePin(before[thread]);
        const to = parsePin(after[thread]);
        moves.push({
            guest,
            thread,
            from: from.cpus,
            to: to.cpus,
            ...(from.fifo !== undefined ? { fifoFrom: from.fifo } : {}),
            ...(to.fifo !== undefined ? { fifoTo: to.fifo } : {}),
        });
    }
    return moves;
}

/** Fact names as a person says them. */
const FACT_WORDS: Record<string, string> = {
    accel: "accelerator",
    image: "guest image",
    vcpus: "vCPUs",
    memory: "memory",
    pageSize: "page size",
    numaNode: "NUMA node",
    rtVcpus: "RT vCPUs",
    iothreads: "I/O threads",
    kernelArgs: "guest kernel args",
};

/** Each fact that differs, in words: `memory 256 MiB → 512 MiB`, `link ring1 added`, `knob hpet false → true`. */
export function factChanges(before: Record<string, string>, after: Record<string, string>, linkName: (shm: string) => string): string[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    const changes: string[] = [];
    for (const key of keys) {
        const a = before[key];
        const b = after[key];
        if (a === b) continue;
        if (key.startsWith("shmem.")) {
            const link = linkName(key.slice("shmem.".length));
            changes.push(a === undefined ? `link ${link} added` : b === undefined ? `link ${link} removed` : `link ${link} ${a} → ${b}`);
            continue;
        }
        if (key.startsWith("vf.")) {
            const vf = `VF ${key.slice(3)}`;
            changes.push(a === undefined ? `${vf} added` : b === undefined ? `${vf} removed` : `${vf} set up differently`);
            continue;
        }
        const word = FACT_WORDS[key] ?? (key.startsWith("knobs.") ? `knob ${key.slice(6)}` : key);
        const show = (v: string) => (v === "" ? "(none)" : v);
        changes.push(a === undefined ? `${word} ${show(b)} (new)` : b === undefined ? `${word} ${show(a)} (gone)` : `${word} ${show(a)} → ${show(b)}`);
    }
    return changes;
}

function vfChanges(guest: string, before: Record<string, string>, after: Record<string, string>): VfChange[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k.startsWith("vf."));
    const out: VfChange[] = [];
    for (const key of keys) {
        const a = before[key];
        const b = after[key];
        if (a === b) continue;
        out.push({ guest, vf: key.slice(3), change: a === undefined ? `added: ${b}` : b === undefined ? `removed: ${a}` : `${a} → ${b}` });
    }
    return out;
}
