/**
 * The parts of a guest libvirt can change while it runs (`virsh vcpupin`,
 * `emulatorpin`, `iothreadpin`, `schedinfo`-style vcpusched). The provider
 * diffs these field by field, so a preview reads "vcpuPins.2: 6 → 7".
 */
import type { ResolvedGuest } from "../spec/resolved";
import { formatCpuList } from "../spec/units";

export interface LiveTunables {
    /** vCPU number → host CPU set, e.g. { "0": "1" }. */
    vcpuPins: Record<string, string>;
    /** Host CPU set of the QEMU emulator threads, e.g. "0". */
    emulatorPin: string;
    /** I/O thread id (from 1) → host CPU set. */
    iothreadPins: Record<string, string>;
    /** SCHED_FIFO priority of the RT vCPUs; 0 when the guest has none or vcpuSchedFifo is off. */
    fifoPriority: number;
}

export function liveTunables(guest: ResolvedGuest): LiveTunables {
    const vcpuPins: Record<string, string> = {};
    for (const pin of guest.pins) vcpuPins[String(pin.vcpu)] = String(pin.hostCpu);
    const iothreadPins: Record<string, string> = {};
    for (let id = 1; id <= guest.iothreads; id++) iothreadPins[String(id)] = formatCpuList(guest.iothreadCpus);
    const hasRt = guest.pins.some((p) => p.role === "rt");
    return {
        vcpuPins,
        emulatorPin: formatCpuList(guest.emulatorCpus),
        iothreadPins,
        fifoPriority: hasRt && guest.knobs.vcpuSchedFifo ? guest.fifoPriority : 0,
    };
}
