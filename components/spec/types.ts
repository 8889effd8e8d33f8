/**
 * The pod spec as a user writes it (YAML under `config: nfv-testpod:pod`, or
 * a bare spec file). Everything here is plain data straight from YAML; the
 * resolver (resolve.ts) checks it, fills defaults and plans placement.
 * docs/pod-spec.md walks through every field with examples.
 */
import type { DomainKnobs } from "./knobs";

/** A whole pod: the hosts, the guests on them and the shared-memory links between guests. */
export interface PodSpec {
    /** KVM hosts the pod uses. At least one. */
    hosts: HostSpec[];
    /** VNF guests. At least one. */
    guests: GuestSpec[];
    /** ivshmem shared-memory links between guests on one host. @default [] */
    links?: LinkSpec[];
}

/** CPU and NUMA layout of a host, as `lscpu -p` or sysfs tell it. */
export interface HostTopology {
    /** NUMA nodes and their CPUs. A host without NUMA has one node, id 0. */
    numaNodes: { id: number; cpus: number[] }[];
    /** Groups of hyperthreads sharing one core, e.g. [[0, 4], [1, 5]]; empty when SMT is off. */
    smtSiblings: number[][];
}

/** Topology as written in YAML: CPU sets may be strings ("0-3") or lists. */
export interface HostTopologySpec {
    /** NUMA nodes. */
    numaNodes: { id: number; cpus: string | number[] }[];
    /** Hyperthread groups, each a CPU set. @default [] (no SMT) */
    smtSiblings?: (string | number[])[];
}

/** A hugepage pool the host reserves on one NUMA node. */
export interface HugepagePool {
    /** NUMA node of the pool. */
    node: number;
    /** Page size: "2M" or "1G" (the x86-64 hugepage sizes). */
    size: string;
    /** Number of pages to reserve. Guests on this node and page size share them. */
    count: number;
}

/** An SR-IOV physical function of a host, so VF requests can be checked. */
export interface PhysicalFunctionSpec {
    /** Netdev name of the PF, e.g. "enp1s0". */
    name: string;
    /** VFs the PF has (sriov_numvfs), when known. @default unknown: VF indexes are not checked */
    vfCount?: number;
    /** NUMA node the PF is attached to (sysfs numa_node); guests with its VFs default to it. @default unknown */
    numaNode?: number;
}

/** One KVM host. */
/** How the kit reaches a host over SSH. */
export interface HostSshSpec {
    /** Login user. @default "root": host tuning writes to /proc and /sys. */
    user?: string;
    /** Address to connect to. @default the host part of `uri`, else the host's name */
    address?: string;
    /** TCP port. @default 22 */
    port?: number;
    /**
     * Name of the secret stack config key (in the nfv-testpod namespace) that holds the
     * private key, set with `pulumi config set --secret <name> < ~/.ssh/id_ed25519`.
     * For unattended runs (CI). If this is set, `agent` cannot be.
     * @default none: required unless `agent` is true
     */
    privateKeySecret?: string;
    /**
     * Log in with the key in the running user's ssh-agent (SSH_AUTH_SOCK) instead of a
     * stack secret: for a person at a terminal, whose key then never enters the stack.
     * Every command that reaches the host later (refresh, destroy) needs the agent too.
     * If this is set, `privateKeySecret` cannot be. @default false
     */
    agent?: boolean;
    /**
     * The host's public keys, pinned: known_hosts lines as `ssh-keyscan -p <port> <address>`
     * prints them (or just "<type> <key>"). The kit never trusts an unpinned host.
     * Required when the kit connects (a remote host with guests), unless `knownHostsFile` is given.
     */
    knownHosts?: string | string[];
    /**
     * A known_hosts file that pins the host's keys, read when the stack is loaded (its
     * lines for this host go into the stack, so refresh and destroy need no file).
     * `~/` is the home folder; a relative name is taken from the project folder.
     * If this is set, `knownHosts` cannot be.
     */
    knownHostsFile?: string;
}

