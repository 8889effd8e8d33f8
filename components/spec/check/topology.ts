/** A host's `topology:` section: NUMA nodes and SMT siblings, each CPU in one node and one sibling group. */
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";
import type { HostTopology } from "../types";
import { readCpuSet } from "./fields";

export function readTopology(r: SpecReader, value: unknown, path: string): HostTopology | undefined {
    const spec = r.object(value, path, ["numaNodes", "smtSiblings"], ["numaNodes"]);
    if (!spec) return undefined;
    const nodesRaw = r.list(spec.numaNodes, joinPath(path, "numaNodes"), '[{ id: 0, cpus: "0-3" }]');
    if (!nodesRaw) return undefined;
    let ok = true;
    const owner = new Map<number, number>();
    const numaNodes: HostTopology["numaNodes"] = [];
    nodesRaw.forEach((item, i) => {
        const p = joinPath(joinPath(path, "numaNodes"), i);
        const node = r.object(item, p, ["id", "cpus"], ["id", "cpus"]);
        const id = r.integer(node?.id, joinPath(p, "id"), 0, 1023);
        const cpus = readCpuSet(r, node?.cpus, joinPath(p, "cpus"));
        if (id === undefined || cpus === undefined) return void (ok = false);
        if (numaNodes.some((n) => n.id === id)) {
            r.report(joinPath(p, "id"), id, `repeats NUMA node ${id}`, "give each node its own id");
            ok = false;
        }
        if (!cpus.length) {
            r.report(joinPath(p, "cpus"), node?.cpus, `lists no CPUs for node ${id}`, 'list the node\'s CPUs, e.g. "0-3"');
            ok = false;
        }
        for (const cpu of cpus) {
            if (owner.has(cpu)) {
                r.report(joinPath(p, "cpus"), node?.cpus, `has CPU ${cpu}, which is already in node ${owner.get(cpu)}`, "list each CPU in one node only");
                ok = false;
            }
            owner.set(cpu, id);
        }
        numaNodes.push({ id, cpus });
    });
    const smtSiblings: number[][] = [];
    const siblingsPath = joinPath(path, "smtSiblings");
    const groups = r.list(spec.smtSiblings, siblingsPath, '["0,4", "1,5"]') ?? [];
    const grouped = new Set<number>();
    groups.forEach((item, i) => {
        const p = joinPath(siblingsPath, i);
        const cpus = readCpuSet(r, item, p);
        if (!cpus) return void (ok = false);
        const siblingNodes = new Set(cpus.map((cpu) => owner.get(cpu)).filter((n) => n !== undefined));
        if (ok && siblingNodes.size > 1) {
            // Threads of one core share its caches and execution units, which sit on one node.
            r.report(
                p,
                item,
                `groups CPUs of NUMA nodes ${[...siblingNodes].join(" and ")}; SMT siblings are threads of one core, on one node`,
                "list the threads of each core as the host shows them (lscpu -e: same CORE, same NODE)",
            );
            ok = false;
        }
        for (const cpu of cpus) {
            if (ok && !owner.has(cpu)) {
                r.report(p, item, `has CPU ${cpu}, which is in no NUMA node`, "list only CPUs of the numaNodes");
                ok = false;
            }
            if (grouped.has(cpu)) {
                r.report(p, item, `has CPU ${cpu}, which is already in another sibling group`, "list each CPU in one group only");
                ok = false;
            }
            grouped.add(cpu);
        }
        if (cpus.length > 1) smtSiblings.push(cpus);
    });
    return ok ? { numaNodes: numaNodes.sort((a, b) => a.id - b.id), smtSiblings } : undefined;
}
