/**
 * The pure parts of the on-host records for host-wide changes (issue 20,
 * finding 7): reading an RT host's and an SR-IOV PF's record, whose it is,
 * and the rule of a delete: a value goes back only where the host still has
 * the kit's value. The real host's side is tests/rthost/vmHost.test.ts.
 */
import test from "ava";
import {
    foreignRecord,
    ownsRecord,
    parsePfRecord,
    parseRtRecord,
    planRestore,
    sameCpus,
    sriovRecordPath,
    type RestoreItem,
} from "../../components/host/hostRecord";
import { rtRestoreItems } from "../../components/host/rtHostOperations";

const urn = "urn:pulumi:lab-rt::nfv-testpod::nfv-testpod:pod:TestPod$nfvkit:host:RtHost::pod-lab-rt-1-rt";
const before = { schedRtRuntimeUs: "950000", thpEnabled: "madvise", thpDefrag: "madvise", ksmRun: "0" };
const file = "/var/lib/nfvkit/rt-tuning-before.json";

test("an RT record with its owner, values and IRQs reads back as written", (t) => {
    const record = {
        owner: { urn, lineage: "L1" },
        ownerName: "nfv-testpod/lab-rt host lab-rt-1",
        before,
        irqs: { "/proc/irq/24/smp_affinity_list": "1", "/proc/irq/25/smp_affinity_list": "0-3" },
        housekeepingCpus: "0-1",
    };
    t.deepEqual(parseRtRecord(JSON.stringify(record), file), record);
});

test("an RT record from before owner records (the plain values) reads as ownerless, with no IRQs", (t) => {
    const parsed = parseRtRecord(JSON.stringify(before), file);
    t.deepEqual(parsed, { before, irqs: {} });
    // An earlier kit had no owner check: its record is taken as the stack's own, and the next up stamps it.
    t.true(ownsRecord(parsed, { urn, lineage: "L1" }));
});

test("a record changed by hand is refused with the file's name", (t) => {
    t.throws(() => parseRtRecord("{", file), {
        message: /^\/var\/lib\/nfvkit\/rt-tuning-before\.json is not JSON \(.*\): the kit's record on the host was changed by hand$/,
    });
    t.throws(() => parseRtRecord(JSON.stringify({ owner: { urn } }), file), {
        message: `${file} is not an nfvkit RT record: it has no "before" with schedRtRuntimeUs, thpEnabled, thpDefrag, ksmRun`,
    });
    t.throws(() => parsePfRecord(JSON.stringify({ pf: "enp0s3" }), "/var/lib/nfvkit/sriov/enp0s3.json"), {
        message: "/var/lib/nfvkit/sriov/enp0s3.json is not an nfvkit SR-IOV record: it needs owner, pf, before {numVfs, up}, numVfs and vfs",
    });
});

test("a PF record reads back; its path is one file per PF name, never a path of the name's making", (t) => {
    const record = { owner: { urn, lineage: "L1" }, ownerName: "SriovPf lab-rt-1/enp0s3", pf: "enp0s3", before: { numVfs: 0, up: false }, numVfs: 2, vfs: [0] };
    t.deepEqual(parsePfRecord(JSON.stringify(record), "f"), record);
    t.is(sriovRecordPath("enp0s3"), "/var/lib/nfvkit/sriov/enp0s3.json");
    t.is(sriovRecordPath("../etc/x"), "/var/lib/nfvkit/sriov/.._etc_x.json");
});

