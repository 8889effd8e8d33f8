/**
 * Hugepage demand: how many pages of which size each NUMA node of each host
 * must hold for the guests placed there and for hugepage-backed links, checked
 * against the pools the hosts declare. Pure; problems in the spec's shape.
 */
import type { CheckedGuest, CheckedHost, CheckedLink } from "../spec/checked";
import { joinPath, type SpecProblem } from "../spec/problems";
import { MemorySize } from "../spec/units";

/** Pages one host's NUMA node must hold, of one size (what a HugepageReservation reserves). */
export interface HugepageDemand {
    host: string;
    node: number;
    pageSize: MemorySize;
    pages: number;
}

const linkPageKiB = 2048;

/**
 * `nodeOf`: the NUMA node each placed guest landed on; unplaced guests are
 * skipped (their placement problem is already said). `unbudgeted`: hosts whose
 * pools had problems of their own.
 */
export function countHugepages(
    hosts: CheckedHost[],
    guests: CheckedGuest[],
    links: CheckedLink[],
    nodeOf: (guest: string) => number | undefined,
    unbudgeted: readonly string[] = [],
): { demand: HugepageDemand[]; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    const hostsByName = new Map(hosts.filter((h) => !unbudgeted.includes(h.name)).map((h) => [h.name, h]));
    const guestsByName = new Map(guests.map((g) => [g.name, g]));
    // Demand per host, node and page size: who needs how many pages.
    const demand = new Map<string, { host: CheckedHost; node: number; sizeKiB: number; users: { name: string; pages: number }[] }>();
    const need = (host: CheckedHost, node: number, sizeKiB: number, name: string, pages: number) => {
        const key = `${host.name}/${node}/${sizeKiB}`;
        const entry = demand.get(key) ?? { host, node, sizeKiB, users: [] };
        entry.users.push({ name, pages });
        demand.set(key, entry);
    };
    for (const g of guests) {
        const host = hostsByName.get(g.host);
        const node = nodeOf(g.name);
        const sizeKiB = g.pageSize.kibibytes;
        if (!host || node === undefined || sizeKiB === 4) continue;
        const pages = Math.ceil(g.memory.kibibytes / sizeKiB);
        const hasPool = host.hugepages.some((pool) => pool.node === node && pool.sizeKiB === sizeKiB);
        if (!hasPool) {
            problems.push({
                path: joinPath(g.path, "pageSize"),
                value: g.pageSizeWritten,
                ...(g.pageSizeWritten === undefined ? { shown: `nothing: the default ${g.pageSize}` } : {}),
                reason: `needs ${pages} ${g.pageSize} hugepages on node ${node} of host ${host.name}, which has no ${g.pageSize} pool there`,
                fix: `add { node: ${node}, size: ${g.pageSize}, count: ${pages} } to hugepages of host ${host.name}, or set pageSize: 4K`,
            });
            continue;
        }
        need(host, node, sizeKiB, `guest ${g.name}`, pages);
    }
    for (const link of links) {
        if (!link.hugepages) continue;
        // A hugepage-backed link takes its pages where its first member's memory is.
        const first = guestsByName.get(link.members[0]);
        const host = first && hostsByName.get(first.host);
        const node = first && nodeOf(first.name);
        if (!host || node === undefined) continue;
        need(host, node, linkPageKiB, `link ${link.name}`, link.size.bytes / (linkPageKiB * 1024));
    }
    for (const entry of demand.values()) {
        const pool = entry.host.hugepages.find((x) => x.node === entry.node && x.sizeKiB === entry.sizeKiB);
        const total = entry.users.reduce((sum, u) => sum + u.pages, 0);
        const size = MemorySize.ofKibibytes(entry.sizeKiB);
        if (!pool) {
            // Only links reach here (guests without a pool are reported above).
            problems.push({
                path: joinPath(entry.host.path, "hugepages"),
                value: entry.host.hugepages.map(({ node, sizeKiB, count }) => ({ node, sizeKiB, count })),
                reason: `has no ${size} pool on node ${entry.node}, needed by ${entry.users.map((u) => u.name).join(", ")}`,
                fix: `add { node: ${entry.node}, size: ${size}, count: ${total} }`,
            });
            continue;
        }
        if (total > pool.count) {
            const who = entry.users.length === 1 ? `${entry.users[0].name} needs` : `${entry.users.map((u) => `${u.name} (${u.pages})`).join(" and ")} need`;
            problems.push({
                path: `${pool.path}.count`,
                value: pool.count,
                reason: `is ${pool.count} ${size} pages on node ${entry.node} of host ${entry.host.name}, but ${who} ${total}`,
                fix: `raise count to ${total}, or give the guests less memory`,
            });
        }
    }
    return {
        demand: [...demand.values()].map((e) => ({
            host: e.host.name,
            node: e.node,
            pageSize: MemorySize.ofKibibytes(e.sizeKiB),
            pages: e.users.reduce((sum, u) => sum + u.pages, 0),
        })),
        problems,
    };
}
