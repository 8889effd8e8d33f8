/**
 * What a host offers its guests besides CPUs: its hugepage pools (one per
 * NUMA node and page size) and its SR-IOV PFs. Read with or without a
 * topology; the NUMA nodes they name are checked against it when there is one.
 */
import type { CheckedHost } from "../checked";
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";
import type { HostTopology } from "../types";
import { MemorySize } from "../units";
import { netdevNamePattern } from "./fields";

/** `ok` is false when a pool entry is unusable: budgets on the host are then not checked, so no problem names a pool nobody wrote right. */
export function readPools(
    r: SpecReader,
    value: unknown,
    path: string,
    name: string | undefined,
    topology: HostTopology | undefined,
): { pools: CheckedHost["hugepages"]; ok: boolean } {
    const problemsBefore = r.problems.length;
    const pools: CheckedHost["hugepages"] = [];
    const poolPaths = new Map<string, string>();
    const items = r.list(value, path, "[{ node: 0, size: 2M, count: 256 }]") ?? [];
    items.forEach((poolItem, j) => {
        const pp = joinPath(path, j);
        const pool = r.object(poolItem, pp, ["node", "size", "count"], ["node", "size", "count"]);
        if (!pool) return;
        const node = r.integer(pool.node, joinPath(pp, "node"), 0, 1023);
        const size = pool.size === undefined ? undefined : r.unit(MemorySize.tryParse(pool.size, joinPath(pp, "size")));
        const count = r.integer(pool.count, joinPath(pp, "count"), 0, 1 << 24);
        if (node !== undefined && !hasNode(topology, node)) {
            r.report(joinPath(pp, "node"), node, `host ${name} has no NUMA node ${node}`, `use one of ${topology!.numaNodes.map((n) => n.id).join(", ")}`);
            return;
        }
        if (size && size.kibibytes !== 2048 && size.kibibytes !== 1048576) {
            r.report(joinPath(pp, "size"), pool.size, "is not a hugepage size", 'write "2M" or "1G"');
            return;
        }
        if (node === undefined || !size || count === undefined) return;
        const key = `${node}/${size.kibibytes}`;
        if (poolPaths.has(key)) {
            r.report(
                pp,
                poolItem,
                `repeats the ${size} pool of node ${node} declared at ${poolPaths.get(key)}`,
                "declare one pool per node and size, with the total count",
            );
            return;
        }
        poolPaths.set(key, pp);
        pools.push({ node, sizeKiB: size.kibibytes, count, path: pp });
    });
    return { pools, ok: r.problems.length === problemsBefore };
}

/** The host's PFs; `written` holds every PF name written, even unusable ones, so a VF that names one is not blamed again. */
export function readPfs(
    r: SpecReader,
    value: unknown,
    path: string,
    name: string | undefined,
    topology: HostTopology | undefined,
): { pfs: CheckedHost["pfs"]; written: Set<string> } {
    const pfs: CheckedHost["pfs"] = [];
    const written = new Set<string>();
    const items = r.list(value, path, "[{ name: enp1s0, vfCount: 8, numaNode: 0 }]") ?? [];
    const pfSeen = new Map<string, string>();
    items.forEach((pfItem, j) => {
        const pp = joinPath(path, j);
        const pf = r.object(pfItem, pp, ["name", "vfCount", "numaNode"], ["name"]);
        if (!pf) return;
        if (typeof pf.name === "string") written.add(pf.name);
        let pfName = r.string(pf.name, joinPath(pp, "name"));
        if (pfName !== undefined && !netdevNamePattern.test(pfName)) {
            r.report(
                joinPath(pp, "name"),
                pfName,
                "is not a network interface name",
                'write the PF\'s name as `ip link` shows it: up to 15 letters, digits, "_", "." and "-", e.g. enp1s0f0',
            );
            pfName = undefined;
        }
        const vfCount = r.integer(pf.vfCount, joinPath(pp, "vfCount"), 0, 4096);
        const numaNode = r.integer(pf.numaNode, joinPath(pp, "numaNode"), 0, 1023);
        if (numaNode !== undefined && !hasNode(topology, numaNode)) {
            r.report(
                joinPath(pp, "numaNode"),
                numaNode,
                `host ${name} has no NUMA node ${numaNode}`,
                `use one of ${topology!.numaNodes.map((n) => n.id).join(", ")}`,
            );
        }
        if (pfName === undefined) return;
        r.unique(pfName, joinPath(pp, "name"), pfSeen, "PF");
        pfs.push({ name: pfName, ...(vfCount !== undefined ? { vfCount } : {}), ...(numaNode !== undefined ? { numaNode } : {}) });
    });
    return { pfs, written };
}

/** True when the topology has the node, or when there is no topology to check it against. */
function hasNode(topology: HostTopology | undefined, node: number): boolean {
    return topology === undefined || topology.numaNodes.some((n) => n.id === node);
}
