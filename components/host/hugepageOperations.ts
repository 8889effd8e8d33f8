/**
 * Reserves hugepages on one NUMA node of a host for the pod's guests and hands
 * them back on destroy. Reservations add to what the host already has, so
 * pods and other users of hugepages can share a host. What each reservation
 * added is kept in the host's ledger (host/ledger.ts), so a run that dies
 * half-way is neither counted twice nor leaked. The Operations of the
 * nfvkit provider's HugepageReservation.
 */
import type * as provider from "@pulumi/pulumi/provider";
import type { OperationContext } from "../types/operations";
import { accessOf, type HostAccess, type HostTarget } from "./access";
import { changePool, poolChangeArgv, poolDir, poolFile, readPool } from "./hugepagePool";
import { entryPath, foreignEntry, readEntry, removeEntry, writeEntry, type LedgerEntry } from "./ledger";
import { HostCommandError } from "./access/errors";
import { problemError, type ProblemListError } from "../spec/problems";
import { describeStamp, foreignFix, type Owner } from "../types/ownership";

export interface HugepageReservationInputs {
    /** libvirt URI of the host. */
    uri: string;
    /** Host name in the pod spec, for messages. */
    host: string;
    /** NUMA node. */
    node: number;
    /** Page size in KiB (2048 or 1048576). */
    sizeKiB: number;
    /** Pages to add to the node's pool. */
    count: number;
    /** How the host is reached. @default this machine */
    access?: HostTarget;
    /**
     * The stack's lineage (StackLineage), stamped on the ledger entry with the URN: an entry of the
     * same URN from another state is refused, never adopted or given back.
     * @default none: the URN alone is the owner, as a kit from before lineages stamped it
     */
    lineage?: string;
}

export interface HugepageReservationOutputs extends HugepageReservationInputs {
    /** Pool size on the node after the reservation (at the last create, update or refresh). */
    poolAfter: number;
}

/** The ledger's record of one reservation. */
interface Held {
    node: number;
    sizeKiB: number;
    count: number;
    /** The pool before this reservation's change, and whether the change is known to have been made. */
    poolBefore: number;
    phase: "adding" | "held" | "releasing";
}

const LEDGER = "hugepages";

async function poolSize(host: HostAccess, r: Pick<HugepageReservationInputs, "host" | "node" | "sizeKiB">): Promise<number> {
    const dir = poolDir(r.node, r.sizeKiB);
    return readPool(host, `${dir}/nr_hugepages`).catch(() => {
        throw problemError(
            "hugepage reservation",
            "sizeKiB",
            r.sizeKiB,
            `is not a hugepage pool of host ${r.host} on NUMA node ${r.node} (${dir} is missing)`,
            "use a page size the host offers (its facts list its pools), or enable that size on the host's kernel",
        );
    });
}

export async function check(_olds: unknown, news: HugepageReservationInputs): Promise<provider.CheckResult> {
    const failures: provider.CheckFailure[] = [];
    if (!Number.isInteger(news.count) || news.count < 0) failures.push({ property: "count", reason: `must be a whole number ≥ 0, got ${news.count}` });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: HugepageReservationInputs, news: HugepageReservationInputs): Promise<provider.DiffResult> {
    const replaces = (["uri", "node", "sizeKiB"] as const).filter((k) => olds[k] !== news[k]);
    // A new lineage (a stack from before lineages) is an update: the entry is stamped again.
    const changes = replaces.length > 0 || olds.count !== news.count || (olds.lineage ?? "") !== (news.lineage ?? "");
    return { changes, replaces, deleteBeforeReplace: true };
}

