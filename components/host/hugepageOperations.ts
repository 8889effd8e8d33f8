/**
 * Reserves hugepages on one NUMA node of a host for the pod's guests and hands
 * them back on destroy. Reservations add to what the host already has, so
 * pods and other users of hugepages can share a host. What each reservation
 * added is kept in the host's ledger (host/ledger.ts), written in two phases
 * under the pool's lock (the record and the recovery rule are below, at
 * `Held`), so a run that dies half-way is neither counted twice nor leaked,
 * and never takes pages another stack or the host's boot reserved. The
 * Operations of the nfvkit provider's HugepageReservation.
 */
import type * as provider from "@pulumi/pulumi/provider";
import type { OperationContext } from "../types/operations";
import { accessOf, type HostAccess, type HostTarget } from "./access";
import { poolChangeArgv, poolDir, poolFile, readPool, withPoolLock, type LockedPool } from "./hugepagePool";
import { entryPath, foreignEntry, listEntries, readEntry, removeEntry, rewriteEntry, writeEntry, type LedgerEntry } from "./ledger";
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

/**
 * The ledger's record of one reservation: the entry's `holds` (ledger.ts, kind "hugepages", one file per resource).
 *
 *   { node, sizeKiB, count, phase: "held" }
 *     The reservation holds `count` pages of the node's pool: pages it added, and gives back on delete.
 *   { node, sizeKiB, count, phase: "changing", change: { op, to, poolBefore, poolTarget } }
 *     The intent, written under the pool's lock just before the pool write: `op` (create, update or delete) takes
 *     the reservation from `count` pages to `to`, and the pool from `poolBefore` (read under the lock) to
 *     `poolTarget`. After the pool write, still under the lock, the entry becomes { count: to, phase: "held" }
 *     (a delete removes it). Nothing else writes the pool between the two.
 *
 * Recovery (settlePool) never asks whether the pool is "at least" something. Every change the kit makes to a
 * pool takes the pool's lock and, before anything else, settles any entry still "changing" on that pool,
 * whichever stack's it is. So an intent found under the lock is one whose run died (its lock died with it), and
 * no change of the kit's has reached the pool since: the pool at `poolTarget` means the change was made, at
 * `poolBefore` that it was not. Any other value means something outside the ledger changed the pool (a person,
 * a kernel that gave part of the pages before the run died, a host sharing the kernel but not the ledger), and
 * the kit refuses, naming the entry's file and what to check, rather than guess whose pages are whose.
 */
interface Held {
    node: number;
    sizeKiB: number;
    /** Pages this reservation holds: added by it, given back by its delete. */
    count: number;
    phase: "held" | "changing";
    /** Set while phase is "changing": the change under way. */
    change?: PoolIntent;
}

interface PoolIntent {
    op: "create" | "update" | "delete";
    /** The reservation's count once the change is made. */
    to: number;
    /** The pool's size when the intent was written, under the lock. */
    poolBefore: number;
    /** The pool's size the change asks for. */
    poolTarget: number;
}

/** Entries written before the two-phase record: "adding" (count pages, pool before them) and "releasing" (count pages, pool before giving them back). */
interface OldHeld {
    node: number;
    sizeKiB: number;
    count: number;
    poolBefore?: number;
    phase: "adding" | "releasing";
}

/** The record as this code writes it, from an entry of either format. */
function heldOf(raw: Held | OldHeld): Held {
    const { node, sizeKiB, count } = raw;
    if (raw.phase === "adding")
        return {
            node,
            sizeKiB,
            count: 0,
            phase: "changing",
            change: { op: "create", to: count, poolBefore: raw.poolBefore!, poolTarget: raw.poolBefore! + count },
        };
    if (raw.phase === "releasing")
        return {
            node,
            sizeKiB,
            count,
            phase: "changing",
            change: { op: "delete", to: 0, poolBefore: raw.poolBefore!, poolTarget: Math.max(0, raw.poolBefore! - count) },
        };
    return raw.phase === "changing" ? raw : { node, sizeKiB, count, phase: "held" };
}

const LEDGER = "hugepages";

/**
 * Where a test stops an operation as a kill -9 would: right after the intent is written ("intent"), or right
 * after the pool write, before the entry says it was made ("pool"). Nothing is cleaned up on the way out but
 * the lock, which a kill also releases (its holder dies with the run).
 */
export type KillPoint = "intent" | "pool";

/** Options of an operation that only tests set. */
export interface ReservationTestOptions {
    /** @default none: the operation runs to its end */
    killAt?: KillPoint;
}

/** What a test's kill point throws. */
export class SimulatedKill extends Error {
    constructor(readonly at: KillPoint) {
        super(`stopped as a kill would, after the ${at === "intent" ? "intent was written" : "pool was written"}`);
    }
}

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

/** The host's name in the pod spec is for messages: a new one alone is stored by the provider (an update that touches no page). */
export const storedOnly = ["host"] as const;

