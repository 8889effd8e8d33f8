/**
 * The kernel command line an RT KVM host needs for the pod planned on it,
 * computed from its CPU split and hugepage needs. The kit prints it (stack
 * output `hostKernelArgs`) and checks a running host against it (host
 * readiness); putting it on the host's boot loader is the operator's step.
 */
import { formatCpuList } from "../spec/units";

export interface HostCmdlineInput {
    /** CPUs reserved for real-time vCPUs. */
    isolatedCpus: number[];
    /** CPUs for the host's own work, emulator and I/O threads. */
    housekeepingCpus: number[];
    /** Hugepages the host must have at boot, per NUMA node and page size. */
    hugepages: { node: number; sizeKiB: number; count: number }[];
    /** Enable the IOMMU in passthrough mode (needed for SR-IOV VFs). */
    iommu: boolean;
}

const SIZE_NAMES: Record<number, string> = { 2048: "2M", 1048576: "1G" };

/**
 *   isolcpus=managed_irq,domain,<iso>  no scheduler balancing or managed IRQs on isolated CPUs
 *   nohz_full=<iso>, rcu_nocbs=<iso>   no tick and no RCU callbacks there while one vCPU runs
 *   irqaffinity=<housekeeping>         unmanaged IRQs default to housekeeping CPUs
 *   skew_tick=1, nosoftlockup          the realtime-virtual-host practice: less lock contention on ticks, no watchdog thread wakeups
 *   hugepagesz=<size> hugepages=<node>:<count>,...   per-node pools reserved at boot, before memory fragments
 *   intel_iommu=on iommu=pt            when VFs are passed through
 */
export function buildHostKernelArgs(input: HostCmdlineInput): string[] {
    const args: string[] = [];
    if (input.isolatedCpus.length > 0 && input.housekeepingCpus.length > 0) {
        const iso = formatCpuList(input.isolatedCpus);
        args.push(`isolcpus=managed_irq,domain,${iso}`, `nohz_full=${iso}`, `rcu_nocbs=${iso}`, `irqaffinity=${formatCpuList(input.housekeepingCpus)}`);
    }
    args.push("skew_tick=1", "nosoftlockup");
    const sizes = [...new Set(input.hugepages.filter((h) => h.count > 0).map((h) => h.sizeKiB))].sort((a, b) => a - b);
    if (sizes.length > 0) args.push(`default_hugepagesz=${SIZE_NAMES[sizes[sizes.length - 1]] ?? `${sizes[sizes.length - 1]}K`}`);
    for (const size of sizes) {
        const perNode = input.hugepages
            .filter((h) => h.sizeKiB === size && h.count > 0)
            .sort((a, b) => a.node - b.node)
            .map((h) => `${h.node}:${h.count}`)
            .join(",");
        args.push(`hugepagesz=${SIZE_NAMES[size] ?? `${size}K`}`, `hugepages=${perNode}`);
    }
    if (input.iommu) args.push("intel_iommu=on", "iommu=pt");
    return args;
}
