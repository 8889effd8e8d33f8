/**
 * Reads a host's CPU topology (NUMA nodes, SMT siblings) and hugepage pools
 * from `virsh capabilities`, so pod specs need not declare what the host can
 * tell us. Parsing is pure; discovery is one virsh call per host.
 */
import { CpuSet } from "../spec/units";
import { virsh, type HostAccess } from "./access";
import { problemError } from "../spec/problems";

/** A host's CPUs as the planner sees them. */
export interface DiscoveredTopology {
    /** NUMA nodes with their CPUs. */
    numaNodes: { id: number; cpus: number[] }[];
    /** Groups of CPUs that share a core (hyperthreads); single-thread cores are omitted. */
    smtSiblings: number[][];
    /** Hugepage pools per node: page size in KiB → pages currently in the pool. */
    hugepagePools: { node: number; sizeKiB: number; pages: number }[];
}

/** Parses the `<host><topology>` part of `virsh capabilities`. */
export function parseCapabilitiesTopology(xml: string): DiscoveredTopology {
    const numaNodes: DiscoveredTopology["numaNodes"] = [];
    const hugepagePools: DiscoveredTopology["hugepagePools"] = [];
    const siblingGroups = new Map<string, number[]>();
    const topology = /<topology>([\s\S]*?)<\/topology>/.exec(xml)?.[1];
    if (!topology) {
        throw problemError(
            "host facts",
            "topology",
            undefined,
            "is not in virsh capabilities' output, so the kit cannot discover the host's NUMA nodes",
            "declare topology in the host spec",
        );
    }
    for (const cell of topology.matchAll(/<cell id=['"](\d+)['"]>([\s\S]*?)<\/cell>/g)) {
        const node = Number(cell[1]);
        const cpus: number[] = [];
        for (const cpu of cell[2].matchAll(/<cpu id=['"](\d+)['"][^>]*?siblings=['"]([^'"]+)['"]/g)) {
            cpus.push(Number(cpu[1]));
            siblingGroups.set(cpu[2], [...CpuSet.parse(cpu[2], "siblings").cpus]);
        }
        for (const pages of cell[2].matchAll(/<pages unit=['"]KiB['"] size=['"](\d+)['"]>(\d+)<\/pages>/g)) {
            const sizeKiB = Number(pages[1]);
            if (sizeKiB > 4) hugepagePools.push({ node, sizeKiB, pages: Number(pages[2]) });
        }
        numaNodes.push({ id: node, cpus: cpus.sort((a, b) => a - b) });
    }
    const smtSiblings = [...siblingGroups.values()].filter((g) => g.length > 1).sort((a, b) => a[0] - b[0]);
    return { numaNodes, smtSiblings, hugepagePools };
}

/** Asks the host's libvirt for its topology (a libvirt URI is still taken, for code written before HostAccess gave one). */
export async function discoverTopology(host: HostAccess | string): Promise<DiscoveredTopology> {
    const args = ["capabilities"];
    const opts = { timeoutMs: 30_000 };
    return parseCapabilitiesTopology(await (typeof host === "string" ? virsh(host, args, opts) : host.virsh(args, opts)));
}
