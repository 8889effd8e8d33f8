/**
 * Two clones of the project on one host, each with its own backend (two
 * `file://` folders), bring up the same stack name of the same project: the
 * same URNs, the same domain and file names. Ownership names the state
 * (docs/ownership.md): the second stack's `up` is refused and takes nothing
 * of the first's, its `down` removes nothing of the first's, and the first's
 * `down` still cleans up everything. Asserted on libvirt, /dev/shm, the
 * ledger's files and the kernel's hugepage counts.
 */
import test from "ava";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { virsh } from "../../components/host/access/virsh";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, ledgerFiles, LOCAL_URI, meminfoHugePages, shmFilesWithPrefix } from "../helpers/host";
import { useStack, type TestStack } from "../helpers/stack";

const PREFIX = "nfv-testpod-ci";

/** What of stack ci is on this host: each domain's UUID, state and QEMU pid (a restart changes it), the link files, the ledger, the pages. */
async function onHost() {
    const domains: Record<string, { uuid: string; state: string; qemuPid: string }> = {};
    for (const name of (await domainsWithPrefix(PREFIX)).sort()) {
        domains[name] = {
            uuid: (await virsh(LOCAL_URI, ["domuuid", name])).trim(),
            state: (await virsh(LOCAL_URI, ["domstate", name])).trim(),
            qemuPid: readFileSync(`/run/libvirt/qemu/${name}.pid`, "utf8").trim(),
        };
    }
    const shm = Object.fromEntries(shmFilesWithPrefix(PREFIX).map((f) => [f, statSync(path.join("/dev/shm", f)).ino]));
    return { domains, shm, ledger: ledgerFiles("ci"), pool: hugepages2M(), meminfo: meminfoHugePages() };
}

/** The resources a stack's state holds, by type, with their outputs. */
async function stateOf(stack: TestStack, backend: string): Promise<Map<string, Record<string, unknown>>> {
    const r = await stack.run(["stack", "export"]);
    if (r.code !== 0) throw new Error(`pulumi stack export (${backend}) failed:\n${r.stderr}`);
    const resources = (JSON.parse(r.stdout).deployment?.resources ?? []) as { type: string; outputs?: Record<string, unknown> }[];
    return new Map(resources.map((x) => [x.type, x.outputs ?? {}]));
}

test.serial("two backends, one stack name, one host: B's up is refused and takes nothing of A's, B's down removes nothing, A's down cleans up", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const meminfoBefore = meminfoHugePages();
    const folders = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), "nfvkit-backend-")));
    // Teardowns run last-registered first: both stacks are destroyed before their backends go.
    t.teardown(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));
    const [backendA, backendB] = folders.map((f) => `file://${f}`);
    const a = useStack(t, "ci", PREFIX, { backend: backendA });
    const b = useStack(t, "ci", PREFIX, { backend: backendB, removeLeftovers: false });

    await a.up();
    const lineageA = (await a.outputs()).lineage as string;
    t.regex(lineageA, /^[0-9a-f-]{36}$/, "`pulumi stack output lineage` prints A's lineage");
    const afterA = await onHost();
    t.deepEqual(Object.keys(afterA.domains), [`${PREFIX}-peer`, `${PREFIX}-vnf`]);
    t.is(Object.keys(afterA.shm).length, 1, "A's link file");
    t.is(afterA.pool, hugepagesBefore + 256, "A reserved its 256 pages");
    t.is(afterA.meminfo, meminfoBefore + 256);
    // A's stamps: its lineage next to the URN, on the domains and in the ledger.
    for (const name of Object.keys(afterA.domains)) {
        t.is(/<nfvkit:entry key=.lineage.>([^<]*)</.exec(await virsh(LOCAL_URI, ["dumpxml", name]))?.[1], lineageA, name);
    }
    const entries = Object.values(afterA.ledger).map((text) => JSON.parse(text) as { urn: string; lineage?: string });
    t.deepEqual(entries.map((e) => e.urn.split("::").pop()).sort(), ["pod-hugepages-local-node0-2048k", "pod-link-ring0-shm"]);
    for (const e of entries) t.is(e.lineage, lineageA, e.urn);

    // B: the same project and stack name in another backend.
    const upB = await b.run(["up", "--yes", "--skip-preview"]);
    t.not(upB.code, 0, "B's up is refused");
    t.deepEqual(await onHost(), afterA, "B's up took, restarted, rewrote and released nothing of A's");
    t.log(upB.stdout + upB.stderr);
    // B got as far as making its own lineage (and the shared guest image); everything stamped on the host was refused.
    const stateB = await stateOf(b, backendB);
    t.true(stateB.has("nfvkit:host:GuestImage"));
    const lineageB = stateB.get("nfvkit:pod:StackLineage")?.lineage;
    t.regex(String(lineageB), /^[0-9a-f-]{36}$/, "B's state has a lineage");
    t.not(lineageB, lineageA, "of its own");
    for (const type of ["nfvkit:libvirt:Domain", "nfvkit:libvirt:ShmRegion", "nfvkit:host:HugepageReservation"])
        t.false(stateB.has(type), `B's state holds no ${type}`);

    const refreshB = await b.run(["refresh", "--yes", "--skip-preview"]);
    t.is(refreshB.code, 0, refreshB.stdout + refreshB.stderr);
    const downB = await b.run(["destroy", "--yes", "--skip-preview"]);
    t.is(downB.code, 0, downB.stdout + downB.stderr);
    t.deepEqual(await onHost(), afterA, "B's refresh and down removed nothing of A's");

    // A, from its own backend, still sees its pod as it left it, and takes it all down.
    const previewA = await a.run(["preview", "--expect-no-changes"]);
    t.is(previewA.code, 0, previewA.stdout + previewA.stderr);
    const downA = await a.run(["destroy", "--yes", "--skip-preview"]);
    t.is(downA.code, 0, downA.stdout + downA.stderr);
    t.deepEqual(await domainsWithPrefix(PREFIX), []);
    t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    t.deepEqual(ledgerFiles("ci"), {});
    t.is(hugepages2M(), hugepagesBefore);
    t.is(meminfoHugePages(), meminfoBefore);
});
