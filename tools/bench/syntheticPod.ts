/**
 * A synthetic pod of any size for the preview benchmark: every host declares
 * its topology, CPU split, hugepage pools and accelerator, so the program asks
 * no libvirt daemon anything. Pure: size in, pod spec out.
 */
import { ProblemListError, type SpecProblem } from "../../components/spec/problems";
import type { GuestSpec, HostSpec, LinkSpec, PodSpec } from "../../components/spec/types";

/** How big a synthetic pod is. */
export interface SyntheticPodSize {
    /** Number of hosts. */
    hosts: number;
    /** Guests on each host, split evenly over its two NUMA nodes. @default 8 (512 guests on 64 hosts) */
    guestsPerHost?: number;
    /** ivshmem links on each host, each between a pair of guests there. @default guestsPerHost / 2 (every guest in one link) */
    linksPerHost?: number;
}

/**
 * libvirt's built-in test driver: no daemon needed. The program never
 * connects during a preview, since topology and accel are declared.
 */
export const BENCH_HOST_URI = "test:///default";

/** CPUs per NUMA node of a synthetic host (8 cores × 2 SMT threads). */
const CPUS_PER_NODE = 16;
const NODES = 2;
const CORES = (CPUS_PER_NODE * NODES) / 2;

/**
 * Guest shapes, cycled over each node's guests: a mix of RT and housekeeping
 * vCPUs. Per node they take at most 4 of the 7 isolated cores, so any even
 * guestsPerHost up to 8 plans.
 */
const GUEST_SHAPES: Array<Pick<GuestSpec, "vcpus" | "rtVcpus">> = [
    { vcpus: 3, rtVcpus: [1, 2] },
    { vcpus: 2, rtVcpus: [1] },
    { vcpus: 2, rtVcpus: [1] },
    { vcpus: 1, rtVcpus: [] },
];

const GUEST_MEMORY_MIB = 256;
const LINK_SIZE_MIB = 4;

function pad(n: number, width: number): string {
    return String(n).padStart(width, "0");
}

/** One host: 2 nodes × 16 CPUs, SMT pairs (c, c+16), core 0 of each node for housekeeping. */
function syntheticHost(name: string, guestsPerNode: number): HostSpec {
    const node0: number[] = [];
    const node1: number[] = [];
    for (let core = 0; core < CORES; core++) {
        (core < CORES / 2 ? node0 : node1).push(core, core + CORES);
    }
    const housekeeping = [0, CORES, CORES / 2, CORES / 2 + CORES];
    // Each node's guests' RAM and, at most, one hugepage-backed link per guest pair, in 2M pages.
    const pagesPerNode = (guestsPerNode * GUEST_MEMORY_MIB + Math.ceil(guestsPerNode / 2) * LINK_SIZE_MIB) / 2;
    return {
        name,
        // One test-driver URI per host: two entries for one libvirt host are refused.
        uri: `${BENCH_HOST_URI}/${name}`,
        accel: "tcg",
        topology: {
            numaNodes: [
                { id: 0, cpus: node0.sort((a, b) => a - b) },
                { id: 1, cpus: node1.sort((a, b) => a - b) },
            ],
            smtSiblings: Array.from({ length: CORES }, (_, core) => [core, core + CORES]),
        },
        housekeepingCpus: housekeeping.sort((a, b) => a - b),
        isolatedCpus: Array.from({ length: CORES * 2 }, (_, cpu) => cpu).filter((cpu) => !housekeeping.includes(cpu)),
        hugepages: [
            { node: 0, size: "2M", count: pagesPerNode },
            { node: 1, size: "2M", count: pagesPerNode },
        ],
    };
}

/**
 * A pod of `hosts` identical hosts, `guestsPerHost` guests on each (2M pages,
 * half on each node) and `linksPerHost` links between neighbouring guests.
 * Every other link is hugepage-backed, so both kinds of ivshmem are rendered.
 */
export function syntheticPod(size: SyntheticPodSize): PodSpec {
    const guestsPerHost = size.guestsPerHost ?? 8;
    const linksPerHost = size.linksPerHost ?? Math.floor(guestsPerHost / 2);
    const problems: SpecProblem[] = [];
    if (!Number.isInteger(size.hosts) || size.hosts < 1)
        problems.push({ path: "hosts", value: size.hosts, reason: "must be a whole number ≥ 1", fix: "give e.g. 16" });
    if (!Number.isInteger(guestsPerHost) || guestsPerHost < 2 || guestsPerHost > 8 || guestsPerHost % 2 !== 0) {
        problems.push({
            path: "guestsPerHost",
            value: guestsPerHost,
            reason: "must be 2, 4, 6 or 8: a host has room for 4 guests per NUMA node",
            fix: "give e.g. 8",
        });
    }
    if (!Number.isInteger(linksPerHost) || linksPerHost < 0 || linksPerHost > guestsPerHost / 2) {
        problems.push({
            path: "linksPerHost",
            value: linksPerHost,
            reason: `must be between 0 and guestsPerHost / 2 = ${guestsPerHost / 2}: links join disjoint guest pairs`,
            fix: `give at most ${Math.floor(guestsPerHost / 2)}`,
        });
    }
    if (problems.length > 0) throw new ProblemListError(problems, "synthetic pod size");
    const hostWidth = String(size.hosts - 1).length;
    const hosts: HostSpec[] = [];
    const guests: GuestSpec[] = [];
    const links: LinkSpec[] = [];
    const guestsPerNode = guestsPerHost / 2;
    for (let h = 0; h < size.hosts; h++) {
        const host = `h${pad(h, hostWidth)}`;
        hosts.push(syntheticHost(host, guestsPerNode));
        for (let g = 0; g < guestsPerHost; g++) {
            const node = g < guestsPerNode ? 0 : 1;
            guests.push({
                name: `${host}-g${g}`,
                host,
                ...GUEST_SHAPES[(g % guestsPerNode) % GUEST_SHAPES.length],
                memory: `${GUEST_MEMORY_MIB}M`,
                pageSize: "2M",
                numaNode: node,
            });
        }
        for (let l = 0; l < linksPerHost; l++) {
            // Guests 2l and 2l+1: always on one host, as ivshmem needs.
            links.push({ name: `${host}-l${l}`, size: `${LINK_SIZE_MIB}M`, members: [`${host}-g${2 * l}`, `${host}-g${2 * l + 1}`], hugepages: l % 2 === 1 });
        }
    }
    return { hosts, guests, links };
}
