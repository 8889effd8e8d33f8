/**
 * TestPod with `guestComponents: false` (what large pods use, docs/bench.md):
 * the same domains and shm files, with the same names and inputs, registered
 * directly under the pod instead of inside NfvGuest and IvshmemLink
 * components. Under Pulumi mocks, in a file of its own so the recorded graph
 * is this test's alone.
 */
import test from "ava";
import { image, spec } from "../helpers/podFixtures";
import { recordParents, recordResources, settle } from "../helpers/mockedPulumi";

const recorded = recordResources("nfv-testpod");

test("with guestComponents false, each domain and shm file hangs directly under the pod, named and given inputs as with components", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const pod = new TestPod("flat", { spec, image, namePrefix: "nfv-testpod-flat", guestComponents: false }, recordParents());
    const summaries = await settle(pod.guestSummaries);
    t.deepEqual(Object.keys(summaries).sort(), ["peer", "vnf"]);
    t.deepEqual(pod.guests, {});
    t.deepEqual(pod.links, {});
    t.is(await settle(pod.guestOutputs.vnf.domainName), pod.plan.guests.find((g) => g.name === "vnf")!.domainName);

    const mine = recorded.filter((r) => r.name.startsWith("flat"));
    const podUrn = await settle(pod.urn);
    t.deepEqual(mine.map((r) => `${r.type} ${r.name}`).sort(), [
        "nfvkit:host:GuestImage flat-image-local",
        "nfvkit:host:HugepageReservation flat-hugepages-local-node0-2048k",
        "nfvkit:libvirt:Domain flat-peer-domain",
        "nfvkit:libvirt:Domain flat-vnf-domain",
        "nfvkit:libvirt:ShmRegion flat-link-ring0-shm",
        "nfvkit:pod:StackLineage flat-lineage",
        "nfvkit:pod:TestPod flat",
    ]);
    for (const r of mine.filter((r) => r.type !== "nfvkit:pod:TestPod")) t.is(r.parent, podUrn, r.name);
    // The same domain inputs as under an NfvGuest component: only the parent differs, and the lineage, each pod's own.
    const flatVnf = mine.find((r) => r.name === "flat-vnf-domain")!;
    const wrappedPod = new TestPod("wrapped", { spec, image, namePrefix: "nfv-testpod-flat" }, recordParents());
    await settle(wrappedPod.guestSummaries);
    const wrapped = recorded.find((r) => r.name === "wrapped-vnf-domain")!;
    t.is(wrapped.parent, await settle(wrappedPod.guests.vnf.urn));
    t.deepEqual({ ...flatVnf.inputs, xml: undefined, lineage: undefined }, { ...wrapped.inputs, xml: undefined, lineage: undefined });
    t.is(flatVnf.inputs.lineage, "flat-lineage-id");
    t.is(flatVnf.inputs.xml.replace(">flat<", ">wrapped<"), wrapped.inputs.xml);
    t.regex(flatVnf.inputs.xml, /<shmem name='nfv-testpod-flat-ring0'>/);
});
