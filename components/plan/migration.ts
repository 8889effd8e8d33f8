/**
 * Where a guest lands when the live-migration probe moves it to another host
 * of the pod: planned from the pod's plan, with that host's facts (its
 * topology, which the plan took from discovery, and its CPU split) and next
 * to the guests the plan already placed there, by the same placement rules
 * as a guest declared on that host. Pure: the validation calls it to refuse a
 * migration with no room on its destination, and TestPod to give the probe
 * the destination's pins, emulator pin and FIFO priorities.
 */
import type { SpecProblem } from "../spec/problems";
import { CpuSet } from "../spec/units";
import { planPlacement, type PlacementGuest } from "./placement";
import type { GuestPin, PodPlan } from "./podPlan";

/** The moved guest's placement on its destination host. */
export interface MigrationDestination {
    guest: string;
    host: string;
    /** One per vCPU, in vCPU order, with FIFO priorities as on its own host. */
    pins: GuestPin[];
    emulatorCpus: CpuSet;
    iothreads: number;
    iothreadCpus: CpuSet;
    numaNode: number;
    /** The hugepages it takes there (its NUMA node and page size); absent for a 4K guest. */
    hugepages?: { node: number; sizeKiB: number; pages: number };
}

/**
 * Plans `guest` on `host`. Problems (no free isolated CPU for its RT vCPUs,
 * no housekeeping CPU on a node...) come in the plan's shape, with the reason
 * and the fix; the caller says where in the stack they belong.
 */
export function planMigrationDestination(plan: PodPlan, guest: string, host: string): { destination?: MigrationDestination; problems: SpecProblem[] } {
    const g = plan.guests.find((x) => x.name === guest);
    const h = plan.hosts.find((x) => x.name === host);
    if (!g || !h) return { problems: [{ path: "", value: guest, reason: `${!g ? `guest ${guest}` : `host ${host}`} is not in the plan`, fix: "" }] };
    const rtOf = (pins: GuestPin[]) => pins.filter((p) => p.role === "rt").map((p) => p.vcpu);
    // The host's own guests stay where the plan put them.
    const residents: PlacementGuest[] = plan.guests
        .filter((x) => x.host === host)
        .map((x) => ({
            name: x.name,
            path: `guests.${x.name}`,
            host,
            vcpus: x.vcpus,
            rtVcpus: rtOf(x.pins),
            cpus: x.pins.map((p) => p.hostCpu),
            emulatorCpus: [...x.emulatorCpus.cpus],
            iothreads: x.iothreads,
            ...(x.iothreads > 0 ? { iothreadCpus: [...x.iothreadCpus.cpus] } : {}),
            numaNode: x.numaNode,
        }));
    // The moved guest is placed as if declared there without CPUs of its own: its CPUs on its source say nothing here.
    const moved: PlacementGuest = { name: g.name, path: `guests.${g.name}`, host, vcpus: g.vcpus, rtVcpus: rtOf(g.pins), iothreads: g.iothreads };
    const placed = planPlacement(
        [
            {
                name: h.name,
                path: `hosts.${h.name}`,
                topology: h.topology,
                housekeepingCpus: [...h.housekeepingCpus.cpus],
                isolatedCpus: [...h.isolatedCpus.cpus],
            },
        ],
        [...residents, moved],
    );
    const placement = placed.placements[g.name];
    if (!placement) {
        const own = placed.problems.filter((p) => p.path.startsWith(moved.path));
        return { problems: own.length > 0 ? own : placed.problems };
    }
    const pins: GuestPin[] = placement.pins.map((p) => (p.role === "rt" && g.knobs.vcpuSchedFifo ? { ...p, fifo: g.fifoPriority } : { ...p }));
    const pageBytes = g.pageSize.bytes;
    return {
        destination: {
            guest,
            host,
            pins,
            emulatorCpus: CpuSet.of(placement.emulatorCpus),
            iothreads: g.iothreads,
            iothreadCpus: CpuSet.of(placement.iothreadCpus),
            numaNode: placement.numaNode,
            // 4K guests take ordinary memory: nothing to make room for.
            ...(pageBytes > 4096 ? { hugepages: { node: placement.numaNode, sizeKiB: pageBytes / 1024, pages: Math.ceil(g.memory.bytes / pageBytes) } } : {}),
        },
        problems: [],
    };
}
