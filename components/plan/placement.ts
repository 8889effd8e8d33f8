/**
 * The CPU/NUMA placement planner: which host CPU each vCPU, emulator thread
 * and I/O thread of each guest runs on. Pure and deterministic: the same
 * hosts and guests in the same order give the same plan.
 *
 * Rules, in order:
 *   1. Guests that list their CPUs are checked and placed first, so the
 *      planner works around them.
 *   2. RT vCPUs go to isolated CPUs of the guest's NUMA node, one vCPU per
 *      CPU, never shared with another guest. Whole free cores are taken first,
 *      and the SMT siblings of a chosen CPU are kept from other guests' RT
 *      vCPUs (a busy sibling steals execution units and cache).
 *   3. Housekeeping (non-RT) vCPUs share the housekeeping CPUs of the node,
 *      each on the least-loaded one.
 *   4. Emulator and I/O threads float over the housekeeping CPUs of the node.
 */
import type { SpecProblem } from "../spec/problems";
import type { HostTopology } from "../spec/types";
import { formatCpuList } from "../spec/units";

/** One vCPU's host CPU. */
export interface VcpuPin {
    vcpu: number;
    hostCpu: number;
    numaNode: number;
    /** "rt": exclusive isolated CPU under SCHED_FIFO; "housekeeping": shared housekeeping CPU. */
    role: "rt" | "housekeeping";
}

/** A host as the planner needs it. */
export interface PlacementHost {
    name: string;
    /** YAML path of the host, for problems, e.g. "hosts[0]". */
    path: string;
    topology: HostTopology;
    housekeepingCpus: number[];
    isolatedCpus: number[];
}

/** A guest as the planner needs it (fields already type-checked). */
export interface PlacementGuest {
    name: string;
    /** YAML path of the guest, for problems, e.g. "guests[1]". */
    path: string;
    host: string;
    vcpus: number;
    /** vCPU numbers that are real-time. */
    rtVcpus: number[];
    /** Explicit host CPUs, one per vCPU in vCPU order. */
    cpus?: number[];
    emulatorCpus?: number[];
    iothreads: number;
    iothreadCpus?: number[];
    /** Wanted NUMA node; when absent the planner picks one. */
    numaNode?: number;
}

/** Where one guest landed. */
export interface GuestPlacement {
    guest: string;
    numaNode: number;
    pins: VcpuPin[];
    emulatorCpus: number[];
    iothreadCpus: number[];
}

/** One pinned thread, as a line of the placement table. */
export interface PlacementRow {
    host: string;
    guest: string;
    /** vCPU number, "emulator" or "iothread<N>" (N from 1, as libvirt numbers I/O threads). */
    vcpu: number | "emulator" | `iothread${number}`;
    hostCpu: number;
    numaNode: number;
    /** "rt", "housekeeping", "emulator" or "iothread". */
    role: string;
}

export interface PlacementPlan {
    /** By guest name; only guests that could be placed. */
    placements: Record<string, GuestPlacement>;
    rows: PlacementRow[];
    /** Empty when every guest was placed. */
    problems: SpecProblem[];
}

/** Per-host bookkeeping while planning. */
interface HostState {
    host: PlacementHost;
    nodeOf: Map<number, number>;
    siblingsOf: Map<number, number[]>;
    /** CPU → guest holding it for an RT vCPU. */
    rtOwner: Map<number, string>;
    /** CPU → guest whose RT vCPU sits on a sibling (kept from other guests' RT vCPUs). */
    siblingOwner: Map<number, string>;
    /** CPU → number of housekeeping vCPUs on it. */
    sharedLoad: Map<number, number>;
    /** CPU → guest for every vCPU pinned so far (to report overlaps). */
    users: Map<number, { guest: string; vcpu: number; rt: boolean }[]>;
}

function hostState(host: PlacementHost): HostState {
    const nodeOf = new Map<number, number>();
    for (const node of host.topology.numaNodes) for (const cpu of node.cpus) nodeOf.set(cpu, node.id);
    const siblingsOf = new Map<number, number[]>();
    for (const group of host.topology.smtSiblings)
        for (const cpu of group)
            siblingsOf.set(
                cpu,
                group.filter((c) => c !== cpu),
            );
    return { host, nodeOf, siblingsOf, rtOwner: new Map(), siblingOwner: new Map(), sharedLoad: new Map(), users: new Map() };
}

