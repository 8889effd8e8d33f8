/**
 * Room in a host's hugepage pool for a guest that is about to arrive by live
 * migration. A stack reserves the pages its plan counts on each host; a guest
 * the migration probe moves is counted on its own host only, so the
 * destination may have no free pages for it. This grows the destination's
 * pool by what is missing, for the time of the round trip, and gives exactly
 * that back afterwards. Hosts whose pool was sized at boot with room to spare
 * are left alone.
 */
import type { HostAccess } from "./access";
import { poolFile, readPool, withPoolLock } from "./hugepagePool";
import { settlePool } from "./hugepageOperations";

export interface HugepageNeed {
    node: number;
    sizeKiB: number;
    pages: number;
}

/** Grows the pool when fewer than `need.pages` are free; returns how to give back what was added (nothing when nothing was). */
export async function makeHugepageRoom(host: HostAccess, hostName: string, need: HugepageNeed, log: (line: string) => void): Promise<() => Promise<void>> {
    const free = await readPool(host, poolFile(need.node, need.sizeKiB, "free_hugepages"));
    const missing = need.pages - free;
    if (missing <= 0) return async () => undefined;
    // Under the pool's lock, after settling a reservation's interrupted change: the room must not land between
    // a dead run's pool write and the settling that compares the pool with what that run meant to do.
    const locked = <T>(work: (change: (delta: number) => Promise<{ before: number; after: number }>) => Promise<T>) =>
        withPoolLock(host, poolFile(need.node, need.sizeKiB, "nr_hugepages"), async (pool) => {
            await settlePool(host, pool, { host: hostName, node: need.node, sizeKiB: need.sizeKiB });
            return work(pool.change);
        });
    const added = await locked(async (change) => {
        const { before, after } = await change(missing);
        return Math.max(0, after - before);
    });
    log(`hugepages: ${hostName} node ${need.node} had ${free} free pages of ${need.sizeKiB} KiB for ${need.pages}; added ${added} for the migration`);
    return async () => {
        if (added === 0) return;
        await locked((change) => change(-added));
        log(`hugepages: gave back the ${added} pages added on ${hostName}`);
    };
}
