/**
 * The pod plan: everything derived from the checked spec and the host facts,
 * computed once, in typed values. Components only walk it: TestPod reserves
 * `hosts[*].hugepages`, creates `links` and `guests`, and hands the guests'
 * probe views to the probe suite; NfvGuest renders `guests[i]`. Pure: no I/O,
 * no Pulumi.
 */
import type { Accel, AccelChoice } from "../host/accel";
import type { HostFacts } from "../host/facts";
import type { CheckedGuest, CheckedPod, CheckedSsh, CheckedVf, SpecCheck } from "../spec/checked";
import type { DomainKnobs } from "../spec/knobs";
import { deriveName } from "../spec/names";
import { ProblemListError, type SpecProblem } from "../spec/problems";
import type { HostTopology } from "../spec/types";
import { CpuSet, type MacAddress, type MemorySize, type PciAddress } from "../spec/units";
import { buildGuestKernelArgs } from "./guestCmdline";
import { guestFacts } from "./guestFacts";
import { buildHostKernelArgs } from "./hostCmdline";
import { countHugepages, type HugepageDemand } from "./hugepages";
import { planPlacement, type GuestPlacement, type PlacementRow, type VcpuPin } from "./placement";

export interface PodPlan {
    /** Prefix of every derived name (domains, shm files). */
    namePrefix: string;
    hosts: HostPlan[];
    guests: GuestPlan[];
    links: LinkPlan[];
    /** Every pinned thread of every guest, host by host: the placement table's rows. */
    placement: PlacementRow[];
}

export interface HostPlan {
    name: string;
    uri: string;
    /** KVM or TCG, and why (from the host facts; TCG when none were given). */
    accel: AccelChoice;
    topology: HostTopology;
    housekeepingCpus: CpuSet;
    isolatedCpus: CpuSet;
    /** The kernel command line the pod needs on this host (isolation, hugepages, IOMMU); printed, and compared with the running kernel. */
    kernelArgs: string[];
    /** Pages to reserve, per NUMA node and page size, for the guests and hugepage-backed links placed here. */
    hugepages: HostHugepages[];
    /** Per PF, what to do to its VFs. */
    pfs: PfPlan[];
    /** Everything the kit adapted to this host and why (accelerator, knobs it had to turn off). */
    notes: string[];
    ssh?: CheckedSsh;
    /** Set when the kit manages the host's kernel, boot args and tuning (an RtHost resource). */
    manage?: { kernelPackage: string; hwlat?: { seconds: number; targetUs: number } };
}

export type HostHugepages = Omit<HugepageDemand, "host">;

export interface PfPlan {
    name: string;
    vfCount?: number;
    numaNode?: number;
    /** The VFs the pod's guests take from this PF; a SriovPf resource creates and sets them. */
    vfs: VfAction[];
}

/** One VF to set up on its PF before its guest starts (`ip link set <pf> vf <vf> ...`). */
export interface VfAction {
    vf: number;
    /** The guest it is handed to. */
    guest: string;
    pciAddress: PciAddress;
    mac?: MacAddress;
    vlan?: number;
    trust: boolean;
    spoofchk: boolean;
}

/** A vCPU's host CPU, and the SCHED_FIFO priority it runs at (RT vCPUs under the vcpuSchedFifo knob only). */
export interface GuestPin extends VcpuPin {
    fifo?: number;
}

/** A guest's view of one ivshmem link. */
export interface GuestShmem {
    /** The shm name, host-unique: the link name under the pod's prefix. */
    name: string;
    /** The backing file: /dev/shm/<name>, or on hugetlbfs for a hugepage-backed link. */
    path: string;
    size: MemorySize;
    hugepages: boolean;
}

/** Which CPUs the probes measure and where their helpers run. */
export interface ProbeView {
    /** Guest CPU numbers of the real-time vCPUs. */
    rtVcpus: CpuSet;
    housekeepingVcpus: CpuSet;
    /** The host's housekeeping CPUs (where host load goes). */
    hostHousekeepingCpus: CpuSet;
}

/** What renderDomainXml needs besides the guest itself; the image paths and metadata come at deploy time. */
export interface GuestRenderSettings {
    /** "kvm" for hardware virtualization, "qemu" for TCG. */
    virtType: "kvm" | "qemu";
    /** Kernel command line before the guest's own `kernelArgs`. */
    baseCmdline: string;
    consoleLogPath: string;
}

