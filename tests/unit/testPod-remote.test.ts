/**
 * A pod on a remote host, under Pulumi mocks: with SSH access and pinned host
 * keys, every resource on that host (image copy, hugepages, shm file, domain)
 * is handed the host's access, so the provider works on that host's files.
 */
import test from "ava";
import { image, spec } from "../helpers/podFixtures";
import { recordResources, settle } from "../helpers/mockedPulumi";

const recorded = recordResources("nfv-testpod");

test("a remote host with SSH access and pinned keys is a pod host like any other: every resource there carries the access", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const remote = { ...spec, hosts: [{ ...spec.hosts[0], uri: "qemu+ssh://root@lab-1/system" }] };
    // With SSH access and a pinned host key it is a pod like any other; every resource on that host carries the access.
    const withSsh = {
        ...remote,
        hosts: [{ ...remote.hosts[0], ssh: { privateKeySecret: "hostKeyLab1", knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedKeyForTheTest" } }],
    };
    const access = {
        kind: "ssh" as const,
        name: "local",
        host: "lab-1",
        privateKey: "test key",
        knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedKeyForTheTest",
    };
    const pod = new TestPod("remote", { spec: withSsh, image, namePrefix: "nfv-testpod-unit", hostAccess: { local: access } });
    await settle(pod.guestSummaries);
    const made = recorded.filter((r) => r.name.startsWith("remote-"));
    for (const type of ["nfvkit:libvirt:Domain", "nfvkit:host:HugepageReservation", "nfvkit:libvirt:ShmRegion", "nfvkit:host:GuestImage"]) {
        const resources = made.filter((r) => r.type === type);
        t.true(resources.length > 0, `a ${type} was made`);
        for (const r of resources) t.like(r.inputs, { access: { kind: "ssh", host: "lab-1" } }, `${type} ${r.name} is reached over SSH`);
    }
});