export async function diff(_id: string, olds: HugepageReservationInputs, news: HugepageReservationInputs): Promise<provider.DiffResult> {
    const replaces = (["uri", "node", "sizeKiB"] as const).filter((k) => olds[k] !== news[k]);
    // A new lineage (a stack from before lineages) is an update: the entry is stamped again.
    const changes = replaces.length > 0 || olds.count !== news.count || (olds.lineage ?? "") !== (news.lineage ?? "");
    return { changes, replaces, deleteBeforeReplace: true };
}

/**
 * Settles the interrupted change on this pool, if there is one (the rule is at `Held`). Runs under the pool's
 * lock, before any change of the pool.
 */
export async function settlePool(host: HostAccess, pool: LockedPool, r: Pick<HugepageReservationInputs, "host" | "node" | "sizeKiB">): Promise<void> {
    const pending = (await listEntries<Held | OldHeld>(host, LEDGER))
        .map((entry) => ({ entry, held: heldOf(entry.holds) }))
        .filter(({ held }) => held.node === r.node && held.sizeKiB === r.sizeKiB && held.change !== undefined);
    if (pending.length === 0) return;
    let now = await pool.size();
    const where = `the ${r.sizeKiB} KiB pool of host ${r.host}, NUMA node ${r.node}`;
    const files = pending.map(({ entry }) => entryPath(LEDGER, entry.urn)).join(", ");
    if (pending.length > 1) {
        // Each change settles the one before it, so two at once were not made by this rule (an older kit, or a
        // host sharing the kernel): which pages are whose cannot be told from one pool size.
        throw problemError(
            "hugepage ledger",
            files,
            now,
            `${pending.length} interrupted changes of ${where} (${pending.map(({ entry }) => entry.urn).join(", ")}), and the pool (${now} pages) cannot say which of them were made`,
            `for each entry, decide from ${poolFile(r.node, r.sizeKiB, "nr_hugepages")} and the domains using hugepages how many pages that stack holds; write it as holds.count with holds.phase "held" and delete holds.change (or remove the file if it holds none), then run again`,
        );
    }
    const [{ entry, held }] = pending;
    const c = held.change!;
    // The dead run's pool write goes on in a session of its own (hugepagePool.ts) until the kernel has given
    // what it asked: while the pool still moves, wait for it to stop (a read every 200 ms, at most 10 s).
    for (let waited = 0; now !== c.poolTarget && now !== c.poolBefore && waited < 10_000; waited += 200) {
        await new Promise((r) => setTimeout(r, 200));
        const again = await pool.size();
        if (again === now) break;
        now = again;
    }
    const made = now === c.poolTarget;
    if (!made && now !== c.poolBefore) {
        throw problemError(
            "hugepage ledger",
            files,
            now,
            `a run of ${entry.urn} died while it took ${where} from ${c.poolBefore} to ${c.poolTarget} pages (its ${c.op} from ${held.count} to ${c.to} pages), and the pool is now ${now}: something outside the kit's ledger changed it since (a person, another host on this kernel, or a kernel that gave only part), so the kit cannot tell whether those pages were added`,
            `check ${poolFile(r.node, r.sizeKiB, "nr_hugepages")} and who changed it; if the change was made, set holds.count to ${c.to} in that file, if not leave it at ${held.count}; then set holds.phase to "held", delete holds.change, and run again`,
        );
    }
    const count = made ? c.to : held.count;
    const gone = made ? c.op === "delete" : c.op === "create";
    if (gone)
        await removeEntry(host, LEDGER, entry); // by its own stamp: settling removes whoever's entry it is
    else await rewriteEntry<Held>(host, LEDGER, entry as LedgerEntry<Held>, { node: held.node, sizeKiB: held.sizeKiB, count, phase: "held" });
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

/**
 * Takes this reservation from what its entry holds to `to` pages, as one step under the pool's lock: settle
 * the pool, write the intent, change the pool, write what was made. Returns the pool's size after.
 * `heldWithoutEntry` is what the reservation holds when it has no entry (an update of a reservation whose entry
 * was lost: its old count).
 */
async function reserve(
    host: HostAccess,
    r: HugepageReservationInputs,
    owner: Owner,
    op: PoolIntent["op"],
    to: number,
    heldWithoutEntry: number,
    test: ReservationTestOptions,
): Promise<number> {
    const nrFile = poolFile(r.node, r.sizeKiB, "nr_hugepages");
    await poolSize(host, r); // says which pool is missing, before flock would
    return withPoolLock(host, nrFile, async (pool) => {
        await settlePool(host, pool, r);
        const entry = await readEntry<Held | OldHeld>(host, LEDGER, owner);
        const count = entry ? heldOf(entry.holds).count : heldWithoutEntry;
        const base = { node: r.node, sizeKiB: r.sizeKiB };
        const delta = to - count;
        const poolBefore = await pool.size();
        if (delta === 0) {
            if (op === "delete") await removeEntry(host, LEDGER, owner);
            else await writeEntry<Held>(host, LEDGER, owner, { ...base, count: to, phase: "held" });
            return poolBefore;
        }
        const intent: PoolIntent = { op, to, poolBefore, poolTarget: Math.max(0, poolBefore + delta) };
        await writeEntry<Held>(host, LEDGER, owner, { ...base, count, phase: "changing", change: intent });
        if (test.killAt === "intent") throw new SimulatedKill("intent");
        const { before, wanted, after } = await pool.change(delta);
        if (test.killAt === "pool") throw new SimulatedKill("pool");
        if (after !== wanted) {
            // Undo the part the kernel did give; the lock is still held, so what is left is exactly ours.
            const undone = after !== before ? (await pool.change(before - after)).after : after;
            const kept = Math.max(0, count + undone - before);
            if (kept === 0 && op !== "update") await removeEntry(host, LEDGER, owner);
            else await writeEntry<Held>(host, LEDGER, owner, { ...base, count: kept, phase: "held" });
            throw await notDelivered(host, r, nrFile, delta, wanted, after);
        }
        if (op === "delete") await removeEntry(host, LEDGER, owner);
        else await writeEntry<Held>(host, LEDGER, owner, { ...base, count: to, phase: "held" });
        return after;
    });
}

/** The kernel did not deliver: the locked change ran, and the pool is not what it asked. */
async function notDelivered(host: HostAccess, r: HugepageReservationInputs, nrFile: string, delta: number, wanted: number, after: number): Promise<Error> {
    const error = (reason: string, fix: string) =>
        new HostCommandError(r.host, poolChangeArgv(nrFile, delta), 0, "", "", "exit", `NUMA node ${r.node}: ${reason}`, { fix });
    if (delta < 0) {
        // The kernel keeps pages that are mapped: name who maps them, which is the real cause.
        const holders = await hugepageHolders(host);
        return error(
            `could not give back ${-delta} pages of ${r.sizeKiB} KiB (the pool stays at ${after}): ` +
                (holders.length ? `they are in use by ${holders.join(", ")}` : "they are in use by a process that no longer shows its mapping"),
            holders.length ? "stop what should not be running (virsh destroy <domain>), then run again" : "run again once that process has exited",
        );
    }
    return error(
        `asked the kernel for ${wanted} pages of ${r.sizeKiB} KiB, got ${after} (memory is short or fragmented)`,
        "free memory, or reserve at boot with hugepages= on the host kernel cmdline",
    );
}

export async function create(inputs: HugepageReservationInputs, ctx: OperationContext, test: ReservationTestOptions = {}): Promise<provider.CreateResult> {
    const host = accessOf(inputs.access);
    const id = `${inputs.host}/node${inputs.node}/${inputs.sizeKiB}kB`;
    const foreign = await foreignEntry<Held>(host, LEDGER, ctx);
    if (foreign) throw foreignReservation(inputs, foreign, ctx);
    // An entry of this URN is what an earlier run reserved before it died: adopted, with only the difference added or given back.
    const poolAfter = await reserve(host, inputs, ctx, "create", inputs.count, 0, test);
    return { id, outs: { ...inputs, poolAfter } };
}

export async function read(id: string, props: HugepageReservationOutputs, ctx: OperationContext): Promise<provider.ReadResult> {
    const host = accessOf(props.access);
    const entry = await readEntry<Held | OldHeld>(host, LEDGER, ctx);
    if (!entry) return { id: "", props: {} };
    // A read never writes, so an interrupted change is reported as its last finished count; the next change settles it.
    return { id, props: { ...props, count: heldOf(entry.holds).count, poolAfter: await poolSize(host, props) } };
}

export async function update(
    _id: string,
    olds: HugepageReservationInputs,
    news: HugepageReservationInputs,
    ctx: OperationContext,
    test: ReservationTestOptions = {},
): Promise<provider.UpdateResult> {
    const host = accessOf(news.access);
    const foreign = await foreignEntry<Held>(host, LEDGER, ctx);
    if (foreign) throw foreignReservation(news, foreign, ctx);
    const poolAfter = await reserve(host, news, ctx, "update", news.count, olds.count, test);
    return { outs: { ...news, poolAfter } };
}

export async function deleteReservation(
    _id: string,
    props: HugepageReservationInputs,
    ctx: OperationContext,
    test: ReservationTestOptions = {},
): Promise<void> {
    const host = accessOf(props.access);
    const entry = await readEntry<Held | OldHeld>(host, LEDGER, ctx);
    const foreign = entry ? undefined : await foreignEntry<Held | OldHeld>(host, LEDGER, ctx);
    if (foreign) {
        ctx.progress?.say(
            `the ${heldOf(foreign.holds).count} pages of ${props.sizeKiB} KiB on host ${props.host} are held by ${describeStamp(foreign, ctx)}; left alone`,
        );
        return;
    }
    // No entry: an earlier delete gave the pages back and died before the engine recorded it.
    if (!entry) return;
    // A create that died before its pool write (`npm run down` after an interrupted run deletes it) is settled
    // first, under the lock, and then holds nothing: nothing is taken from the pool, which others share.
    const { node, sizeKiB } = heldOf(entry.holds);
    await reserve(host, { ...props, node, sizeKiB }, ctx, "delete", 0, 0, test);
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