/** One guest: what its domain XML is rendered from, and what previews and probes show of it. */
export interface GuestPlan {
    name: string;
    /** Host name. */
    host: string;
    uri: string;
    accel: Accel;
    /** libvirt domain name: prefix + guest name, length-safe. */
    domainName: string;
    /** Host path of the serial console log. */
    consoleLog: string;
    vcpus: number;
    /** One per vCPU, in vCPU order. */
    pins: GuestPin[];
    fifoPriority: number;
    emulatorCpus: CpuSet;
    /** Number of I/O threads (ids 1..n). */
    iothreads: number;
    /** Host CPUs every I/O thread is pinned to; empty when iothreads is 0. */
    iothreadCpus: CpuSet;
    memory: MemorySize;
    /** 4K = ordinary pages (no hugepages). */
    pageSize: MemorySize;
    /** Host NUMA node of memory and vCPUs. */
    numaNode: number;
    /** Guest kernel arguments isolating the RT vCPUs (after the base command line). */
    kernelArgs: string[];
    knobs: DomainKnobs;
    vfs: CheckedVf[];
    shmem: GuestShmem[];
    render: GuestRenderSettings;
    /** The Domain's `facts`, in preview words, without the image (known at deploy time). */
    facts: Record<string, string>;
    probe: ProbeView;
}

export interface LinkPlan {
    name: string;
    host: string;
    uri: string;
    /** Host-unique shm name: the link name under the pod's prefix. */
    shmName: string;
    /** The backing file QEMU maps. */
    path: string;
    size: MemorySize;
    /** Guest names. */
    members: string[];
    hugepages: boolean;
}

export interface PlanOptions {
    /** Prefix of every derived name, e.g. "nfvkit-ci". */
    namePrefix: string;
    /**
     * Host directory of the guests' serial console logs.
     * @default "/var/log/libvirt/qemu": where libvirt keeps its own per-domain logs, so virtlogd may write there.
     */
    consoleDir?: string;
    /**
     * hugetlbfs mount of hugepage-backed link files.
     * @default "/dev/hugepages": where tools/setup-host.sh mounts it.
     */
    hugetlbfsMount?: string;
}

/** Where placement left a pod: per guest, and the problems that kept guests unplaced. */
interface PodPlacement {
    placements: Record<string, GuestPlacement>;
    rows: PlacementRow[];
    demand: HugepageDemand[];
    problems: SpecProblem[];
}

/** Placement and hugepage budgets: the problems only planning finds. Runs on a partial pod too. */
function placePod(pod: CheckedPod, unbudgeted: readonly string[]): PodPlacement {
    const plan = planPlacement(
        pod.hosts.map((h) => ({ name: h.name, path: h.path, topology: h.topology, housekeepingCpus: h.housekeepingCpus, isolatedCpus: h.isolatedCpus })),
        pod.guests.map((g) => ({
            name: g.name,
            path: g.path,
            host: g.host,
            vcpus: g.vcpus,
            rtVcpus: g.rtVcpus,
            cpus: g.cpus,
            emulatorCpus: g.emulatorCpus,
            iothreads: g.iothreads,
            iothreadCpus: g.iothreadCpus,
            numaNode: g.numaNode,
        })),
    );
    const hugepages = countHugepages(pod.hosts, pod.guests, pod.links, (guest) => plan.placements[guest]?.numaNode, unbudgeted);
    return { placements: plan.placements, rows: plan.rows, demand: hugepages.demand, problems: [...plan.problems, ...hugepages.problems] };
}

/**
 * Plans a spec check's pod, or says why not: the spec's problems, then the
 * placement and hugepage problems (found on a pod with other problems too, so
 * one validation reports everything at once).
 */
export function tryPlanPod(check: SpecCheck, hostFacts: Record<string, HostFacts>, options: PlanOptions): { plan?: PodPlan; problems: SpecProblem[] } {
    const placed = placePod(check.pod, check.unbudgetedHosts);
    const problems = [...check.problems, ...placed.problems];
    if (problems.length > 0) return { problems };
    return { plan: assemble(check.pod, placed, hostFacts, options), problems: [] };
}

/** The plan of a checked pod (one whose check found no problem). Throws ProblemListError when the pod cannot be placed. */
export function planPod(checked: CheckedPod, hostFacts: Record<string, HostFacts> = {}, options: PlanOptions): PodPlan {
    const placed = placePod(checked, []);
    if (placed.problems.length > 0) throw new ProblemListError(placed.problems);
    return assemble(checked, placed, hostFacts, options);
}

const noFacts: AccelChoice = { accel: "tcg", reason: "TCG: no host facts given" };