export interface HostSpec {
    /** Name used in guests' `host` field and in resource names. Letters, digits, "-" and "_". */
    name: string;
    /** libvirt connection URI. @default "qemu:///system" (the local system daemon, which can pin and lock memory) */
    uri?: string;
    /**
     * SSH access to the host for host-side work (kernel arguments, IRQ affinity,
     * VF creation). The private key is never written in the spec: it names a
     * secret stack config key that holds it, so it stays encrypted in the stack
     * file and is a Pulumi secret in the program.
     * @default none: only libvirt (through `uri`) is used.
     */
    ssh?: HostSshSpec;
    /**
     * Accelerator: "kvm", "tcg" (software emulation), or "auto" to use KVM
     * when the host's /dev/kvm runs guests and TCG otherwise. @default "auto"
     */
    accel?: "auto" | "kvm" | "tcg";
    /**
     * CPU and NUMA layout. Declared values win over what the kit discovers from
     * a reachable host. @default discovered from the host
     */
    topology?: HostTopologySpec;
    /**
     * CPUs left to the host OS, emulator threads, I/O threads and non-RT vCPUs.
     * @default the first CPU of each NUMA node with its SMT siblings, or every
     * CPU not in isolatedCpus when that is given (the host needs somewhere to run)
     */
    housekeepingCpus?: string | number[];
    /**
     * CPUs isolated from the host scheduler (isolcpus/nohz_full on the host);
     * RT vCPUs go only here, one vCPU per CPU.
     * @default every CPU not in housekeepingCpus
     */
    isolatedCpus?: string | number[];
    /** Hugepage pools to reserve. @default [] (guests then need pageSize: 4K) */
    hugepages?: HugepagePool[];
    /** SR-IOV PFs whose VFs guests may take. @default [] (no VFs can be requested) */
    pfs?: PhysicalFunctionSpec[];
    /**
     * Let the kit bring the host itself to what the pod needs (docs/rt-hosts.md): the
     * PREEMPT_RT kernel installed and booted by default, the computed boot args in the kit's
     * own GRUB file, and the runtime tuning (RT throttling, IRQ affinity, kernel-thread
     * priorities, THP, KSM, kvm parameters). A reboot it needs happens only when the stack
     * sets `nfv-testpod:allowHostReboot: true`; otherwise `up` stops and says what the host needs.
     * @default false: the host's kernel and boot loader are the operator's; the kit only compares (hostReadiness)
     */
    manage?: boolean;
    /** The Debian package of the RT kernel a managed host boots. @default "linux-image-rt-amd64" */
    kernelPackage?: string;
    /**
     * The hardware latency run on a managed host after each change (docs/rt-hosts.md): how long the hwlat tracer
     * runs, and the gap above which its readiness row fails. Only with `manage: true`.
     * @default { seconds: 10, targetUs: 10 } (hwlatdetect's defaults: on hardware, a gap above 10 µs is an SMI or firmware stall)
     */
    hwlat?: HostHwlatSpec;
    /**
     * Knob defaults for every guest on this host, for hosts that cannot do
     * what the kit's defaults ask (e.g. `locked: false` where QEMU may not
     * raise its locked-memory limit). A guest's own `knobs` still win.
     * @default {} (the kit's defaults, see DomainKnobs)
     */
    guestKnobs?: Partial<DomainKnobs>;
}

/** An SR-IOV VF given to a guest as a hostdev interface. */
export interface VfRequest {
    /** Name of the PF the VF belongs to; must be in the host's `pfs`. */
    pf: string;
    /** VF index on the PF. Needed to set trust or spoofchk (`ip link set <pf> vf <n> ...`). @default unknown */
    vf?: number;
    /** PCI address of the VF, "0000:01:10.2". */
    pciAddress: string;
    /** MAC address libvirt sets on the VF. @default left to the VF driver */
    mac?: string;
    /** VLAN tag libvirt sets on the VF (1-4094). @default untagged */
    vlan?: number;
    /** Trusted VF (may change its MAC, go promiscuous). @default false: least privilege */
    trust?: boolean;
    /** Source MAC anti-spoofing on the VF. @default true: the driver's safe default */
    spoofchk?: boolean;
    /**
     * How the guest is given the VF, both through VFIO:
     * - "interface": `<interface type='hostdev' managed='yes'>`; libvirt sets the MAC and VLAN
     *   on the VF and knows the device as the guest's NIC (`virsh domiflist`);
     * - "hostdev": `<hostdev mode='subsystem' type='pci' managed='yes'>`, a plain PCI device;
     *   MAC and VLAN are set by the kit's SriovPf (`ip link set <pf> vf N mac … vlan …`) only.
     * @default "interface"
     */
    attach?: VfAttach;
}

