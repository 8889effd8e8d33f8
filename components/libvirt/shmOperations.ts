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
import * as path from "node:path";
import { accessOf, type HostAccess, type HostTarget } from "../host/access";
import { foreignEntry, listEntries, readEntry, removeEntry, writeEntry } from "../host/ledger";
import { describeStamp, foreignFix, isOwnStamp, type OwnerStamp } from "../types/ownership";
import type { OperationContext } from "../types/operations";
import { HostFileError } from "../host/access/errors";
import { problemError, type ProblemListError } from "../spec/problems";

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
    /** How the host is reached. @default this machine */
    access?: HostTarget;
    /**
     * The stack's lineage (StackLineage), stamped on the ledger entry with the URN: the same file
     * held by another state is refused, never adopted or removed.
     * @default none: the URN alone is the owner, as a kit from before lineages stamped it
     */
    lineage?: string;
}

export async function check(_olds: ShmRegionInputs, news: ShmRegionInputs): Promise<provider.CheckResult> {
    const failures: provider.CheckFailure[] = [];
    if (!path.isAbsolute(news.path ?? "")) failures.push({ property: "path", reason: "must be an absolute path" });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: ShmRegionInputs, news: ShmRegionInputs): Promise<provider.DiffResult> {
    const replaces = (["uri", "path", "sizeBytes", "hugepages"] as const).filter((k) => olds[k] !== news[k]);
    // A new lineage (a stack from before lineages) is an update: the entry is stamped again.
    const relabel = (olds.lineage ?? "") !== (news.lineage ?? "");
    return { changes: replaces.length > 0 || relabel, replaces, deleteBeforeReplace: true };
}

/** Another pod's link file at this path: the link's name, which the path is made of, is the input at fault. */
function linkTaken(file: string, how: string): ProblemListError {
    return problemError("link", "path", file, `${how}: another pod uses this link name`, "pick another link name, or destroy that pod first");
}

/** The same link of another state (a stack of the same name in another backend) holds the file. */
function linkOfAnotherState(file: string, holder: OwnerStamp, ctx: OperationContext): ProblemListError {
    return problemError(
        "link",
        "path",
        file,
        `belongs to ${describeStamp(holder, ctx)}; this stack neither takes nor removes it`,
        foreignFix(ctx, holder, `remove ${file} and its ledger entry on the host by hand once no guest maps it`),
    );
}

export async function create(inputs: ShmRegionInputs, ctx: OperationContext): Promise<provider.CreateResult> {
    const host = accessOf(inputs.access, inputs.uri);
    const sameUrn = await foreignEntry<{ path: string }>(host, LEDGER, ctx);
    if (sameUrn) throw linkOfAnotherState(sameUrn.holds.path, sameUrn, ctx);
    const holder = (await listEntries<{ path: string }>(host, LEDGER)).find((e) => e.holds.path === inputs.path && !isOwnStamp(e, ctx));
    if (holder) throw holder.urn === ctx.urn ? linkOfAnotherState(inputs.path, holder, ctx) : linkTaken(inputs.path, `belongs to ${holder.urn}`);
    const ours = (await readEntry<{ path: string }>(host, LEDGER, ctx))?.holds.path === inputs.path;
    if (await host.exists(inputs.path)) {
        const users = await processesMapping(host, inputs.path);
        // Our own file, still mapped by the guests of a run that died: adopt it as it is.
        if (ours && users.length > 0) return { id: inputs.path, outs: inputs };
        if (users.length > 0) throw linkTaken(inputs.path, `is already mapped by process ${users.join(", ")}`);
        // Left by a crashed or hand-run guest: QEMU would refuse it if the size differs.
        await host.remove(inputs.path);
    }
    await writeEntry(host, LEDGER, ctx, { path: inputs.path });
    await host.mkdir(path.dirname(inputs.path));
    if (inputs.hugepages) {
        // libvirt's own state directory is owned by the user it runs QEMU as.
        const qemu = await host.stat("/var/lib/libvirt/qemu");
        if (!qemu) throw new HostFileError(host.name, "/var/lib/libvirt/qemu", "stat", true, "is libvirt's QEMU driver installed there?");
        await host.writeFile(inputs.path, "", { mode: 0o600 });
        await host.chown(inputs.path, qemu.uid, qemu.gid);
    }
    return { id: inputs.path, outs: inputs };
}

/** The region exists while the ledger says this resource holds it; the file itself appears only once a member guest starts. */
export async function read(id: string, props: ShmRegionInputs, ctx: OperationContext): Promise<provider.ReadResult> {
    const entry = await readEntry<{ path: string }>(accessOf(props.access, props.uri), LEDGER, ctx);
    if (!entry || entry.holds.path !== props.path) return { id: "", props: {} };
    return { id, props };
}

/** Only the lineage changed (a stack from before lineages): the entry is stamped with the new one. */
export async function update(_id: string, olds: ShmRegionInputs, news: ShmRegionInputs, ctx: OperationContext): Promise<provider.UpdateResult> {
    const host = accessOf(news.access, news.uri);
    const foreign = await foreignEntry<{ path: string }>(host, LEDGER, ctx);
    if (foreign) throw linkOfAnotherState(news.path, foreign, ctx);
    if (await readEntry(host, LEDGER, ctx)) await writeEntry(host, LEDGER, ctx, { path: olds.path });
    return { outs: news };
}

export async function deleteRegion(_id: string, props: ShmRegionInputs, ctx: OperationContext): Promise<void> {
    const host = accessOf(props.access, props.uri);
    // Only a file this resource holds: another pod may have taken the name since, or the same link of another state holds it.
    const holder = (await listEntries<{ path: string }>(host, LEDGER)).find((e) => e.holds.path === props.path);
    if (holder && !isOwnStamp(holder, ctx)) {
        ctx.progress?.say(`${props.path} on ${props.uri} belongs to ${describeStamp(holder, ctx)}; left alone`);
    } else {
        await host.remove(props.path);
    }
    await removeEntry(host, LEDGER, ctx);
}
export { deleteRegion as delete };

/**
 * PIDs whose memory maps include `file` (what fuser would say, without needing
 * psmisc). The path reaches the script as an argument, never as script text.
 */
async function processesMapping(host: HostAccess, file: string): Promise<number[]> {
    const out = await host.run(["sh", "-c", 'grep -l -s -F -e "$1" /proc/[0-9]*/maps', "processes-mapping", file], { nothrow: true });
    return out.stdout
        .split("\n")
        .map((line) => /^\/proc\/(\d+)\/maps$/.exec(line.trim())?.[1])
        .filter((pid): pid is string => pid !== undefined)
        .map(Number);
}