/** Grows or shrinks the node's pool by `delta` pages and checks the kernel delivered. */
async function adjust(host: HostAccess, r: HugepageReservationInputs, delta: number): Promise<number> {
    const nrFile = poolFile(r.node, r.sizeKiB, "nr_hugepages");
    await poolSize(host, r); // says which pool is missing, before flock would
    const { before, wanted, after } = await changePool(host, nrFile, delta);
    if (after !== wanted) {
        // Undo the part the kernel did give, as one locked change too.
        if (after !== before) await changePool(host, nrFile, before - after);
        // The kernel did not deliver: the locked change ran, and the pool is not what it asked.
        const notDelivered = (reason: string, fix: string) =>
            new HostCommandError(r.host, poolChangeArgv(nrFile, delta), 0, "", "", "exit", `NUMA node ${r.node}: ${reason}`, { fix });
        if (delta < 0) {
            // The kernel keeps pages that are mapped: name who maps them, which is the real cause.
            const holders = await hugepageHolders(host);
            throw notDelivered(
                `could not give back ${-delta} pages of ${r.sizeKiB} KiB (the pool stays at ${after}): ` +
                    (holders.length ? `they are in use by ${holders.join(", ")}` : "they are in use by a process that no longer shows its mapping"),
                holders.length ? "stop what should not be running (virsh destroy <domain>), then run again" : "run again once that process has exited",
            );
        }
        throw notDelivered(
            `asked the kernel for ${wanted} pages of ${r.sizeKiB} KiB, got ${after} (memory is short or fragmented)`,
            "free memory, or reserve at boot with hugepages= on the host kernel cmdline",
        );
    }
    return after;
}

/** The same reservation of another state holds pages here: they are that state's to give back. */
function foreignReservation(r: HugepageReservationInputs, entry: LedgerEntry<Held>, owner: Owner): ProblemListError {
    const where = `${r.host}/node${r.node}/${r.sizeKiB}kB`;
    return problemError(
        "hugepage reservation",
        "host",
        where,
        `${entry.holds.count} pages of ${r.sizeKiB} KiB on host ${r.host}, NUMA node ${r.node}, are held by ${describeStamp(entry, owner)}; this stack neither takes nor gives them back`,
        foreignFix(owner, entry, `give its pages back by hand and remove its ledger entry ${entryPath(LEDGER, entry.urn)}`),
    );
}

export async function create(inputs: HugepageReservationInputs, ctx: OperationContext): Promise<provider.CreateResult> {
    const host = accessOf(inputs.access);
    const id = `${inputs.host}/node${inputs.node}/${inputs.sizeKiB}kB`;
    const foreign = await foreignEntry<Held>(host, LEDGER, ctx);
    if (foreign) throw foreignReservation(inputs, foreign, ctx);
    let held = (await readEntry<Held>(host, LEDGER, ctx))?.holds;
    if (held && held.phase !== "held") {
        // A run died between writing the ledger and the pool: the pool tells whether the change was made.
        const pool = await poolSize(host, inputs);
        const made = held.phase === "adding" ? pool >= held.poolBefore + held.count : pool > held.poolBefore - held.count;
        held = made ? { ...held, phase: "held" } : undefined;
    }
    if (held) {
        // Adopt what the earlier run reserved; add or give back only the difference.
        const poolAfter = await adjust(host, inputs, inputs.count - held.count);
        await writeEntry<Held>(host, LEDGER, ctx, { ...held, count: inputs.count, phase: "held" });
        return { id, outs: { ...inputs, poolAfter } };
    }
    const poolBefore = await poolSize(host, inputs);
    const entry: Held = { node: inputs.node, sizeKiB: inputs.sizeKiB, count: inputs.count, poolBefore, phase: "adding" };
    await writeEntry<Held>(host, LEDGER, ctx, entry);
    const poolAfter = await adjust(host, inputs, inputs.count).catch(async (err) => {
        await removeEntry(host, LEDGER, ctx);
        throw err;
    });
    await writeEntry<Held>(host, LEDGER, ctx, { ...entry, phase: "held" });
    return { id, outs: { ...inputs, poolAfter } };
}

