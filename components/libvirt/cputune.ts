/**
 * The `<cputune>` of a domain: the part libvirt can change on a running
 * guest. The kit's own comes typed from the plan (render/cputune.ts); this
 * reads the one libvirt returns (`virsh dumpxml`) into the same shape, and
 * describes either in guest terms for previews:
 * `vCPU 1: "host CPU 1, FIFO 1" => "host CPU 0, FIFO 1"`.
 */
import type { Cputune } from "../render/cputune";
import { CpuSet } from "../spec/units";

export type { Cputune } from "../render/cputune";

const attr = (element: string, name: string) => new RegExp(`${name}=['"]([^'"]*)['"]`).exec(element)?.[1];

/** The `<cputune>` of a domain XML as libvirt returns it. */
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