function assemble(pod: CheckedPod, placed: PodPlacement, hostFacts: Record<string, HostFacts>, options: PlanOptions): PodPlan {
    const consoleDir = options.consoleDir ?? "/var/log/libvirt/qemu";
    const mount = (options.hugetlbfsMount ?? "/dev/hugepages").replace(/\/+$/, "");
    const hostsByName = new Map(pod.hosts.map((h) => [h.name, h]));
    const accelOf = (host: string) => hostFacts[host]?.accel ?? noFacts;

    const links: LinkPlan[] = pod.links.map((l) => {
        const shmName = deriveName(options.namePrefix, l.name);
        // libvirt's <shmem> always maps /dev/shm/<name>; a hugepage-backed region is QEMU's own file on hugetlbfs.
        const path = `${l.hugepages ? mount : "/dev/shm"}/${shmName}`;
        return { name: l.name, host: l.host, uri: hostsByName.get(l.host)!.uri, shmName, path, size: l.size, members: l.members, hugepages: l.hugepages };
    });

    const guests = pod.guests.map((g) => planGuest(g, placed.placements[g.name], links, accelOf(g.host).accel, hostsByName.get(g.host)!, consoleDir, options));

    const hosts = pod.hosts.map((h): HostPlan => {
        const accel = accelOf(h.name);
        const locking = hostFacts[h.name]?.memoryLocking;
        return {
            name: h.name,
            uri: h.uri,
            accel,
            topology: h.topology,
            housekeepingCpus: CpuSet.of(h.housekeepingCpus),
            isolatedCpus: CpuSet.of(h.isolatedCpus),
            kernelArgs: buildHostKernelArgs({
                isolatedCpus: h.isolatedCpus,
                housekeepingCpus: h.housekeepingCpus,
                hugepages: h.hugepages,
                iommu: pod.guests.some((g) => g.host === h.name && g.vfs.length > 0),
            }),
            hugepages: placed.demand.filter((d) => d.host === h.name).map(({ node, pageSize, pages }) => ({ node, pageSize, pages })),
            pfs: h.pfs.map((pf) => ({
                ...pf,
                vfs: vfActions(
                    pod.guests.filter((g) => g.host === h.name),
                    pf.name,
                ),
            })),
            notes: [accel.reason, ...(locking && !locking.supported ? [locking.reason] : [])],
            ...(h.ssh ? { ssh: h.ssh } : {}),
            ...(h.manage ? { manage: h.manage } : {}),
        };
    });

    return { namePrefix: options.namePrefix, hosts, guests, links, placement: placed.rows };
}

function planGuest(
    g: CheckedGuest,
    placement: GuestPlacement,
    links: LinkPlan[],
    accel: Accel,
    host: { uri: string; housekeepingCpus: number[] },
    consoleDir: string,
    options: PlanOptions,
): GuestPlan {
    const domainName = deriveName(options.namePrefix, g.name);
    const consoleLog = `${consoleDir}/${domainName}-console.log`;
    const pins: GuestPin[] = placement.pins.map((p) => (p.role === "rt" && g.knobs.vcpuSchedFifo ? { ...p, fifo: g.fifoPriority } : { ...p }));
    const shmem: GuestShmem[] = links
        .filter((l) => l.members.includes(g.name))
        .map((l) => ({ name: l.shmName, path: l.path, size: l.size, hugepages: l.hugepages }));
    const kernelArgs = buildGuestKernelArgs({ vcpus: g.vcpus, rtVcpus: g.rtVcpus, ...g.kernel });
    const planned = {
        vcpus: g.vcpus,
        pins,
        iothreads: g.iothreads,
        memory: g.memory,
        pageSize: g.pageSize,
        numaNode: placement.numaNode,
        kernelArgs,
        knobs: g.knobs,
        vfs: g.vfs,
        shmem,
    };
    return {
        name: g.name,
        host: g.host,
        uri: host.uri,
        accel,
        domainName,
        consoleLog,
        ...planned,
        fifoPriority: g.fifoPriority,
        emulatorCpus: CpuSet.of(placement.emulatorCpus),
        iothreadCpus: CpuSet.of(placement.iothreadCpus),
        render: { virtType: accel === "kvm" ? "kvm" : "qemu", baseCmdline: baseCmdline(g.name, g.kernel.quiet), consoleLogPath: consoleLog },
        facts: guestFacts(planned, accel),
        probe: {
            rtVcpus: CpuSet.of(pins.filter((p) => p.role === "rt").map((p) => p.vcpu)),
            housekeepingVcpus: CpuSet.of(pins.filter((p) => p.role !== "rt").map((p) => p.vcpu)),
            hostHousekeepingCpus: CpuSet.of(host.housekeepingCpus),
        },
    };
}

/** The VFs of `pf` the guests take, by index. A VF without an index is a spec problem, so none is left out of a valid pod. */
function vfActions(guests: CheckedGuest[], pf: string): VfAction[] {
    return guests
        .flatMap((g) =>
            g.vfs
                .filter((vf) => vf.pf === pf && vf.vf !== undefined)
                .map((vf): VfAction => ({
                    vf: vf.vf!,
                    guest: g.name,
                    pciAddress: vf.pciAddress,
                    ...(vf.mac ? { mac: vf.mac } : {}),
                    ...(vf.vlan !== undefined ? { vlan: vf.vlan } : {}),
                    trust: vf.trust,
                    spoofchk: vf.spoofchk,
                })),
        )
        .sort((a, b) => a.vf - b.vf);
}

/**
 * The kit's own part of a guest's command line: the serial console libvirt logs, `quiet` unless the spec says
 * otherwise (every console character is a trapped port write, and under TCG the boot log is most of the boot:
 * docs/pod-spec.md, kernelArgs.quiet), and the guest's name for its /init.
 */
export function baseCmdline(name: string, quiet?: boolean): string {
    return ["console=ttyS0", ...(quiet === false ? [] : ["quiet"]), `nfvkit.name=${name}`].join(" ");
}
