/**
 * The guest kernel arguments that keep the guest kernel's own housekeeping
 * (timer ticks, RCU callbacks, unbound IRQs, scheduler balancing) off its RT
 * vCPUs, mirroring what the host does for the host CPUs under them.
 */
import { formatCpuList } from "../spec/units";

export interface GuestCmdlineInput {
    /** Number of vCPUs of the guest. */
    vcpus: number;
    /** Guest CPU numbers (= vCPU numbers) that run RT work. */
    rtVcpus: number[];
    /** Add the isolation arguments. @default true */
    isolate?: boolean;
    /** Flags before the isolcpus list. @default ["managed_irq", "domain"] */
    isolcpusFlags?: string[];
    /** Appended as given. @default [] */
    extra?: string[];
}

/**
 * Builds the argument list. Isolation needs at least one housekeeping vCPU
 * left for the kernel (nohz_full refuses to take every CPU), so a guest whose
 * vCPUs are all RT gets no isolation arguments, only `extra`.
 *
 *   isolcpus=managed_irq,domain,<rt>  no scheduler balancing, no managed IRQs
 *   nohz_full=<rt>                    no periodic tick while one task runs
 *   rcu_nocbs=<rt>                    RCU callbacks run elsewhere
 *   irqaffinity=<housekeeping>        unmanaged IRQs default to housekeeping vCPUs
 */
export function buildGuestKernelArgs(input: GuestCmdlineInput): string[] {
    const args: string[] = [];
    const rt = [...new Set(input.rtVcpus)].filter((v) => v >= 0 && v < input.vcpus).sort((a, b) => a - b);
    const housekeeping = Array.from({ length: input.vcpus }, (_, v) => v).filter((v) => !rt.includes(v));
    if ((input.isolate ?? true) && rt.length > 0 && housekeeping.length > 0) {
        const list = formatCpuList(rt);
        const flags = input.isolcpusFlags ?? ["managed_irq", "domain"];
        args.push(`isolcpus=${[...flags, list].join(",")}`, `nohz_full=${list}`, `rcu_nocbs=${list}`, `irqaffinity=${formatCpuList(housekeeping)}`);
    }
    args.push(...(input.extra ?? []));
    return args;
}
