/**
 * The resolved pod: every default filled, every CPU chosen, every name
 * derived. This is what components, the renderer and the probes consume; no
 * field is optional unless it is truly absent in the world (a VF index).
 */
import type { PlacementRow } from "../plan/placement";
import type { DomainKnobs } from "./knobs";
import type { HostTopology } from "./types";

export interface ResolvedPod {
    hosts: ResolvedHost[];
    guests: ResolvedGuest[];
    links: ResolvedLink[];
    /** Every pinned thread of every guest, host by host, for the placement table. */
    placement: PlacementRow[];
    /** Hugepages the pod's guests and hugepage-backed links take, per host, NUMA node and page size (what it must reserve). */
    hugepageDemand: HugepageDemand[];
}

export interface HugepageDemand {
    host: string;
    node: number;
    sizeKiB: number;
    pages: number;
}

export interface ResolvedHost {
    name: string;
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
    /** Hugepage pools to reserve, one entry per node and size. */
    hugepages: { node: number; sizeKiB: number; count: number }[];
    /** SR-IOV PFs declared for the host. */
    pfs: { name: string; vfCount?: number; numaNode?: number }[];
    /** SSH access, when declared; the key itself stays in the named secret config key. */
    ssh?: { user: string; address: string; port: number; privateKeySecret: string };
}

/** One vCPU's host CPU. */
export interface VcpuPin {
    vcpu: number;
    hostCpu: number;
    numaNode: number;
    /** "rt": exclusive isolated CPU under SCHED_FIFO; "housekeeping": shared housekeeping CPU. */
    role: "rt" | "housekeeping";
}

export interface ResolvedVf {
    /** PF netdev name. */
    pf: string;
    /** VF index on the PF, when given. */
    vf?: number;
    /** Canonical "0000:01:10.2". */
    pciAddress: string;
    /** Canonical lower-case MAC. */
    mac?: string;
    vlan?: number;
    /** Not expressible in libvirt's hostdev interface: apply with `ip link set <pf> vf <vf> trust on|off`. */
    trust: boolean;
    /** Not expressible in libvirt's hostdev interface: apply with `ip link set <pf> vf <vf> spoofchk on|off`. */
    spoofchk: boolean;
}

/** A guest's view of one ivshmem link. */
export interface GuestShmem {
    /** The shm name (ResolvedLink.shmName): /dev/shm/<name>, or /dev/hugepages/<name> when hugepages. */
    name: string;
    sizeBytes: number;
    hugepages: boolean;
}

export interface ResolvedGuest {
    name: string;
    /** Host name. */
    host: string;
    /** libvirt domain name: prefix + guest name, length-safe. */
    domainName: string;
    vcpus: number;
    /** One per vCPU, in vCPU order. */
    pins: VcpuPin[];
    /** SCHED_FIFO priority of the RT vCPUs. */
    fifoPriority: number;
    /** Sorted host CPUs of the emulator threads. */
    emulatorCpus: number[];
    /** Number of I/O threads (ids 1..n). */
    iothreads: number;
    /** Sorted host CPUs every I/O thread is pinned to; [] when iothreads is 0. */
    iothreadCpus: number[];
    memoryMiB: number;
    /** 4 = ordinary pages (no hugepages), 2048 or 1048576. */
    pageSizeKiB: number;
    /** Host NUMA node of memory and vCPUs. */
    numaNode: number;
    /** Guest kernel arguments isolating the RT vCPUs (appended to the kit's base cmdline). */
    kernelArgs: string[];
    knobs: DomainKnobs;
    vfs: ResolvedVf[];
    shmem: GuestShmem[];
}

export interface ResolvedLink {
    name: string;
    sizeBytes: number;
    /** Guest names. */
    members: string[];
    hugepages: boolean;
    /** Host-unique shm name derived from the name prefix and the link name. */
    shmName: string;
    /** Host of the member guests. */
    host: string;
}