test("whose a record is: the same URN and lineage; another stack, or the same URN from another state, is foreign and named", (t) => {
    const mine = { owner: { urn, lineage: "L1" }, ownerName: "nfv-testpod/lab-rt host lab-rt-1" };
    t.true(ownsRecord(mine, { urn, lineage: "L1" }));
    // The update that moves a stack from before lineages: its former (empty) lineage still owns a URN-only stamp.
    t.true(ownsRecord({ owner: { urn } }, { urn, lineage: "L1", formerLineage: "" }));
    t.false(ownsRecord({ owner: { urn } }, { urn, lineage: "L1" }));
    t.false(ownsRecord(mine, { urn, lineage: "L2" }));
    const other = urn.replace("lab-rt::", "lab-rt-b::");
    t.false(ownsRecord(mine, { urn: other, lineage: "L1" }));

    const sameUrn = foreignRecord(mine, { urn, lineage: "L2" }, file);
    t.is(
        sameUrn.reason,
        "is taken by resource pod-lab-rt-1-rt of stack lab-rt (project nfv-testpod) in another state (lineage L1; this stack's state has lineage L2): " +
            "a stack of the same project and name kept in another backend (nfv-testpod/lab-rt host lab-rt-1), as its record /var/lib/nfvkit/rt-tuning-before.json says",
    );
    t.is(
        sameUrn.fix,
        "run `npm run down` from the checkout whose `pulumi stack output lineage` prints L1; if that state is lost, undo its changes and remove " +
            "/var/lib/nfvkit/rt-tuning-before.json by hand; or bring this stack up under another stack name, whose domain and file names differ",
    );
    const otherStack = foreignRecord(mine, { urn: other, lineage: "L1" }, file);
    t.is(
        otherStack.reason,
        "is taken by resource pod-lab-rt-1-rt of stack lab-rt (project nfv-testpod) (nfv-testpod/lab-rt host lab-rt-1), as its record /var/lib/nfvkit/rt-tuning-before.json says",
    );
    t.is(otherStack.fix, "run `npm run down` for that stack; if its state is lost, undo its changes and remove /var/lib/nfvkit/rt-tuning-before.json by hand");
});

test("a delete restores a value only where the host still has the kit's: changed ones stay, gone or already-back ones are skipped", (t) => {
    const item = (name: string, found: string | undefined, kind?: "cpus"): RestoreItem => ({
        name,
        file: `/f/${name}`,
        ...(kind ? { kind } : {}),
        before: kind ? "0-3" : "950000",
        set: kind ? "0-1" : "-1",
        found,
    });
    const plan = planRestore([
        item("kit's value", "-1"),
        item("changed by an administrator", "900000"),
        item("already back", "950000"),
        item("gone", undefined),
        item("IRQ kit's, spelt otherwise", "0,1", "cpus"),
        item("IRQ narrowed by someone", "1", "cpus"),
        item("IRQ freed", undefined, "cpus"),
    ]);
    t.deepEqual(
        plan.restore.map((i) => i.name),
        ["kit's value", "IRQ kit's, spelt otherwise"],
    );
    t.deepEqual(
        plan.left.map((i) => i.name),
        ["changed by an administrator", "IRQ narrowed by someone"],
    );
    t.true(sameCpus("0-1", "0,1"));
    t.false(sameCpus("0-1", "0-3"));
});

test("an RT host's restore items: each value and each IRQ's own earlier affinity against the kit's", (t) => {
    const items = rtRestoreItems(
        { before: { ...before, thpDefrag: "" }, irqs: { "/proc/irq/24/smp_affinity_list": "1", "/proc/irq/9/smp_affinity_list": "0-3" } },
        { schedRtRuntimeUs: "-1", thpEnabled: "never", ksmRun: "0" },
        { "/proc/irq/24/smp_affinity_list": "0-1" },
        "0-1",
    );
    t.deepEqual(items, [
        { name: "kernel.sched_rt_runtime_us", file: "/proc/sys/kernel/sched_rt_runtime_us", before: "950000", set: "-1", found: "-1" },
        { name: "transparent hugepages", file: "/sys/kernel/mm/transparent_hugepage/enabled", before: "madvise", set: "never", found: "never" },
        { name: "KSM", file: "/sys/kernel/mm/ksm/run", before: "0", set: "0", found: "0" },
        { name: "IRQ 24", file: "/proc/irq/24/smp_affinity_list", kind: "cpus", before: "1", set: "0-1", found: "0-1" },
        { name: "IRQ 9", file: "/proc/irq/9/smp_affinity_list", kind: "cpus", before: "0-3", set: "0-1", found: undefined },
    ]);
    // IRQ 24 goes back to its own "1", not to every CPU; IRQ 9 was freed; KSM was already 0 before.
    t.deepEqual(
        planRestore(items).restore.map((i) => [i.name, i.before]),
        [
            ["kernel.sched_rt_runtime_us", "950000"],
            ["transparent hugepages", "madvise"],
            ["IRQ 24", "1"],
        ],
    );
});
