/**
 * Two stacks reserving on one hugepage pool, killed between the two phases of
 * their ledger entries, then recovered: against this machine's real 2 MiB pool
 * and ledger, under the pool's lock (host/hugepageOperations.ts, `Held`, has
 * the record and the rule). The pool also holds pages the ledger does not know
 * (the host's, as if reserved at boot) and a third stack's, which no recovery
 * may take. A kill is the operation stopped at a kill point (the lock goes, as
 * with a real kill), and once a real kill -9 of a process mid-reservation.
 */
import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { hostAccess } from "../../components/host/access";
import * as hugepages from "../../components/host/hugepageOperations";
import { changePool, poolFile, readPool } from "../../components/host/hugepagePool";
import { makeHugepageRoom } from "../../components/host/hugepageRoom";
import { entryPath, readEntry, removeEntry, writeEntry } from "../../components/host/ledger";
import { hugepages2M, hugepagesSettled } from "../helpers/host";

const nrFile = poolFile(0, 2048, "nr_hugepages");
const urn = (stack: string) => `urn:pulumi:${stack}::nfv-testpod::nfvkit:host:HugepageReservation::pages`;
const [A, B, C, D] = ["ledger-a", "ledger-b", "ledger-c", "ledger-d"].map((stack) => ({ urn: urn(stack) }));
const pages = (count: number) => ({ uri: "qemu:///system", host: "local", node: 0, sizeKiB: 2048, count });
const host = hostAccess();

/** What the ledger says a stack holds: its count and phase, or undefined when it has no entry. */
async function holds(ctx: { urn: string }): Promise<{ count: number; phase: string } | undefined> {
    const entry = await readEntry<{ count: number; phase: string }>(host, "hugepages", ctx);
    return entry && { count: entry.holds.count, phase: entry.holds.phase };
}

/**
 * The pool as the host left it, plus 4 pages the ledger does not know (the host's own, as if from boot) and a
 * third stack C holding 2: what every test must leave as it found. The teardown puts the pool back to `start`.
 */
async function sharedPool(t: ExecutionContext): Promise<number> {
    const start = await hugepagesSettled();
    t.teardown(async () => {
        for (const ctx of [A, B, C, D]) await removeEntry(host, "hugepages", ctx);
        if (hugepages2M() !== start) await changePool(host, nrFile, start - hugepages2M());
    });
    t.is((await changePool(host, nrFile, 4)).after, start + 4, "the machine has 4 pages of 2 MiB to spare for the host's own");
    await hugepages.create(pages(2), C);
    t.is(hugepages2M(), start + 6);
    return start + 6;
}

/** The end every test checks: A and B hold nothing, C still holds its 2, and the pool is where it began. */
async function leftAsFound(t: ExecutionContext, base: number): Promise<void> {
    t.is(hugepages2M(), base, "the pool is where it began: the host's 4 pages and C's 2 are still there");
    t.deepEqual(await holds(C), { count: 2, phase: "held" }, "C's entry is untouched");
    await hugepages.delete("c", pages(2), C);
    t.is(hugepages2M(), base - 2);
}

/** Runs both at once; each must stop at its kill point. */
async function bothKilled(t: ExecutionContext, a: Promise<unknown>, b: Promise<unknown>): Promise<void> {
    const results = await Promise.allSettled([a, b]);
    for (const r of results) t.true(r.status === "rejected" && r.reason instanceof hugepages.SimulatedKill, `stopped at its kill point: ${JSON.stringify(r)}`);
}

test.serial("creates of two stacks killed between the phases, in parallel, then recovered: each stack's pages counted once", async (t) => {
    const base = await sharedPool(t);
    // Which one takes the lock first is up to the race: either way one dies with its intent written and
    // nothing added, the other after adding its 5 pages and before recording them.
    await bothKilled(t, hugepages.create(pages(3), A, { killAt: "intent" }), hugepages.create(pages(5), B, { killAt: "pool" }));
    t.is(hugepages2M(), base + 5, "B's pages were added, A's were not");

    await Promise.all([hugepages.create(pages(3), A), hugepages.create(pages(5), B)]);
    t.is(hugepages2M(), base + 8, "A added its 3; B's 5 were adopted, not added again");
    t.deepEqual(await holds(A), { count: 3, phase: "held" });
    t.deepEqual(await holds(B), { count: 5, phase: "held" });

    await Promise.all([hugepages.delete("a", pages(3), A), hugepages.delete("b", pages(5), B)]);
    t.deepEqual([await holds(A), await holds(B)], [undefined, undefined]);
    await leftAsFound(t, base);
});

