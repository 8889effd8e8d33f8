/**
 * The spec's PFs against the PFs the kit found on the host (host facts): a PF
 * that is not there, more VFs than it offers, a NUMA node it is not on. Pure;
 * runs only for hosts whose PFs were read.
 */
import type { HostFacts } from "../host/facts";
import type { SpecProblem } from "../spec/problems";
import { joinPath } from "../spec/problems";

export function pfFactProblems(spec: unknown, hostFacts: Record<string, HostFacts> | undefined, podPath: string): SpecProblem[] {
    const problems: SpecProblem[] = [];
    const hosts = (spec as { hosts?: unknown } | null | undefined)?.hosts;
    if (!Array.isArray(hosts) || !hostFacts) return problems;
    hosts.forEach((h, i) => {
        const host = h as { name?: unknown; pfs?: unknown } | null;
        if (typeof host?.name !== "string" || !Array.isArray(host.pfs)) return;
        const found = hostFacts[host.name]?.pfs;
        if (!found) return;
        const listing =
            found.length === 0 ? "none" : found.map((p) => `${p.name} (${p.driver}, ${p.pciAddress}, ${p.totalVfs} VFs, node ${p.numaNode})`).join(", ");
        host.pfs.forEach((raw, j) => {
            const pf = raw as { name?: unknown; vfCount?: unknown; numaNode?: unknown } | null;
            if (typeof pf?.name !== "string") return;
            const path = joinPath(joinPath(joinPath(joinPath(podPath, "hosts"), i), "pfs"), j);
            const fact = found.find((f) => f.name === pf.name);
            if (!fact) {
                problems.push({
                    path: joinPath(path, "name"),
                    value: pf.name,
                    reason: `is not an SR-IOV PF of host ${host.name} (its PFs: ${listing})`,
                    fix:
                        found.length > 0
                            ? `use one of ${found.map((p) => p.name).join(", ")}`
                            : `enable SR-IOV on host ${host.name} (BIOS, intel_iommu=on) or remove the PF`,
                });
                return;
            }
            if (typeof pf.vfCount === "number" && pf.vfCount > fact.totalVfs) {
                problems.push({
                    path: joinPath(path, "vfCount"),
                    value: pf.vfCount,
                    reason: `is more than the ${fact.totalVfs} VFs PF ${fact.name} of host ${host.name} offers (sriov_totalvfs)`,
                    fix: `ask for at most ${fact.totalVfs}`,
                });
            }
            if (typeof pf.numaNode === "number" && pf.numaNode !== fact.numaNode) {
                problems.push({
                    path: joinPath(path, "numaNode"),
                    value: pf.numaNode,
                    reason: `is not the node of PF ${fact.name} (${fact.pciAddress}), which host ${host.name} reports on node ${fact.numaNode}`,
                    fix: `write numaNode: ${fact.numaNode}, or leave it out`,
                });
            }
        });
    });
    return problems;
}