function describeVcpu(guest: string, vcpu: number, rt: boolean): string {
    return `${rt ? "RT " : ""}vCPU ${vcpu} of guest ${guest}`;
}

function nodeCpus(state: HostState, node: number): number[] {
    return state.host.topology.numaNodes.find((n) => n.id === node)?.cpus ?? [];
}

function housekeepingOn(state: HostState, node: number): number[] {
    return state.host.housekeepingCpus.filter((cpu) => state.nodeOf.get(cpu) === node);
}

/** Isolated CPUs of `node` that guest `name` may still take for an RT vCPU. */
function freeIsolated(state: HostState, node: number, name: string): number[] {
    return state.host.isolatedCpus.filter((cpu) => {
        if (state.nodeOf.get(cpu) !== node || state.rtOwner.has(cpu)) return false;
        const sibOwner = state.siblingOwner.get(cpu);
        if (sibOwner !== undefined && sibOwner !== name) return false;
        // A CPU carrying someone's housekeeping vCPU is not free for an exclusive RT vCPU.
        return !(state.users.get(cpu) ?? []).length;
    });
}

function takeRt(state: HostState, cpu: number, guest: string, vcpu: number): void {
    state.rtOwner.set(cpu, guest);
    for (const sib of state.siblingsOf.get(cpu) ?? []) if (!state.siblingOwner.has(sib)) state.siblingOwner.set(sib, guest);
    addUser(state, cpu, guest, vcpu, true);
}

function addUser(state: HostState, cpu: number, guest: string, vcpu: number, rt: boolean): void {
    const list = state.users.get(cpu) ?? [];
    list.push({ guest, vcpu, rt });
    state.users.set(cpu, list);
    if (!rt) state.sharedLoad.set(cpu, (state.sharedLoad.get(cpu) ?? 0) + 1);
}

/** Picks `count` RT CPUs: one per fully free core first, then the rest of the free CPUs, both ascending. */
function chooseRtCpus(state: HostState, node: number, guest: string, count: number): number[] {
    const free = freeIsolated(state, node, guest);
    const freeSet = new Set(free);
    const chosen: number[] = [];
    const usedCores = new Set<number>();
    const coreOf = (cpu: number) => Math.min(cpu, ...(state.siblingsOf.get(cpu) ?? []));
    const wholeCoreFree = (cpu: number) => (state.siblingsOf.get(cpu) ?? []).every((s) => freeSet.has(s));
    for (const cpu of free) {
        if (chosen.length === count) break;
        if (!wholeCoreFree(cpu) || usedCores.has(coreOf(cpu))) continue;
        chosen.push(cpu);
        usedCores.add(coreOf(cpu));
    }
    for (const cpu of free) {
        if (chosen.length === count) break;
        if (!chosen.includes(cpu)) chosen.push(cpu);
    }
    return chosen.length === count ? chosen.sort((a, b) => a - b) : [];
}

function leastLoaded(state: HostState, cpus: number[]): number {
    let best = cpus[0];
    for (const cpu of cpus) if ((state.sharedLoad.get(cpu) ?? 0) < (state.sharedLoad.get(best) ?? 0)) best = cpu;
    return best;
}