/** The forms in which a guest takes a VF (VfRequest.attach). */
export const VF_ATTACH = ["interface", "hostdev"] as const;
export type VfAttach = (typeof VF_ATTACH)[number];

/** Options of the guest kernel command line the kit builds. */
export interface GuestKernelArgsSpec {
    /**
     * Add isolcpus, nohz_full, rcu_nocbs and irqaffinity so the guest kernel
     * keeps its own housekeeping off the RT vCPUs. @default true
     */
    isolate?: boolean;
    /** isolcpus flags placed before the CPU list. @default ["managed_irq", "domain"] (also move managed IRQs off RT vCPUs) */
    isolcpusFlags?: string[];
    /** Extra arguments appended as given. @default [] */
    extra?: string[];
    /**
     * Keep boot messages below errors off the serial console (`quiet`); the guest's dmesg still has them all. Printing
     * them is most of a TCG guest's boot (a 13 s boot here is 4 s without them), and the console still shows errors,
     * panics and the kit's ready line. Set false to watch every line of a boot you are debugging. @default true
     */
    quiet?: boolean;
}

/** A managed host's hardware latency run. */
export interface HostHwlatSpec {
    /** Seconds the tracer runs (1-600). @default 10 */
    seconds?: number;
    /** Gaps above this many µs are recorded, and the readiness row passes when none is (1-1000000). @default 10 */
    targetUs?: number;
}

/** One VNF guest. */
export interface GuestSpec {
    /** Guest name; the libvirt domain name is derived from it and the stack's name prefix. Letters, digits, "-" and "_". */
    name: string;
    /** Host the guest runs on. @default the only host, when there is exactly one */
    host?: string;
    /** Number of vCPUs. @default 1 */
    vcpus?: number;
    /**
     * vCPUs that run real-time work: pinned to isolated host CPUs, alone, under
     * SCHED_FIFO. @default every vCPU but 0 when vcpus > 1 (vCPU 0 keeps the
     * guest's housekeeping, as OpenStack's hw:cpu_realtime_mask=^0), else [0]
     */
    rtVcpus?: number[];
    /** SCHED_FIFO priority of RT vCPUs (1-99). @default 1 (above every SCHED_OTHER task, below the host's kernel threads) */
    fifoPriority?: number;
    /** Host CPUs, one per vCPU in ascending order (vCPU 0 gets the lowest). @default chosen by the planner */
    cpus?: string | number[];
    /** Host CPUs of the QEMU emulator threads. @default the housekeeping CPUs of the guest's NUMA node */
    emulatorCpus?: string | number[];
    /** Number of I/O threads. @default 0 (guests boot from kernel and initrd, with no disks to serve) */
    iothreads?: number;
    /** Host CPUs of the I/O threads. @default the housekeeping CPUs of the guest's NUMA node */
    iothreadCpus?: string | number[];
    /** Guest RAM, e.g. "256M". A multiple of pageSize. */
    memory: string | number;
    /** Page size backing guest RAM: "4K" (no hugepages), "2M" or "1G". @default "2M" (or "4K" when knobs.hugepages is false) */
    pageSize?: string;
    /** NUMA node of the guest's memory and vCPUs. @default the node of its VFs' PF, else of its cpus, else the first node with room */
    numaNode?: number;
    /** SR-IOV VFs. @default [] */
    vfs?: VfRequest[];
    /** Guest kernel command line options. */
    kernelArgs?: GuestKernelArgsSpec;
    /** Domain knob overrides; see DomainKnobs for each default. */
    knobs?: Partial<DomainKnobs>;
}

/** An ivshmem shared-memory region between guests on one host. */
export interface LinkSpec {
    /** Link name; the shm name is derived from it. Letters, digits, "-" and "_". */
    name: string;
    /** Size: a power of two, at least 1M (an ivshmem BAR is a power of two). @default "4M" */
    size?: string | number;
    /** Names of the guests sharing the region; at least two, on one host. */
    members: string[];
    /** Back the region with hugepages (a memory-backend-file on hugetlbfs) instead of /dev/shm. @default false */
    hugepages?: boolean;
}
