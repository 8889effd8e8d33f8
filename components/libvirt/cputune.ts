/**
 * The `<cputune>` of a domain XML: the part libvirt can change on a running
 * guest. Parsed back from the XML the provider was given (the one source of
 * truth), and described in guest terms for previews:
 * `vCPU 1: "host CPU 1, FIFO 1" => "host CPU 0, FIFO 1"`.
 */
import { CpuSet } from "../spec/units";

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

const attr = (element: string, name: string) => new RegExp(`${name}=['"]([^'"]*)['"]`).exec(element)?.[1];

export function parseCputune(xml: string): Cputune {
    const block = /<cputune>([\s\S]*?)<\/cputune>/.exec(xml ?? "")?.[1] ?? "";
    const tune: Cputune = { vcpuPins: {}, emulatorPin: null, iothreadPins: {}, fifo: {} };
    for (const [element] of block.matchAll(/<vcpupin\b[^>]*>/g)) tune.vcpuPins[attr(element, "vcpu")!] = attr(element, "cpuset")!;
    for (const [element] of block.matchAll(/<emulatorpin\b[^>]*>/g)) tune.emulatorPin = attr(element, "cpuset")!;
    for (const [element] of block.matchAll(/<iothreadpin\b[^>]*>/g)) tune.iothreadPins[attr(element, "iothread")!] = attr(element, "cpuset")!;
    for (const [element] of block.matchAll(/<vcpusched\b[^>]*>/g)) {
        if (attr(element, "scheduler") !== "fifo") continue;
        for (const vcpu of CpuSet.parse(attr(element, "vcpus")!, "vcpusched").cpus) tune.fifo[String(vcpu)] = Number(attr(element, "priority") ?? 1);
    }
    return tune;
}

/** One line per thread, in the words of a placement table. */
export function describePinning(tune: Cputune): Record<string, string> {
    const cpus = (set: string) => (CpuSet.parse(set, "cpuset").cpus.length === 1 ? `host CPU ${set}` : `host CPUs ${set}`);
    const out: Record<string, string> = {};
    for (const [vcpu, set] of Object.entries(tune.vcpuPins)) {
        out[`vCPU ${vcpu}`] = tune.fifo[vcpu] !== undefined ? `${cpus(set)}, FIFO ${tune.fifo[vcpu]}` : cpus(set);
    }
    if (tune.emulatorPin) out.emulator = cpus(tune.emulatorPin);
    for (const [thread, set] of Object.entries(tune.iothreadPins)) out[`iothread ${thread}`] = cpus(set);
    return out;
}