/** Plans every guest; collects every problem rather than stopping at the first. */
export function planPlacement(hosts: PlacementHost[], guests: PlacementGuest[]): PlacementPlan {
    const problems: SpecProblem[] = [];
    const states = new Map(hosts.map((h) => [h.name, hostState(h)]));
    const placements: Record<string, GuestPlacement> = {};
    const problem = (path: string, value: unknown, reason: string, fix: string) => problems.push({ path, value, reason, fix });

    const explicit = guests.filter((g) => g.cpus !== undefined);
    const automatic = guests.filter((g) => g.cpus === undefined);

    for (const guest of explicit) {
        const state = states.get(guest.host);
        if (!state) continue; // unknown host: reported by the resolver
        const placement = placeExplicit(state, guest, problem);
        if (placement) placements[guest.name] = placement;
    }
    for (const guest of automatic) {
        const state = states.get(guest.host);
        if (!state) continue;
        const placement = placeAutomatic(state, guest, problem);
        if (placement) placements[guest.name] = placement;
    }
    // Emulator and I/O threads last: they never take CPUs from vCPUs.
    for (const guest of guests) {
        const state = states.get(guest.host);
        const placement = placements[guest.name];
        if (!state || !placement) continue;
        const threads = placeThreads(state, guest, placement.numaNode, problem);
        if (!threads) {
            delete placements[guest.name];
            continue;
        }
        placement.emulatorCpus = threads.emulatorCpus;
        placement.iothreadCpus = threads.iothreadCpus;
    }

    const rows: PlacementRow[] = [];
    for (const host of hosts) {
        for (const guest of guests) {
            const p = placements[guest.name];
            if (guest.host !== host.name || !p) continue;
            const state = states.get(host.name)!;
            const node = (cpu: number) => state.nodeOf.get(cpu) ?? -1;
            for (const pin of p.pins)
                rows.push({ host: host.name, guest: guest.name, vcpu: pin.vcpu, hostCpu: pin.hostCpu, numaNode: pin.numaNode, role: pin.role });
            for (const cpu of p.emulatorCpus)
                rows.push({ host: host.name, guest: guest.name, vcpu: "emulator", hostCpu: cpu, numaNode: node(cpu), role: "emulator" });
            for (let id = 1; id <= guest.iothreads; id++) {
                for (const cpu of p.iothreadCpus)
                    rows.push({ host: host.name, guest: guest.name, vcpu: `iothread${id}`, hostCpu: cpu, numaNode: node(cpu), role: "iothread" });
            }
        }
    }
    return { placements, rows, problems };
}

type Report = (path: string, value: unknown, reason: string, fix: string) => void;

function checkNode(state: HostState, guest: PlacementGuest, report: Report): boolean {
    if (guest.numaNode === undefined) return true;
    if (state.host.topology.numaNodes.some((n) => n.id === guest.numaNode)) return true;
    const ids = state.host.topology.numaNodes.map((n) => n.id).join(", ");
    report(`${guest.path}.numaNode`, guest.numaNode, `host ${state.host.name} has no NUMA node ${guest.numaNode} (it has ${ids})`, `use one of ${ids}`);
    return false;
}

