/**
 * The HugepageReservation's delete after a run that died inside its create,
 * against this machine's real 2 MiB pool and ledger: `npm run down` deletes
 * such a reservation (docs/reliability.md). Its ledger entry says "adding";
 * the pool tells whether the pages were added. Added: they are given back.
 * Not added: nothing is taken from the pool, which other stacks share.
 */
import test from "ava";
import { hostAccess } from "../../components/host/access";
import * as hugepages from "../../components/host/hugepageOperations";
import { changePool, poolFile } from "../../components/host/hugepagePool";
import { readEntry, removeEntry, writeEntry } from "../../components/host/ledger";
import { hugepages2M } from "../helpers/host";

const ctx = { urn: "urn:pulumi:crash-test::nfv-testpod::nfvkit:host:HugepageReservation::pages" };
const reservation = { uri: "qemu:///system", host: "local", node: 0, sizeKiB: 2048, count: 4 };
const nrFile = poolFile(0, 2048, "nr_hugepages");

test.serial("delete of a reservation whose create died after its ledger entry and before the pool change gives nothing back", async (t) => {
    const host = hostAccess();
    const start = hugepages2M();
    t.teardown(async () => {
        await removeEntry(host, "hugepages", ctx);
        if (hugepages2M() !== start) await changePool(host, nrFile, start - hugepages2M());
    });
    // Pages someone else holds in the pool (another stack's), which a wrong release would take.
    t.is((await changePool(host, nrFile, 4)).after, start + 4, "the machine has 4 pages of 2 MiB to spare");
    const pool = hugepages2M();
    await writeEntry(host, "hugepages", ctx, { node: 0, sizeKiB: 2048, count: 4, poolBefore: pool, phase: "adding" });

    await hugepages.delete("interrupted-create", reservation, ctx);
    t.is(hugepages2M(), pool, "the pool is as it was: those pages were never added, and the others' stay");
    t.is(await readEntry(host, "hugepages", ctx), undefined, "the entry is gone");
});

test.serial("delete of a reservation whose create died after the pool change, before it marked the entry, gives the pages back", async (t) => {
    const host = hostAccess();
    const pool = hugepages2M();
    t.teardown(async () => {
        await removeEntry(host, "hugepages", ctx);
        if (hugepages2M() !== pool) await changePool(host, nrFile, pool - hugepages2M());
    });
    await writeEntry(host, "hugepages", ctx, { node: 0, sizeKiB: 2048, count: 4, poolBefore: pool, phase: "adding" });
    const added = await changePool(host, nrFile, 4);
    t.is(added.after, pool + 4, "the machine has 4 pages of 2 MiB to spare");

    await hugepages.delete("interrupted-create", reservation, ctx);
    t.is(hugepages2M(), pool, "the 4 pages are given back");
    t.is(await readEntry(host, "hugepages", ctx), undefined, "the entry is gone");
});
