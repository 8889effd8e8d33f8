/**
 * The resource graph TestPod builds from a spec, under Pulumi mocks: which
 * children exist, their types, parents and inputs, and that the domain XML
 * handed to libvirt carries the pinning, hugepage and ivshmem elements.
 */
import test from "ava";
import { image, spec } from "../helpers/podFixtures";
import { recordParents, recordResources, settle } from "../helpers/mockedPulumi";

const recorded = recordResources("nfv-testpod");

test("TestPod builds hugepage reservations, one link and two pinned guests, all parented and named from the pod", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const pod = new TestPod("pod", { spec, image, namePrefix: "nfv-testpod-unit" }, recordParents());
    const summaries = await settle(pod.guestSummaries);
    t.deepEqual(Object.keys(summaries).sort(), ["peer", "vnf"]);
    // What only libvirt can say after start is no mock's to make up: the real tests (tests/e2e/ciPod.test.ts) read it.
    t.is(summaries.vnf.vcpuPins as Record<string, string> | undefined, undefined);

    // Every child hangs under the pod, each resource under its component, as a preview shows it.
    const podUrn = await settle(pod.urn);
    const parentOf = (name: string) => recorded.find((r) => r.name === name)!.parent;
    for (const child of ["pod-vnf", "pod-peer", "pod-link-ring0", "pod-hugepages-local-node0-2048k"]) t.is(parentOf(child), podUrn, child);
    t.is(parentOf("pod-vnf-domain"), await settle(pod.guests.vnf.urn));
    t.is(parentOf("pod-link-ring0-shm"), await settle(pod.links.ring0.urn));
    const byType = (type: string) =>
        recorded
            .filter((r) => r.type === type)
            .map((r) => r.name)
            .sort();
    t.deepEqual(byType("nfvkit:pod:TestPod"), ["pod"]);
    t.is(parentOf("pod"), "", "the pod sits at the top of the program");
    t.deepEqual(byType("nfvkit:guest:NfvGuest"), ["pod-peer", "pod-vnf"]);
    t.deepEqual(byType("nfvkit:link:IvshmemLink"), ["pod-link-ring0"]);
    t.deepEqual(byType("nfvkit:libvirt:Domain"), ["pod-peer-domain", "pod-vnf-domain"]);
    t.deepEqual(byType("nfvkit:libvirt:ShmRegion"), ["pod-link-ring0-shm"]);
    t.deepEqual(byType("nfvkit:host:HugepageReservation"), ["pod-hugepages-local-node0-2048k"]);

    const reservation = recorded.find((r) => r.type === "nfvkit:host:HugepageReservation")!;
    t.like(reservation.inputs, { uri: "qemu:///system", host: "local", node: 0, sizeKiB: 2048, count: 256 });

    const vnf = recorded.find((r) => r.name === "pod-vnf-domain")!;
    t.is(vnf.inputs.uri, "qemu:///system");
    t.is(vnf.inputs.name, pod.plan.guests.find((g) => g.name === "vnf")!.domainName);
    t.true(vnf.inputs.name.startsWith("nfv-testpod-unit"));
    const xml: string = vnf.inputs.xml;
    // vCPU 1 is real-time: on an isolated CPU, FIFO; vCPU 0 on housekeeping.
    const rtPin = pod.plan.guests.find((g) => g.name === "vnf")!.pins.find((p) => p.vcpu === 1)!;
    t.true([1, 2, 3].includes(rtPin.hostCpu));
    t.regex(xml, new RegExp(`<vcpupin vcpu='1' cpuset='${rtPin.hostCpu}'/>`));
    t.regex(xml, /<emulatorpin cpuset='0'\/>/);
    t.regex(xml, /<vcpusched vcpus='1' scheduler='fifo' priority='\d+'\/>/);
    t.regex(xml, /<hugepages>\s*<page size='2048' unit='KiB'/);
    t.regex(xml, /<locked\/>/);
    t.regex(xml, /<shmem name='[^']*ring0[^']*'>\s*<model type='ivshmem-plain'\/>\s*<size unit='B'>4194304<\/size>/);
    t.regex(xml, /<memballoon model='none'\/>/);
    t.regex(xml, /<kernel>\/var\/cache\/nfvkit\/images\/h\/vmlinuz<\/kernel>/);
    // What a preview of a pinning change shows, in guest terms.
    t.deepEqual(vnf.inputs.pinning, { "vCPU 0": "host CPU 0", "vCPU 1": `host CPU ${rtPin.hostCpu}, FIFO 1`, emulator: "host CPU 0" });
    t.is(vnf.inputs.facts.memory, "256 MiB");
    t.is(vnf.inputs.facts["shmem.nfv-testpod-unit-ring0"], "4194304 bytes");

    t.regex(pod.placementTable, /vnf/);
});

test("a bad spec fails before any resource is registered, naming every problem", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const before = recorded.length;
    const bad = {
        ...spec,
        guests: [
            { name: "vnf", host: "nowhere", vcpus: 1, memory: "256M" },
            { name: "vnf", host: "local", vcpus: 1, memory: "256M" },
        ],
    };
    const err = t.throws(() => new TestPod("bad", { spec: bad, image, namePrefix: "nfv-testpod-unit" }));
    t.regex(err!.message, /nfv-testpod:pod\.guests\[0\]\.host/);
    t.regex(err!.message, /nfv-testpod:pod\.guests\[1\]\.name/);
    t.deepEqual(recorded.slice(before), [], "nothing was registered, not even the component");
});

test("guests on a remote libvirt without SSH access are refused before anything is registered, with the reason", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const before = recorded.length;
    const remote = { ...spec, hosts: [{ ...spec.hosts[0], uri: "qemu+ssh://root@lab-1/system" }] };
    const err = t.throws(() => new TestPod("remote", { spec: remote, image, namePrefix: "nfv-testpod-unit" }));
    t.is(
        err!.message,
        "pod spec has 1 problem:\nnfv-testpod:pod.hosts[0].ssh: is needed: host local is remote (qemu+ssh://root@lab-1/system) and has guests, so the kit copies the guest image there and works on its files over SSH (got nothing). Fix: add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }, or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts",
    );
    t.deepEqual(recorded.slice(before), []);
});
