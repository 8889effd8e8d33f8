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
import { changePool, poolFile, readPool } from "./hugepagePool";

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
    const { before, after } = await changePool(host, poolFile(need.node, need.sizeKiB, "nr_hugepages"), missing);
    const added = Math.max(0, after - before);
    log(`hugepages: ${hostName} node ${need.node} had ${free} free pages of ${need.sizeKiB} KiB for ${need.pages}; added ${added} for the migration`);
    return async () => {
        if (added === 0) return;
        await changePool(host, poolFile(need.node, need.sizeKiB, "nr_hugepages"), -added);
        log(`hugepages: gave back the ${added} pages added on ${hostName}`);
    };
}