function placeExplicit(state: HostState, guest: PlacementGuest, report: Report): GuestPlacement | undefined {
    const path = `${guest.path}.cpus`;
    const cpus = guest.cpus!;
    const host = state.host;
    if (!checkNode(state, guest, report)) return undefined;
    if (cpus.length !== guest.vcpus) {
        report(
            path,
            formatCpuList(cpus),
            `lists ${cpus.length} host CPU${cpus.length === 1 ? "" : "s"} for ${guest.vcpus} vCPU${guest.vcpus === 1 ? "" : "s"}`,
            `give one host CPU per vCPU (${guest.vcpus}), or leave cpus out and let the planner choose`,
        );
        return undefined;
    }
    let ok = true;
    const isolated = new Set(host.isolatedCpus);
    const housekeeping = new Set(host.housekeepingCpus);
    const rt = new Set(guest.rtVcpus);
    const pins: VcpuPin[] = [];
    const nodes = new Set<number>();
    cpus.forEach((cpu, vcpu) => {
        const node = state.nodeOf.get(cpu);
        const isRt = rt.has(vcpu);
        if (node === undefined) {
            report(
                path,
                formatCpuList(cpus),
                `puts vCPU ${vcpu} on CPU ${cpu}, which host ${host.name} does not have (it has ${formatCpuList(state.nodeOf.keys())})`,
                `use CPUs of host ${host.name}`,
            );
            ok = false;
            return;
        }
        nodes.add(node);
        if (isRt && !isolated.has(cpu)) {
            const what = housekeeping.has(cpu) ? "housekeeping" : "non-isolated";
            report(
                path,
                formatCpuList(cpus),
                `puts RT vCPU ${vcpu} on ${what} CPU ${cpu} of host ${host.name}`,
                `use isolated CPUs (${formatCpuList(host.isolatedCpus) || "none declared"}) for RT vCPUs, or drop ${vcpu} from rtVcpus`,
            );
            ok = false;
        }
        const clash = (state.users.get(cpu) ?? []).find((u) => isRt || u.rt);
        if (clash) {
            report(
                path,
                formatCpuList(cpus),
                `puts ${describeVcpu(guest.name, vcpu, isRt)} on host CPU ${cpu}, which already runs ${describeVcpu(clash.guest, clash.vcpu, clash.rt)}`,
                "give every RT vCPU a host CPU of its own",
            );
            ok = false;
        }
        const siblingOwner = state.siblingOwner.get(cpu);
        if (isRt && !clash && siblingOwner !== undefined && siblingOwner !== guest.name) {
            // The other thread of this core runs another guest's RT vCPU: the two share the core's execution units and caches.
            const sibling = (state.siblingsOf.get(cpu) ?? []).find((c) => state.rtOwner.get(c) === siblingOwner);
            report(
                path,
                formatCpuList(cpus),
                `puts RT vCPU ${vcpu} of guest ${guest.name} on host CPU ${cpu}, the SMT sibling of CPU ${sibling} that runs an RT vCPU of guest ${siblingOwner}`,
                "give RT vCPUs of different guests different cores (CPUs that are not SMT siblings)",
            );
            ok = false;
        }
        if (isRt) takeRt(state, cpu, guest.name, vcpu);
        else addUser(state, cpu, guest.name, vcpu, false);
        pins.push({ vcpu, hostCpu: cpu, numaNode: node, role: isRt ? "rt" : "housekeeping" });
    });
    if (!ok) return undefined;
    const rtNodes = new Set(pins.filter((p) => p.role === "rt").map((p) => p.numaNode));
    const numaNode = guest.numaNode ?? [...(rtNodes.size ? rtNodes : nodes)][0];
    if ((guest.numaNode !== undefined && [...nodes].some((n) => n !== guest.numaNode)) || nodes.size > 1) {
        report(
            path,
            formatCpuList(cpus),
            `spans NUMA nodes ${[...nodes].sort().join(" and ")} of host ${host.name}, but guest memory is bound to node ${numaNode}`,
            `use CPUs of node ${numaNode} only (${formatCpuList(nodeCpus(state, numaNode))})`,
        );
        return undefined;
    }
    return { guest: guest.name, numaNode, pins, emulatorCpus: [], iothreadCpus: [] };
}

function placeAutomatic(state: HostState, guest: PlacementGuest, report: Report): GuestPlacement | undefined {
    const host = state.host;
    if (!checkNode(state, guest, report)) return undefined;
    const rtCount = guest.rtVcpus.length;
    const needsHousekeeping = guest.vcpus > rtCount;
    let node = guest.numaNode;
    let rtCpus: number[] = [];
    if (node !== undefined) {
        rtCpus = rtCount ? chooseRtCpus(state, node, guest.name, rtCount) : [];
        if (rtCount && !rtCpus.length) {
            const free = freeIsolated(state, node, guest.name).length;
            report(
                `${guest.path}.rtVcpus`,
                guest.rtVcpus,
                `host ${host.name} node ${node} has ${free} free isolated CPU${free === 1 ? "" : "s"}, guest ${guest.name} needs ${rtCount}`,
                `isolate more CPUs on node ${node} of host ${host.name}, move another guest off it, or give guest ${guest.name} fewer RT vCPUs`,
            );
            return undefined;
        }
    } else {
        const candidates = host.topology.numaNodes.map((n) => n.id);
        for (const id of candidates) {
            if (needsHousekeeping && !housekeepingOn(state, id).length) continue;
            rtCpus = rtCount ? chooseRtCpus(state, id, guest.name, rtCount) : [];
            if (rtCpus.length === rtCount) {
                node = id;
                break;
            }
        }
        if (node === undefined && needsHousekeeping && candidates.every((id) => !housekeepingOn(state, id).length)) {
            report(
                `${guest.path}.rtVcpus`,
                guest.rtVcpus,
                `host ${host.name} has no housekeeping CPUs for the non-RT vCPUs of guest ${guest.name}`,
                `add a CPU to housekeepingCpus of host ${host.name}, or make every vCPU RT`,
            );
            return undefined;
        }
        if (node === undefined) {
            const counts = candidates.map((id) => `node ${id}: ${freeIsolated(state, id, guest.name).length}`).join(", ");
            report(
                `${guest.path}.rtVcpus`,
                guest.rtVcpus,
                `host ${host.name} has no NUMA node with ${rtCount} free isolated CPUs (${counts}), guest ${guest.name} needs ${rtCount}`,
                `isolate more CPUs on host ${host.name}, move another guest off it, or give guest ${guest.name} fewer RT vCPUs`,
            );
            return undefined;
        }
    }
    const shared = housekeepingOn(state, node);
    if (needsHousekeeping && !shared.length) {
        report(
            `${guest.path}.rtVcpus`,
            guest.rtVcpus,
            `host ${host.name} node ${node} has no housekeeping CPUs for the non-RT vCPUs of guest ${guest.name}`,
            `add a CPU of node ${node} to housekeepingCpus of host ${host.name}, or make every vCPU RT`,
        );
        return undefined;
    }
    const pins: VcpuPin[] = [];
    let next = 0;
    for (let vcpu = 0; vcpu < guest.vcpus; vcpu++) {
        if (guest.rtVcpus.includes(vcpu)) {
            const cpu = rtCpus[next++];
            takeRt(state, cpu, guest.name, vcpu);
            pins.push({ vcpu, hostCpu: cpu, numaNode: node, role: "rt" });
        } else {
            const cpu = leastLoaded(state, shared);
            addUser(state, cpu, guest.name, vcpu, false);
            pins.push({ vcpu, hostCpu: cpu, numaNode: node, role: "housekeeping" });
        }
    }
    return { guest: guest.name, numaNode: node, pins, emulatorCpus: [], iothreadCpus: [] };
}

