/**
 * What `npm run down` makes of the pending creates a killed run left: each is
 * taken into the state's resources (outputs = its inputs, an id the engine
 * can delete by), in an order the state accepts, with no pending operation
 * left; a provider's is left out, a component gets no id, and a URN already
 * in the state goes in marked for deletion.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describePending, INTERRUPTED_CREATE_ID, takePendingCreates, type ExportedDeployment } from "../../tools/cli/interruptedCreates";

const urn = (type: string, name: string, parents = "") => `urn:pulumi:ci::nfv-testpod::${parents}${type}::${name}`;
const stackUrn = urn("pulumi:pulumi:Stack", "nfv-testpod-ci");
const providerUrn = urn("pulumi:providers:nfvkit", "default_0_1_0");
const podUrn = urn("nfvkit:pod:TestPod", "pod", "");
const pagesUrn = urn("nfvkit:host:HugepageReservation", "pod-pages-local-node0-2048k", "nfvkit:pod:TestPod$");
const vnfUrn = urn("nfvkit:libvirt:Domain", "pod-vnf", "nfvkit:pod:TestPod$nfvkit:guest:NfvGuest$");

/** A state as a kill during domain creation leaves it: the pages recorded, the vnf domain's create begun, not reported. */
function killedDuringBoot(): ExportedDeployment {
    return {
        manifest: { time: "2026-12-05T07:00:00Z", magic: "m", version: "v3.260.0" },
        secrets_providers: { type: "passphrase", state: { salt: "s" } },
        resources: [
            { urn: stackUrn, custom: false, type: "pulumi:pulumi:Stack" },
            { urn: `${providerUrn}`, custom: true, id: "4f0d", type: "pulumi:providers:nfvkit", inputs: { version: "0.1.0" }, outputs: { version: "0.1.0" } },
            { urn: podUrn, custom: false, type: "nfvkit:pod:TestPod", parent: stackUrn },
            {
                urn: pagesUrn,
                custom: true,
                id: "local/node0/2048kB",
                type: "nfvkit:host:HugepageReservation",
                inputs: { count: 256 },
                outputs: { count: 256, poolAfter: 512 },
                parent: podUrn,
                provider: `${providerUrn}::4f0d`,
            },
        ],
        pending_operations: [
            {
                type: "creating",
                resource: {
                    urn: vnfUrn,
                    custom: true,
                    type: "nfvkit:libvirt:Domain",
                    inputs: { name: "nfv-testpod-ci-vnf", uri: "qemu:///system", xml: "<domain/>" },
                    parent: podUrn,
                    dependencies: [pagesUrn],
                    provider: `${providerUrn}::4f0d`,
                },
            },
        ],
    };
}

test("a pending create becomes a resource of the state, after everything it needs, with its inputs as outputs and an id to delete it by", (t) => {
    const before = killedDuringBoot();
    const { deployment, taken } = takePendingCreates(before);
    t.deepEqual(taken, [vnfUrn]);
    t.deepEqual(deployment.pending_operations, [], "no pending operation is left for `pulumi stack import` to drop");
    t.deepEqual(
        deployment.resources!.map((r) => r.urn),
        [stackUrn, providerUrn, podUrn, pagesUrn, vnfUrn],
    );
    const vnf = deployment.resources!.at(-1)!;
    t.is(vnf.id, INTERRUPTED_CREATE_ID);
    t.deepEqual(vnf.outputs, { name: "nfv-testpod-ci-vnf", uri: "qemu:///system", xml: "<domain/>" }, "what deleteDomain reads: name, uri");
    t.deepEqual(vnf.dependencies, [pagesUrn], "its dependencies stay, so destroy removes the domain before the pages");
    t.is(vnf.delete, undefined);
    t.deepEqual(deployment.manifest, before.manifest, "the rest of the deployment is kept as it was");
    t.deepEqual(before.pending_operations!.length, 1, "the deployment given is not changed");
});

