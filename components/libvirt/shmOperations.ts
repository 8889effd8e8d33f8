/**
 * The host side of an ivshmem link: the shared-memory file QEMU maps into
 * every member guest. QEMU creates the file when the first member starts; this
 * resource owns its life around that: it clears a stale file left by a crashed
 * run (a wrong size would stop the guests from starting) and removes the file
 * once every member guest is gone, so a destroy leaves nothing in /dev/shm.
 * Loaded by providerShell; no module-level state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { isLocalUri } from "./virsh";

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

export async function check(_olds: ShmRegionInputs, news: ShmRegionInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!isLocalUri(news.uri)) {
        failures.push({
            property: "uri",
            reason: `ivshmem links on ${news.uri} need the kit to manage files on that host, which only works for local URIs (qemu:///system) so far`,
        });
    }
    if (!path.isAbsolute(news.path ?? "")) failures.push({ property: "path", reason: "must be an absolute path" });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: ShmRegionInputs, news: ShmRegionInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = (["uri", "path", "sizeBytes", "hugepages"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: true };
}

export async function create(inputs: ShmRegionInputs): Promise<pulumi.dynamic.CreateResult> {
    const stat = await fs.stat(inputs.path).catch(() => undefined);
    if (stat) {
        const users = await processesMapping(inputs.path);
        if (users.length > 0) {
            throw new Error(
                `${inputs.path} is already mapped by process ${users.join(", ")}: another pod uses this link name. ` +
                    `Pick another link name or destroy that pod first.`,
            );
        }
        // Left by a crashed or hand-run guest: QEMU would refuse it if the size differs.
        await fs.rm(inputs.path, { force: true });
    }
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

export async function deleteRegion(_id: string, props: ShmRegionInputs): Promise<void> {
    await fs.rm(props.path, { force: true });
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
