/**
 * Ownership names the state as well as the resource (docs/ownership.md): the
 * rule for a stamp, the lineage's way from the pod's StackLineage to every
 * resource that makes something on a host (under Pulumi's public mocks), and
 * the provider stamping it and honouring it on a real ledger and a real file
 * in a folder of this test's own (no shared host state, so no lock).
 */
import test from "ava";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isOwnStamp, stampOf } from "../../components/types/ownership";
import { ProblemListError } from "../../components/spec/problems";
import type { EngineStep } from "../../components/preview";
import { image, spec } from "../helpers/podFixtures";
import { recordParents, recordResources, settle } from "../helpers/mockedPulumi";

// The ledger's folder is read when the ledger module loads: this test's own, before the provider loads it.
const scratch = mkdtempSync(path.join(os.tmpdir(), "nfvkit-ownership-"));
process.env.NFVKIT_LEDGER_DIR = path.join(scratch, "ledger");
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

const recorded = recordResources("nfv-testpod");

const urn = "urn:pulumi:ci::nfv-testpod::nfvkit:pod:TestPod$nfvkit:link:IvshmemLink$nfvkit:libvirt:ShmRegion::pod-link-ring0-shm";
/** The shm entries in this test's ledger, as the files hold them. */
function shmEntries(): unknown[] {
    const dir = path.join(scratch, "ledger", "shm");
    return readdirSync(dir).map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")));
}

const A = "8d0c1b8e-0000-4000-8000-00000000000a";
const B = "8d0c1b8e-0000-4000-8000-00000000000b";

test("a stamp is this resource's only with its URN and its state's lineage; a stamp without one only for a state without one, or its update", (t) => {
    const rows: [string, Parameters<typeof isOwnStamp>[0], Parameters<typeof isOwnStamp>[1], boolean][] = [
        ["same URN, same lineage", { urn, lineage: A }, { urn, lineage: A }, true],
        ["same URN, another state's lineage", { urn, lineage: B }, { urn, lineage: A }, false],
        ["another URN, same lineage", { urn: `${urn}-2`, lineage: A }, { urn, lineage: A }, false],
        ["an earlier kit's stamp, to a state with a lineage", { urn }, { urn, lineage: A }, false],
        ["an earlier kit's stamp, to a state without one", { urn }, { urn }, true],
        ["a stamp with a lineage, to a state without one", { urn, lineage: A }, { urn }, false],
        ["an earlier kit's stamp, to the update that gives the state its lineage", { urn }, { urn, lineage: A, formerLineage: "" }, true],
        ["the new lineage's stamp, to that update", { urn, lineage: A }, { urn, lineage: A, formerLineage: "" }, true],
        ["another state's stamp, to that update", { urn, lineage: B }, { urn, lineage: A, formerLineage: "" }, false],
    ];
    for (const [what, stamp, owner, ours] of rows) t.is(isOwnStamp(stamp, owner), ours, what);
    t.deepEqual(stampOf({ urn, lineage: A, formerLineage: "" }), { urn, lineage: A });
    t.deepEqual(stampOf({ urn }), { urn });
});

test("TestPod makes one StackLineage and gives its lineage to every domain, shm file and hugepage reservation, and to nothing else", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const pod = new TestPod("owned", { spec, image, namePrefix: "nfv-testpod-unit" }, recordParents());
    const lineage = await settle(pod.lineage);
    t.is(lineage, "owned-lineage-id");
    // The domains are registered once their inputs resolve, after the links and reservations they wait for.
    await settle(pod.guestSummaries);
    const mine = recorded.filter((r) => r.name.startsWith("owned"));
    const lineages = mine.filter((r) => r.type === "nfvkit:pod:StackLineage");
    t.deepEqual(
        lineages.map((r) => [r.name, r.parent]),
        [["owned-lineage", await settle(pod.urn)]],
        "one lineage, under the pod",
    );
    const stamped = ["nfvkit:libvirt:Domain", "nfvkit:libvirt:ShmRegion", "nfvkit:host:HugepageReservation"];
    const withLineage = mine.filter((r) => r.inputs.lineage !== undefined);
    t.deepEqual(withLineage.map((r) => r.name).sort(), ["owned-hugepages-local-node0-2048k", "owned-link-ring0-shm", "owned-peer-domain", "owned-vnf-domain"]);
    for (const r of withLineage) {
        t.true(stamped.includes(r.type), r.type);
        t.is(r.inputs.lineage, lineage, r.name);
    }
    // The domain's name stays the readable one: the lineage is in the stamp, not the name.
    t.is(mine.find((r) => r.name === "owned-vnf-domain")!.inputs.name, "nfv-testpod-unit-vnf");
});