function placeThreads(state: HostState, guest: PlacementGuest, node: number, report: Report): { emulatorCpus: number[]; iothreadCpus: number[] } | undefined {
    const host = state.host;
    const isolated = new Set(host.isolatedCpus);
    const shared = housekeepingOn(state, node);
    let ok = true;
    const pick = (given: number[] | undefined, field: string, what: string): number[] => {
        if (given === undefined) {
            if (!shared.length) {
                report(
                    `${guest.path}.${field}`,
                    given,
                    `host ${host.name} node ${node} has no housekeeping CPUs for the ${what} of guest ${guest.name}`,
                    `add a CPU of node ${node} to housekeepingCpus of host ${host.name}, or set ${field}`,
                );
                ok = false;
            }
            return shared;
        }
        for (const cpu of given) {
            if (!state.nodeOf.has(cpu)) {
                report(
                    `${guest.path}.${field}`,
                    formatCpuList(given),
                    `has CPU ${cpu}, which host ${host.name} does not have (it has ${formatCpuList(state.nodeOf.keys())})`,
                    `use housekeeping CPUs of host ${host.name} (${formatCpuList(host.housekeepingCpus)})`,
                );
                ok = false;
            } else if (isolated.has(cpu)) {
                report(
                    `${guest.path}.${field}`,
                    formatCpuList(given),
                    `puts the ${what} on isolated CPU ${cpu} of host ${host.name}`,
                    `use housekeeping CPUs (${formatCpuList(host.housekeepingCpus)}); isolated CPUs are for RT vCPUs`,
                );
                ok = false;
            }
        }
        return [...given].sort((a, b) => a - b);
    };
    const emulatorCpus = pick(guest.emulatorCpus, "emulatorCpus", "emulator threads");
    const iothreadCpus = guest.iothreads > 0 ? pick(guest.iothreadCpus, "iothreadCpus", "I/O threads") : [];
    return ok ? { emulatorCpus, iothreadCpus } : undefined;
}

/** The plan as a fixed-width table, one thread per line, for people. */
export function formatPlacementTable(rows: PlacementRow[]): string {
    const header = ["HOST", "GUEST", "THREAD", "HOST CPU", "NODE", "ROLE"];
    const cells = rows.map((r) => [r.host, r.guest, typeof r.vcpu === "number" ? `vcpu${r.vcpu}` : r.vcpu, String(r.hostCpu), String(r.numaNode), r.role]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c: string[]) =>
        c
            .map((v, i) => v.padEnd(widths[i]))
            .join("  ")
            .trimEnd();
    return [line(header), ...cells.map(line)].join("\n");
}