test.serial("a create killed after its entry, with another stack's pages added since, does not take those pages for its own", async (t) => {
    const base = await sharedPool(t);
    // A's run died after its entry and before its pool write, as the kit before the two-phase record left it.
    await writeEntry(host, "hugepages", A, { node: 0, sizeKiB: 2048, count: 3, poolBefore: base, phase: "adding" });
    // B then adds the very count A meant to: by "the pool is at least before + count" A's pages look added.
    await hugepages.create(pages(3), B);
    await hugepages.create(pages(3), A);
    t.is(hugepages2M(), base + 6, "A added its own 3 rather than adopting B's");
    t.deepEqual(
        [await holds(A), await holds(B)],
        [
            { count: 3, phase: "held" },
            { count: 3, phase: "held" },
        ],
    );
    await hugepages.delete("a", pages(3), A);
    await hugepages.delete("b", pages(3), B);
    await leftAsFound(t, base);
});

test.serial("updates that grow and shrink, killed between the phases in parallel, then recovered: the pool ends where the counts say", async (t) => {
    const base = await sharedPool(t);
    await Promise.all([hugepages.create(pages(3), A), hugepages.create(pages(5), B)]);
    t.is(hugepages2M(), base + 8);

    // A grows 3 → 6 and dies after the pool write; B shrinks 5 → 2 and dies after its intent.
    await bothKilled(t, hugepages.update("a", pages(3), pages(6), A, { killAt: "pool" }), hugepages.update("b", pages(5), pages(2), B, { killAt: "intent" }));
    t.is(hugepages2M(), base + 11, "A's 3 were added, B gave back nothing");
    // The engine still records the old counts, so it runs the same updates again.
    await Promise.all([hugepages.update("a", pages(3), pages(6), A), hugepages.update("b", pages(5), pages(2), B)]);
    t.is(hugepages2M(), base + 8, "A's 3 not added twice; B gave back its 3");
    t.deepEqual(
        [await holds(A), await holds(B)],
        [
            { count: 6, phase: "held" },
            { count: 2, phase: "held" },
        ],
    );

    // Now the other way round: A shrinks 6 → 1 and dies after the pool write; B grows 2 → 7 and dies after its intent.
    await bothKilled(t, hugepages.update("a", pages(6), pages(1), A, { killAt: "pool" }), hugepages.update("b", pages(2), pages(7), B, { killAt: "intent" }));
    t.is(hugepages2M(), base + 3, "A gave back 5, B added nothing");
    await Promise.all([hugepages.update("a", pages(6), pages(1), A), hugepages.update("b", pages(2), pages(7), B)]);
    t.is(hugepages2M(), base + 8);
    t.deepEqual(
        [await holds(A), await holds(B)],
        [
            { count: 1, phase: "held" },
            { count: 7, phase: "held" },
        ],
    );

    await Promise.all([hugepages.delete("a", pages(1), A), hugepages.delete("b", pages(7), B)]);
    await leftAsFound(t, base);
});

test.serial("deletes of two stacks killed between the phases, in parallel, then recovered: nothing another stack or the host holds is taken", async (t) => {
    const base = await sharedPool(t);
    await Promise.all([hugepages.create(pages(3), A), hugepages.create(pages(5), B)]);
    t.is(hugepages2M(), base + 8);

    await bothKilled(t, hugepages.delete("a", pages(3), A, { killAt: "pool" }), hugepages.delete("b", pages(5), B, { killAt: "intent" }));
    t.is(hugepages2M(), base + 5, "A's 3 went back, B's 5 are still there");
    // `npm run down` again: each delete runs once more.
    await Promise.all([hugepages.delete("a", pages(3), A), hugepages.delete("b", pages(5), B)]);
    t.deepEqual([await holds(A), await holds(B)], [undefined, undefined]);
    await leftAsFound(t, base);
});

test.serial("one stack's recovery settles another's interrupted change, and the other then neither adds nor takes again", async (t) => {
    const base = await sharedPool(t);
    await t.throwsAsync(hugepages.create(pages(4), A, { killAt: "pool" }), { instanceOf: hugepages.SimulatedKill });
    // B's change comes first: it settles A's under the lock before touching the pool.
    await hugepages.create(pages(5), B);
    t.deepEqual(await holds(A), { count: 4, phase: "held" }, "A's entry settled by B: its pages were added");
    await hugepages.create(pages(4), A);
    t.is(hugepages2M(), base + 9);
    await Promise.all([hugepages.delete("a", pages(4), A), hugepages.delete("b", pages(5), B)]);
    await leftAsFound(t, base);
});

