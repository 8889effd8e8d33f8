/**
 * A guest's `<cputune>` as plain, typed data: each vCPU's host CPUs and FIFO
 * priority, the emulator's and each I/O thread's CPUs. Made once from the
 * plan's pins; the renderer writes the XML element from it, NfvGuest hands it
 * to the Domain resource as its `cputune` input, and the provider compares and
 * applies it as values. XML is parsed only where libvirt returns it
 * (libvirt/cputune.ts reads `virsh dumpxml` into the same shape), never where
 * the kit rendered it.
 */
import type { GuestPlan } from "../plan/podPlan";
import { CpuSet, formatCpuList } from "../spec/units";

/** CPU sets are kept in libvirt's list form ("0-3,8"), so the state holds plain JSON; compare them with sameCputune. */
export interface Cputune {
    /** vCPU → host CPU set. */
    vcpuPins: Record<string, string>;
    /** Host CPU set of the emulator threads, if pinned. */
    emulatorPin: string | null;
    /** I/O thread id → host CPU set. */
    iothreadPins: Record<string, string>;
    /** vCPU → SCHED_FIFO priority, for the real-time vCPUs. */
    fifo: Record<string, number>;
}

/** What cputuneOf reads of a guest's plan (a test may move one pin without building a plan). */
export type CputuneGuest = Pick<GuestPlan, "pins" | "iothreads"> & { emulatorCpus: Iterable<number>; iothreadCpus: Iterable<number> };

/** The guest's cputune, from its planned pins. */
export function cputuneOf(guest: CputuneGuest): Cputune {
    const emulator = formatCpuList(guest.emulatorCpus);
    const iothread = formatCpuList(guest.iothreadCpus);
    const tune: Cputune = { vcpuPins: {}, emulatorPin: emulator === "" ? null : emulator, iothreadPins: {}, fifo: {} };
    for (const pin of guest.pins) {
        tune.vcpuPins[String(pin.vcpu)] = String(pin.hostCpu);
        if (pin.fifo !== undefined) tune.fifo[String(pin.vcpu)] = pin.fifo;
    }
    for (let id = 1; id <= guest.iothreads; id++) tune.iothreadPins[String(id)] = iothread;
    return tune;
}

/** The `<cputune>` element's lines: vCPU, emulator and I/O thread pinning and the RT scheduler, one `<vcpusched>` per FIFO priority. */
export function cputuneLines(tune: Cputune): string[] {
    const lines = ["<cputune>"];
    for (const [vcpu, cpus] of sortedEntries(tune.vcpuPins)) lines.push(`  <vcpupin vcpu='${vcpu}' cpuset='${cpus}'/>`);
    if (tune.emulatorPin) lines.push(`  <emulatorpin cpuset='${tune.emulatorPin}'/>`);
    for (const [id, cpus] of sortedEntries(tune.iothreadPins)) lines.push(`  <iothreadpin iothread='${id}' cpuset='${cpus}'/>`);
    const priorities = [...new Set(Object.values(tune.fifo))].sort((a, b) => a - b);
    for (const priority of priorities) {
        const vcpus = Object.entries(tune.fifo)
            .filter(([, p]) => p === priority)
            .map(([vcpu]) => Number(vcpu));
        lines.push(`  <vcpusched vcpus='${formatCpuList(vcpus)}' scheduler='fifo' priority='${priority}'/>`);
    }
    lines.push("</cputune>");
    return lines;
}

/** The same pins and priorities, whatever way each CPU set is written ("0-1" and "0,1" are one set). */
export function sameCputune(a: Cputune, b: Cputune): boolean {
    return JSON.stringify(normalCputune(a)) === JSON.stringify(normalCputune(b));
}

/** What differs from `before` to `after`, as values the provider applies live (a missing `before` changes everything). */
export function cputuneChanges(before: Cputune | undefined, after: Cputune) {
    const differs = (a: string | null | undefined, b: string) => a === null || a === undefined || normalCpus(a) !== normalCpus(b);
    return {
        vcpuPins: sortedEntries(after.vcpuPins).filter(([vcpu, cpus]) => differs(before?.vcpuPins[vcpu], cpus)),
        emulatorPin: after.emulatorPin !== null && differs(before?.emulatorPin, after.emulatorPin) ? after.emulatorPin : undefined,
        iothreadPins: sortedEntries(after.iothreadPins).filter(([id, cpus]) => differs(before?.iothreadPins[id], cpus)),
        fifo: sortedEntries(after.fifo).filter(([vcpu, priority]) => before?.fifo[vcpu] !== priority),
    };
}

function normalCputune(t: Cputune): unknown {
    const sets = (r: Record<string, string>) => sortedEntries(r).map(([k, v]) => [k, normalCpus(v)]);
    return {
        vcpuPins: sets(t.vcpuPins),
        emulatorPin: t.emulatorPin === null ? null : normalCpus(t.emulatorPin),
        iothreadPins: sets(t.iothreadPins),
        fifo: sortedEntries(t.fifo),
    };
}

function normalCpus(set: string): string {
    return CpuSet.parse(set, "cpuset").toString();
}

/** Entries by numeric key, as libvirt lists vCPUs and I/O threads. */
function sortedEntries<T>(r: Record<string, T>): [string, T][] {
    return Object.entries(r).sort(([a], [b]) => Number(a) - Number(b));
}
