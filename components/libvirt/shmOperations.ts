/**
 * The host side of an ivshmem link: the shared-memory file QEMU maps into
 * every member guest. QEMU creates the file when the first member starts; this
 * resource owns its life around that: it clears a stale file left by a crashed
 * run (a wrong size would stop the guests from starting) and removes the file
 * once every member guest is gone, so a destroy leaves nothing in /dev/shm.
 * The host's ledger (host/ledger.ts) records which resource holds the file, so
 * after a crash the same resource adopts it while its guests still map it,
 * and another pod's file is never taken. The Operations of the nfvkit
 * provider's ShmRegion.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { listEntries, readEntry, removeEntry, writeEntry } from "../host/ledger";
import type { OperationContext } from "../provider/operations";
import { isLocalUri } from "./virsh";

const LEDGER = "shm";

export interface ShmRegionInputs {
    /** libvirt URI of the host the members run on. */
    uri: string;
    /** Absolute path of the backing file on that host (/dev/shm/<name>, or a hugetlbfs file). */
    path: string;
    /** Size in bytes; a power of two. */
    sizeBytes: number;
    /**
     * The file is on hugetlbfs. QEMU opens it through a memory-backend-file that
     * libvirt does not relabel, so the kit creates it, owned by QEMU's user.
     */
    hugepages?: boolean;
}

export async function check(_olds: ShmRegionInputs, news: ShmRegionInputs): Promise<provider.CheckResult> {
    const failures: provider.CheckFailure[] = [];
    if (!isLocalUri(news.uri)) {
        failures.push({
            property: "uri",
            reason: `ivshmem links on ${news.uri} need the kit to manage files on that host, which only works for local URIs (qemu:///system) so far`,
        });
    }
    if (!path.isAbsolute(news.path ?? "")) failures.push({ property: "path", reason: "must be an absolute path" });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: ShmRegionInputs, news: ShmRegionInputs): Promise<provider.DiffResult> {
    const replaces = (["uri", "path", "sizeBytes", "hugepages"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}

export async function create(inputs: ShmRegionInputs, ctx: OperationContext): Promise<provider.CreateResult> {
    const holder = (await listEntries<{ path: string }>(LEDGER)).find((e) => e.holds.path === inputs.path && e.urn !== ctx.urn);
    if (holder) {
        throw new Error(`${inputs.path} belongs to ${holder.urn}: another pod uses this link name. Pick another link name or destroy that pod first.`);
    }
    const ours = (await readEntry<{ path: string }>(LEDGER, ctx.urn))?.holds.path === inputs.path;
    const stat = await fs.stat(inputs.path).catch(() => undefined);
    if (stat) {
        const users = await processesMapping(inputs.path);
        // Our own file, still mapped by the guests of a run that died: adopt it as it is.
        if (ours && users.length > 0) return { id: inputs.path, outs: inputs };
        if (users.length > 0) {
            throw new Error(
                `${inputs.path} is already mapped by process ${users.join(", ")}: another pod uses this link name. ` +
                    `Pick another link name or destroy that pod first.`,
            );
        }
        // Left by a crashed or hand-run guest: QEMU would refuse it if the size differs.
        await fs.rm(inputs.path, { force: true });
    }
    await writeEntry(LEDGER, ctx.urn, { path: inputs.path });
    await fs.mkdir(path.dirname(inputs.path), { recursive: true });
    if (inputs.hugepages) {
        // libvirt's own state directory is owned by the user it runs QEMU as.
        const qemu = await fs.stat("/var/lib/libvirt/qemu");
        const file = await fs.open(inputs.path, "w", 0o600);
        await file.close();
        await fs.chown(inputs.path, qemu.uid, qemu.gid);
    }
    return { id: inputs.path, outs: inputs };
}

/** The region exists while the ledger says this resource holds it; the file itself appears only once a member guest starts. */
export async function read(id: string, props: ShmRegionInputs, ctx: OperationContext): Promise<provider.ReadResult> {
    const entry = await readEntry<{ path: string }>(LEDGER, ctx.urn);
    if (!entry || entry.holds.path !== props.path) return { id: "", props: {} };
    return { id, props };
}

export async function deleteRegion(_id: string, props: ShmRegionInputs, ctx: OperationContext): Promise<void> {
    await fs.rm(props.path, { force: true });
    await removeEntry(LEDGER, ctx.urn);
}
export { deleteRegion as delete };

/** PIDs whose memory maps include `file` (what fuser would say, without needing psmisc). */
async function processesMapping(file: string): Promise<number[]> {
    const pids: number[] = [];
    for (const entry of await fs.readdir("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const maps = await fs.readFile(`/proc/${entry}/maps`, "utf8").catch(() => "");
        if (maps.includes(file)) pids.push(Number(entry));
    }
    return pids;
}