test.serial("an interrupted change the pool cannot decide is refused, naming the entry and what to check, and nothing is changed", async (t) => {
    const base = await sharedPool(t);
    await t.throwsAsync(hugepages.create(pages(3), A, { killAt: "intent" }), { instanceOf: hugepages.SimulatedKill });
    // Someone outside the kit adds a page before the recovery: the pool now matches neither what A's run found
    // nor what it asked for, so whether A's pages are in it cannot be told.
    await changePool(host, nrFile, 1);
    const refused = await t.throwsAsync(hugepages.create(pages(5), B));
    t.true(refused.message.includes(entryPath("hugepages", A.urn)), refused.message);
    t.true(refused.message.includes(`took the 2048 KiB pool of host local, NUMA node 0 from ${base} to ${base + 3} pages`), refused.message);
    t.true(refused.message.includes(`the pool is now ${base + 1}`), refused.message);
    t.is(hugepages2M(), base + 1, "B added nothing");
    t.is(await holds(B), undefined);
    // A's own down after that failed recovery: its delete cannot tell either, so it refuses the same way, gives
    // nothing back (not A's 3 it may never have added, nor the page from outside) and keeps the entry for the fix.
    const down = await t.throwsAsync(hugepages.delete("a", pages(3), A));
    t.true(down.message.includes(entryPath("hugepages", A.urn)) && down.message.includes(`the pool is now ${base + 1}`), down.message);
    t.is(hugepages2M(), base + 1, "the delete took nothing");
    t.deepEqual(await holds(A), { count: 0, phase: "changing" }, "A's entry still says what was under way");

    // The fix the message gives: the change was not made, so A holds what it held (none), and the entry says so.
    await writeEntry(host, "hugepages", A, { node: 0, sizeKiB: 2048, count: 0, phase: "held" });
    await changePool(host, nrFile, -1);
    await hugepages.create(pages(5), B);
    t.is(hugepages2M(), base + 5);
    await hugepages.delete("a", pages(0), A);
    await hugepages.delete("b", pages(5), B);
    await leftAsFound(t, base);
});

test.serial("the migration's room settles an interrupted change before it grows the pool, and gives back exactly what it added", async (t) => {
    const base = await sharedPool(t);
    await t.throwsAsync(hugepages.create(pages(3), A, { killAt: "pool" }), { instanceOf: hugepages.SimulatedKill });
    const free = await readPool(host, poolFile(0, 2048, "free_hugepages"));
    const said: string[] = [];
    const giveBack = await makeHugepageRoom(host, "local", { node: 0, sizeKiB: 2048, pages: free + 2 }, (line) => said.push(line));
    t.deepEqual(await holds(A), { count: 3, phase: "held" }, "A's change was settled first: its 3 pages were added");
    t.is(hugepages2M(), base + 5, "A's 3 and the room's 2");
    await giveBack();
    t.is(hugepages2M(), base + 3, "the room's 2 went back, A's 3 stay");
    await hugepages.create(pages(3), A);
    t.is(hugepages2M(), base + 3, "A adopted its own");
    await hugepages.delete("a", pages(3), A);
    await leftAsFound(t, base);
});

test.serial("kill -9 of a process in the middle of its reservation: the lock goes with it, and the next create adopts or adds exactly once", async (t) => {
    const base = await sharedPool(t);
    const child = spawn(process.execPath, ["--import=tsx", "tests/helpers/reserveHugepages.ts", JSON.stringify(pages(4)), D.urn], {
        stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let ended = false;
    const exited = new Promise((resolve) => child.once("exit", resolve)).then(() => (ended = true));
    // Killed as soon as its entry appears: between the intent and the record of what was made, or just after.
    while ((await holds(D)) === undefined && !ended) await new Promise((r) => setTimeout(r, 5));
    child.kill("SIGKILL");
    await exited;
    t.not(await holds(D), undefined, `the reservation had begun (the process said: ${stderr})`);

    const t0 = Date.now();
    await hugepages.create(pages(4), D);
    t.true(Date.now() - t0 < 10_000, `the dead run's lock was released (recovery took ${Date.now() - t0} ms)`);
    t.is(hugepages2M(), base + 4, "4 pages, once");
    t.deepEqual(await holds(D), { count: 4, phase: "held" });
    await hugepages.delete("d", pages(4), D);
    t.is(readFileSync(nrFile, "utf8").trim(), String(base));
    await leftAsFound(t, base);
});
