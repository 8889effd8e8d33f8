/**
 * The checked pod spec: every field type-checked, every default filled, each
 * entry with the YAML path it came from. Nothing here is derived from more
 * than one field: CPU placement, hugepage demand and names are the plan's
 * (components/plan/podPlan.ts).
 */
import type { DomainKnobs } from "./knobs";
import type { SpecProblem } from "./problems";
import type { VfAttach } from "./types";
import type { HostTopology } from "./types";
import type { MacAddress, MemorySize, PciAddress } from "./units";

export interface CheckedPod {
    hosts: CheckedHost[];
    guests: CheckedGuest[];
    links: CheckedLink[];
}

/** One hugepage pool a host declares. */
export interface CheckedHugepagePool {
    node: number;
    sizeKiB: number;
    count: number;
    /** YAML path of the pool entry, for budget problems. */
    path: string;
}

export interface CheckedHost {
    name: string;
    /** YAML path of the host entry, e.g. "nfv-testpod:pod.hosts[0]". */
    path: string;
    /** libvirt URI. */
    uri: string;
    /** Accelerator asked for: "auto" lets the kit probe KVM and fall back to TCG. */
    accel: "auto" | "kvm" | "tcg";
    /** Declared topology, else the discovered one. */
    topology: HostTopology;
    /** Sorted CPU numbers. */
    housekeepingCpus: number[];
    /** Sorted CPU numbers. */
    isolatedCpus: number[];
    /** Hugepage pools, one entry per node and size. */
    hugepages: CheckedHugepagePool[];
    /** SR-IOV PFs declared for the host. */
    pfs: { name: string; vfCount?: number; numaNode?: number }[];
    /** Set when the kit manages the host's kernel, boot args and tuning (`manage: true`). */
    manage?: { kernelPackage: string; hwlat?: { seconds: number; targetUs: number } };
    /** SSH access, when declared; the key itself stays in the named secret config key, or in the user's ssh-agent. */
    ssh?: CheckedSsh;
}

/** A host's SSH access as checked: exactly one way to log in, and the pins inline or in a file the loader reads. */
export type CheckedSsh = { user: string; address: string; port: number } & ({ privateKeySecret: string } | { agent: true }) &
    ({ knownHosts?: string[] } | { knownHostsFile: string });

export interface CheckedVf {
    /** PF netdev name. */
    pf: string;
    /** VF index on the PF; a spec without it has a problem, so a planned pod always has it. */
    vf?: number;
    pciAddress: PciAddress;
    /** Unset: the driver's MAC. */
    mac?: MacAddress;
    vlan?: number;
    /** Not expressible in libvirt's hostdev interface: applied with `ip link set <pf> vf <vf> trust on|off`. */
    trust: boolean;
    /** Not expressible in libvirt's hostdev interface: applied with `ip link set <pf> vf <vf> spoofchk on|off`. */
    spoofchk: boolean;
    /** The form the guest takes the VF in (VfRequest.attach). */
    attach: VfAttach;
}

export interface CheckedGuest {
    name: string;
    /** YAML path of the guest entry, for placement and budget problems. */
    path: string;
    /** Host name. */
    host: string;
    vcpus: number;
    /** Sorted vCPU numbers that are real-time. */
    rtVcpus: number[];
    /** SCHED_FIFO priority of the RT vCPUs. */
    fifoPriority: number;
    /** Host CPUs as written, one per vCPU; unset: the planner chooses. */
    cpus?: number[];
    emulatorCpus?: number[];
    /** Number of I/O threads (ids 1..n). */
    iothreads: number;
    iothreadCpus?: number[];
    memory: MemorySize;
    /** 4K = ordinary pages (no hugepages), 2M or 1G. */
    pageSize: MemorySize;
    /** pageSize as written; undefined when the default applies (problems then say so). */
    pageSizeWritten: unknown;
    /** NUMA node asked for, or the node of the guest's VFs' PF; unset: the planner chooses. */
    numaNode?: number;
    vfs: CheckedVf[];
    /** What the guest kernel arguments are built from (plan/guestCmdline.ts). */
    kernel: { isolate?: boolean; isolcpusFlags?: string[]; extra?: string[]; quiet?: boolean };
    knobs: DomainKnobs;
}

export interface CheckedLink {
    name: string;
    size: MemorySize;
    /** Guest names. */
    members: string[];
    hugepages: boolean;
    /** Host of the member guests. */
    host: string;
}

/**
 * Every entry of the pod that has a usable name, even one with problems of its
 * own: what other settings refer to (the probe settings name guests, hosts and
 * links), so their references are checked whatever else is wrong.
 */
export interface PodNames {
    hosts: string[];
    guests: { name: string; host?: string; userNic: boolean; vfs: { pf: string; attach: VfAttach }[] }[];
    links: { name: string; members: string[] }[];
}

/** What the spec check found: the pod it could read, and every problem. */
export interface SpecCheck {
    /**
     * Complete when `problems` is empty. Otherwise the entries that could be
     * read, so the planner still reports placement problems in the same run:
     * hosts whose CPU lists had problems are left out, with their guests.
     */
    pod: CheckedPod;
    problems: SpecProblem[];
    /** Hosts whose hugepage pools had problems: their budgets are not checked, so no problem names a pool nobody wrote right. */
    unbudgetedHosts: string[];
    /** Every named entry, problems or not (PodNames). */
    names: PodNames;
}