export async function read(id: string, props: HugepageReservationOutputs, ctx: OperationContext): Promise<provider.ReadResult> {
    const host = accessOf(props.access);
    const entry = await readEntry<Held>(host, LEDGER, ctx);
    if (!entry) return { id: "", props: {} };
    return { id, props: { ...props, count: entry.holds.count, poolAfter: await poolSize(host, props) } };
}

export async function update(
    _id: string,
    olds: HugepageReservationInputs,
    news: HugepageReservationInputs,
    ctx: OperationContext,
): Promise<provider.UpdateResult> {
    const host = accessOf(news.access);
    const foreign = await foreignEntry<Held>(host, LEDGER, ctx);
    if (foreign) throw foreignReservation(news, foreign, ctx);
    const held = (await readEntry<Held>(host, LEDGER, ctx))?.holds;
    const poolBefore = await poolSize(host, news);
    const poolAfter = await adjust(host, news, news.count - (held?.count ?? olds.count));
    await writeEntry<Held>(host, LEDGER, ctx, { node: news.node, sizeKiB: news.sizeKiB, count: news.count, poolBefore, phase: "held" });
    return { outs: { ...news, poolAfter } };
}

export async function deleteReservation(_id: string, props: HugepageReservationInputs, ctx: OperationContext): Promise<void> {
    const host = accessOf(props.access);
    const entry = await readEntry<Held>(host, LEDGER, ctx);
    const foreign = entry ? undefined : await foreignEntry<Held>(host, LEDGER, ctx);
    if (foreign) {
        ctx.progress?.say(
            `the ${foreign.holds.count} pages of ${props.sizeKiB} KiB on host ${props.host} are held by ${describeStamp(foreign, ctx)}; left alone`,
        );
        return;
    }
    // No entry: an earlier delete gave the pages back and died before the engine recorded it.
    if (!entry) return;
    const held = entry.holds;
    const pool = await poolSize(host, props);
    // A create that died between writing its entry and changing the pool (`npm run down` after an interrupted
    // run deletes it): the pool tells whether the pages were added, as it tells create; if not, there is nothing to give back.
    const neverAdded = held.phase === "adding" && pool < held.poolBefore + held.count;
    if (neverAdded || (held.phase === "releasing" && pool <= held.poolBefore - held.count)) {
        await removeEntry(host, LEDGER, ctx);
        return;
    }
    await writeEntry<Held>(host, LEDGER, ctx, { ...held, poolBefore: pool, phase: "releasing" });
    await adjust(host, { ...props, node: held.node, sizeKiB: held.sizeKiB }, -held.count);
    await removeEntry(host, LEDGER, ctx);
}
export { deleteReservation as delete };

/**
 * Who maps hugepages on the host: QEMU processes by domain name, others by
 * command and pid. One fixed script with no value of ours in it, so a remote
 * host answers in one round trip rather than one per process.
 */
const HOLDERS_SCRIPT = [
    "for p in /proc/[0-9]*; do",
    "  kib=$(grep -s -E '^(Private|Shared)_Hugetlb:' \"$p/smaps_rollup\" | awk '{s += $2} END {print s + 0}')",
    '  if [ "${kib:-0}" -gt 0 ] || grep -q -s -E \'/dev/hugepages|anon_hugepage\' "$p/maps"; then',
    "    printf '%s\\t' \"${p#/proc/}\"; tr '\\0' '\\t' < \"$p/cmdline\" 2>/dev/null; echo",
    "  fi",
    "done",
].join("\n");

export async function hugepageHolders(host: HostAccess): Promise<string[]> {
    const out = await host.run(["sh", "-c", HOLDERS_SCRIPT], { nothrow: true });
    return out.stdout
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
            const [pid, ...argv] = line.split("\t");
            const domain = /guest=([^,]+)/.exec(argv[argv.indexOf("-name") + 1] ?? "")?.[1];
            return domain ? `domain ${domain} (QEMU pid ${pid})` : `${argv[0] || "process"} (pid ${pid})`;
        });
}