test("a provider's pending create is left out, a component's gets no id, and a URN already in the state goes in marked for deletion", (t) => {
    const d = killedDuringBoot();
    const guestUrn = urn("nfvkit:guest:NfvGuest", "pod-vnf", "nfvkit:pod:TestPod$");
    d.pending_operations = [
        { type: "creating", resource: { urn: urn("pulumi:providers:nfvkit", "other"), custom: true, type: "pulumi:providers:nfvkit" } },
        { type: "creating", resource: { urn: guestUrn, custom: false, type: "nfvkit:guest:NfvGuest", parent: podUrn } },
        { type: "creating", resource: { urn: pagesUrn, custom: true, type: "nfvkit:host:HugepageReservation", inputs: { count: 512 }, parent: podUrn } },
        { type: "deleting", resource: { urn: pagesUrn, custom: true, id: "local/node0/2048kB", type: "nfvkit:host:HugepageReservation" } },
    ];
    const { deployment, taken } = takePendingCreates(d);
    t.deepEqual(taken, [guestUrn, pagesUrn]);
    const [guest, pages] = deployment.resources!.slice(-2);
    t.false("id" in guest && guest.id !== undefined, "a component has no id");
    t.is(pages.id, INTERRUPTED_CREATE_ID);
    t.true(pages.delete, "the second resource of one URN is the engine's 'to delete'");
    t.deepEqual(deployment.pending_operations, [], "the pending delete goes too: the refresh reads what it touched");
});

test("the line that says the run was interrupted names each operation by its resource", (t) => {
    t.is(describePending(killedDuringBoot().pending_operations!), "creating of pod-vnf");
});

/** Every resource after its parent, its dependencies and its provider: what `pulumi stack import` checks first. */
function orderProblems(resources: ExportedDeployment["resources"] & object): string[] {
    const seen = new Set<string>();
    const problems: string[] = [];
    for (const r of resources) {
        const needs: (string | undefined)[] = [
            r.parent as string | undefined,
            ...((r.dependencies as string[] | undefined) ?? []),
            (r.provider as string | undefined)?.split("::").slice(0, -1).join("::"),
        ];
        for (const need of needs) if (need && !seen.has(need)) problems.push(`${r.urn} comes before ${need}`);
        seen.add(r.urn);
    }
    return problems;
}

test("a real state left by kill -9 of pulumi up and its plugins while the ci pod's domains booted: the pending domains are taken, in an order the state accepts", (t) => {
    const file = path.join("tests", "fixtures", "engine", "export-ci-killed-at-boot-3.260.json");
    const exported = JSON.parse(readFileSync(file, "utf8")) as { deployment: ExportedDeployment };
    const pendingCreates = exported.deployment.pending_operations!.filter((op) => op.type === "creating").map((op) => op.resource.urn);
    t.true(
        pendingCreates.some((u) => u.includes("nfvkit:libvirt:Domain")),
        "the capture has a domain's create unfinished",
    );
    const { deployment, taken } = takePendingCreates(exported.deployment);
    t.deepEqual(
        taken,
        pendingCreates.filter((u) => !u.includes("::pulumi:providers:")),
    );
    t.deepEqual(deployment.pending_operations, []);
    t.deepEqual(orderProblems(deployment.resources!), []);
    for (const urn of taken.filter((u) => u.includes("nfvkit:libvirt:Domain"))) {
        const domain = deployment.resources!.find((r) => r.urn === urn)!;
        t.is(domain.id, INTERRUPTED_CREATE_ID);
        t.truthy(domain.outputs!.name, "deleteDomain finds the domain's name in the outputs");
        t.is(domain.outputs!.uri, "qemu:///system");
        // The engine records no dependencies on the domain itself; its parent, the guest, depends on the pages,
        // and destroy removes children before their parent.
        const guest = deployment.resources!.find((r) => r.urn === domain.parent)!;
        t.true(
            (guest.dependencies as string[]).some((d) => d.includes("nfvkit:host:HugepageReservation")),
            "destroy removes the domain before the pages it maps",
        );
    }
});