test("a program's own lineage goes to every pod it is given to, flat or in components, and no other is made", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    new TestPod("shared1", { spec, image, namePrefix: "nfv-testpod-s1", lineage: "program-lineage" });
    new TestPod("shared2", { spec, image, namePrefix: "nfv-testpod-s2", lineage: "program-lineage", guestComponents: false });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const mine = recorded.filter((r) => r.name.startsWith("shared"));
    t.deepEqual(
        mine.filter((r) => r.type === "nfvkit:pod:StackLineage"),
        [],
    );
    const stamped = mine.filter((r) => ["nfvkit:libvirt:Domain", "nfvkit:libvirt:ShmRegion", "nfvkit:host:HugepageReservation"].includes(r.type));
    t.is(stamped.length, 8);
    for (const r of stamped) t.is(r.inputs.lineage, "program-lineage", r.name);
});

test("the provider's StackLineage makes a new random id on each create, and never changes it", async (t) => {
    const { makeNfvkitProvider } = await import("../../components/provider/provider");
    const provider = makeNfvkitProvider(() => undefined);
    const lineageUrn = "urn:pulumi:ci::nfv-testpod::nfvkit:pod:TestPod$nfvkit:pod:StackLineage::pod-lineage";
    const one = await provider.create!(lineageUrn, {});
    const two = await provider.create!(lineageUrn, {});
    t.regex(one.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    t.is(one.outs.lineage, one.id);
    t.not(one.id, two.id, "two states never share one");
    t.false((await provider.diff!(one.id, lineageUrn, one.outs, {})).changes);
    t.deepEqual((await provider.read!(one.id, lineageUrn, one.outs)).props, { lineage: one.id });
    // A create a killed run never finished, taken into the state by `npm run down` with its inputs as its outputs.
    t.is((await provider.read!("interrupted", lineageUrn, {})).id, "", "one that never got its id is gone");
});

test("a lineage that a stack from an earlier kit gains is an update of its domains, shm files and reservations, never a replacement", async (t) => {
    const domain = await import("../../components/libvirt/domainOperations");
    const shm = await import("../../components/libvirt/shmOperations");
    const hugepages = await import("../../components/host/hugepageOperations");
    const shmOld = { uri: "qemu:///system", path: "/dev/shm/x", sizeBytes: 4096 };
    t.like(await shm.diff("x", shmOld, { ...shmOld, lineage: A }), { changes: true, replaces: [] });
    t.like(await shm.diff("x", { ...shmOld, lineage: A }, { ...shmOld, lineage: A }), { changes: false, replaces: [] });
    const pages = { uri: "qemu:///system", host: "local", node: 0, sizeKiB: 2048, count: 4 };
    t.like(await hugepages.diff("x", pages, { ...pages, lineage: A }), { changes: true, replaces: [] });
    const cputune = { vcpuPins: { "0": "0" }, emulatorPin: "0", iothreadPins: {}, fifo: {} };
    const guest = {
        uri: "qemu:///system",
        name: "g",
        xml: "<domain><name>g</name><cputune/></domain>",
        cputune,
        pinning: {},
        facts: {},
        consoleLog: "",
        readyPattern: "",
        bootTimeoutSec: 60,
    } as unknown as Parameters<typeof domain.diff>[2];
    const olds = { ...guest, uuid: "u", bootSeconds: 1, observedVcpuPins: {}, runState: "running" };
    t.like(await domain.diff("u", olds, { ...guest, lineage: A }), { changes: true, replaces: [] });
    t.like(await domain.diff("u", { ...olds, lineage: A }, { ...guest, lineage: A }), { changes: false, replaces: [] });
});

test.serial(
    "through the provider, an shm file is stamped with its state's lineage; the same resource of another state is refused, reads it as gone and leaves it on delete",
    async (t) => {
        const { makeNfvkitProvider } = await import("../../components/provider/provider");
        const provider = makeNfvkitProvider(() => undefined);
        const file = path.join(scratch, "shm", "nfv-testpod-ci-ring0");
        const inputs = { uri: "qemu:///system", path: file, sizeBytes: 4096 };

        const made = await provider.create!(urn, { ...inputs, lineage: A });
        writeFileSync(file, "the guests' ring"); // QEMU makes it when the first member starts
        t.deepEqual(shmEntries(), [{ urn, lineage: A, holds: { path: file } }], "the entry names the URN and the lineage");

        const refused = await t.throwsAsync(provider.create!(urn, { ...inputs, lineage: B }), { instanceOf: ProblemListError });
        t.like(refused!.problems[0], { path: "path", value: file });
        t.regex(refused!.problems[0].reason, new RegExp(`in another state \\(lineage ${A}; this stack's state has lineage ${B}\\)`));
        t.regex(refused!.problems[0].fix!, new RegExp(`pulumi stack output lineage\` prints ${A}`));
        t.deepEqual((await provider.read!(made.id, urn, { ...made.outs, lineage: B })).id, "", "another state reads it as gone");
        await provider.delete!(made.id, urn, { ...made.outs, lineage: B });
        t.is(readFileSync(file, "utf8"), "the guests' ring", "another state's delete leaves the file");
        t.deepEqual(shmEntries(), [{ urn, lineage: A, holds: { path: file } }], "and the entry");

        t.is((await provider.read!(made.id, urn, made.outs)).id, made.id, "its own state reads it");
        await provider.delete!(made.id, urn, made.outs);
        t.false(existsSync(file));
        t.deepEqual(shmEntries(), []);
    },
);

test.serial("an entry an earlier kit stamped with the URN alone: refused to a new state, its own state's update stamps it with the lineage", async (t) => {
    const { makeNfvkitProvider } = await import("../../components/provider/provider");
    const provider = makeNfvkitProvider(() => undefined);
    const file = path.join(scratch, "shm", "nfv-testpod-ci-legacy");
    const inputs = { uri: "qemu:///system", path: file, sizeBytes: 4096 };
    // The earlier kit: no lineage in the inputs, the state or the entry.
    const made = await provider.create!(urn, inputs);
    writeFileSync(file, "ring");
    t.deepEqual(shmEntries(), [{ urn, holds: { path: file } }]);

    await t.throwsAsync(provider.create!(urn, { ...inputs, lineage: B }), {
        instanceOf: ProblemListError,
        message: /no lineage: a kit from before lineages made it/,
    });
    t.is((await provider.read!(made.id, urn, made.outs)).id, made.id, "the state without a lineage still reads its own");

    // The first `up` with this kit: the stack's StackLineage is made, and the region takes its lineage.
    const diff = await provider.diff!(made.id, urn, made.outs, { ...inputs, lineage: A });
    t.like(diff, { changes: true, replaces: [] });
    const updated = await provider.update!(made.id, urn, made.outs, { ...inputs, lineage: A });
    t.deepEqual(shmEntries(), [{ urn, lineage: A, holds: { path: file } }]);
    t.is(readFileSync(file, "utf8"), "ring", "the file is kept");
    await provider.delete!(made.id, urn, updated.outs!);
    t.false(existsSync(file));
    t.deepEqual(shmEntries(), []);
});

test("a preview of a stack from an earlier kit says its guests, link and pages are stamped with the lineage: no replacement, no pin move, no page change", async (t) => {
    const { podChanges } = await import("../../components/preview");
    const { resolveTestPodSpec } = await import("../../components/pod/TestPod");
    const plan = resolveTestPodSpec({ spec, namePrefix: "nfv-testpod-ci" });
    const unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // the engine's unknown value: the lineage is made by this `up`
    const step = (type: string, name: string, inputs: Record<string, unknown>): EngineStep => ({
        op: "update",
        urn: `urn:pulumi:ci::nfv-testpod::x$${type}::${name}`,
        type,
        name,
        oldInputs: inputs,
        newInputs: { ...inputs, lineage: unknown },
        replaceReasons: [],
    });
    const c = podChanges(
        [
            {
                op: "create",
                urn: "urn:pulumi:ci::nfv-testpod::nfvkit:pod:StackLineage::pod-lineage",
                type: "nfvkit:pod:StackLineage",
                name: "pod-lineage",
                newInputs: {},
                replaceReasons: [],
            },
            step("nfvkit:libvirt:Domain", "pod-vnf-domain", { uri: "qemu:///system", pinning: { "vCPU 0": "host CPU 0" }, facts: { memory: "256 MiB" } }),
            step("nfvkit:libvirt:ShmRegion", "pod-link-ring0-shm", { uri: "qemu:///system", path: "/dev/shm/nfv-testpod-ci-ring0", sizeBytes: 4194304 }),
            step("nfvkit:host:HugepageReservation", "pod-hugepages-local-node0-2048k", { host: "local", node: 0, sizeKiB: 2048, count: 512 }),
        ],
        plan,
    );
    t.deepEqual(c.otherUpdates, [
        "vnf: stamped with the stack's lineage (docs/ownership.md)",
        "link ring0: stamped with the stack's lineage (docs/ownership.md)",
        "hugepages on local: stamped with the stack's lineage (docs/ownership.md)",
    ]);
    t.deepEqual([c.replaced, c.pinMoves, c.linksReplaced, c.hugepages, c.newGuests, c.other], [[], [], [], [], [], []]);
});

test.serial("through the provider, another state's hugepage entry is refused by create, read as gone and left by delete", async (t) => {
    const { makeNfvkitProvider } = await import("../../components/provider/provider");
    const { writeEntry } = await import("../../components/host/ledger");
    const { hostAccess } = await import("../../components/host/access");
    const provider = makeNfvkitProvider(() => undefined);
    const pagesUrn = "urn:pulumi:ci::nfv-testpod::nfvkit:pod:TestPod$nfvkit:host:HugepageReservation::pod-hugepages-local-node9-2048k";
    // NUMA node 9: no such pool on this machine, so a wrong step would fail on the pool rather than change a real one.
    const inputs = { uri: "qemu:///system", host: "local", node: 9, sizeKiB: 2048, count: 4 };
    const dir = path.join(scratch, "ledger", "hugepages");
    const entries = () => readdirSync(dir).map((f) => readFileSync(path.join(dir, f), "utf8"));
    await writeEntry(hostAccess(), "hugepages", { urn: pagesUrn, lineage: A }, { node: 9, sizeKiB: 2048, count: 4, poolBefore: 0, phase: "held" });
    const before = entries();

    const err = await t.throwsAsync(provider.create!(pagesUrn, { ...inputs, lineage: B }), { instanceOf: ProblemListError });
    t.like(err!.problems[0], { path: "host", value: "local/node9/2048kB" });
    t.true(
        err!.problems[0].reason.startsWith("4 pages of 2048 KiB on host local, NUMA node 9, are held by resource pod-hugepages-local-node9-2048k of stack ci"),
    );
    t.is((await provider.read!("local/node9/2048kB", pagesUrn, { ...inputs, lineage: B, poolAfter: 4 })).id, "");
    await provider.delete!("local/node9/2048kB", pagesUrn, { ...inputs, lineage: B, poolAfter: 4 });
    t.deepEqual(entries(), before, "A's entry is as it was");
});
