/**
 * The library-use example (docs/examples/own-program) run under Pulumi mocks:
 * a program of one's own builds the pod from the package entry point
 * (components/index.ts), with host facts and image passed in, and registers
 * the same resource graph as the kit's own program. Also checks that the
 * entry point exports what docs/library-use.md promises.
 */
import test from "ava";
import type * as pulumi from "@pulumi/pulumi";
import { recordParents, recordResources, settle } from "../helpers/mockedPulumi";

const registered = recordResources("nfv-lab-pod");

// What discoverHosts() would report for a 4-CPU host under TCG, given instead of asking libvirt.
const hostFacts = {
    lab: {
        topology: { numaNodes: [{ id: 0, cpus: [0, 1, 2, 3] }], smtSiblings: [] },
        accel: { accel: "tcg" as const, reason: "TCG: given by the test" },
        memoryLocking: { supported: false, reason: "memory locking off: given by the test" },
    },
};
const image = { kernel: "/images/h1/vmlinuz", initrd: "/images/h1/initrd.img", hash: "h1", kernelVersion: "6.1.0-rt", tools: {} };

test("the example builds its pod from the package entry point: every resource typed, named from the pod and parented", async (t) => {
    const { createPod } = await import("../../docs/examples/own-program/pod");
    const { pod, outputs } = createPod({ image, hostFacts, namePrefix: "lab-unit" }, recordParents());
    const guests = await settle(outputs.guests);
    const urn = (r: pulumi.Resource) => settle(r.urn);

    const names = (type: string) =>
        registered
            .filter((r) => r.type === type)
            .map((r) => r.name)
            .sort();
    t.deepEqual(names("nfvkit:pod:TestPod"), ["lab"]);
    t.deepEqual(names("nfvkit:guest:NfvGuest"), ["lab-peer", "lab-vnf"]);
    t.deepEqual(names("nfvkit:link:IvshmemLink"), ["lab-link-ring0"]);
    t.deepEqual(names("nfvkit:libvirt:Domain"), ["lab-peer-domain", "lab-vnf-domain"]);
    t.deepEqual(names("nfvkit:libvirt:ShmRegion"), ["lab-link-ring0-shm"]);
    t.deepEqual(names("nfvkit:host:HugepageReservation"), ["lab-hugepages-lab-node0-2048k"]);
    t.deepEqual(names("nfvkit:host:GuestImage"), ["lab-image-lab"], "the image is put on the host by content hash");
    t.deepEqual(names("nfvkit:pod:StackLineage"), ["lab-lineage"], "the pod's lineage, stamped on what it makes on its hosts");
    t.is(registered.length, 10, registered.map((r) => `${r.type} ${r.name}`).join("\n"));

    // Parents: the pod holds guests, link and reservation; each guest its domain; the link its shm file.
    const podUrn = await urn(pod);
    const parent = (name: string) => registered.find((r) => r.name === name)!.parent;
    for (const child of ["lab-vnf", "lab-peer", "lab-link-ring0", "lab-hugepages-lab-node0-2048k", "lab-image-lab", "lab-lineage"])
        t.is(parent(child), podUrn, child);
    t.is(parent("lab-vnf-domain"), await urn(pod.guests.vnf));
    t.is(parent("lab-peer-domain"), await urn(pod.guests.peer));
    t.is(parent("lab-link-ring0-shm"), await urn(pod.links.ring0));
    t.is(parent("lab"), "", "the pod sits at the top of the program");

    // What the resources are asked to do, in the user's terms.
    const domain = registered.find((r) => r.name === "lab-vnf-domain")!;
    t.is(domain.inputs.uri, "qemu:///system");
    t.is(domain.inputs.name, "lab-unit-vnf");
    t.is(domain.inputs.facts.accel, "tcg");
    t.is(domain.inputs.facts["knobs.locked"], "false", "the host's memory-locking fact turned the knob off");
    t.regex(domain.inputs.xml, /<kernel>\/images\/h1\/vmlinuz<\/kernel>/);
    t.regex(domain.inputs.xml, /<shmem name='lab-unit-ring0'>/);
    const rtCpu = Number(/^host CPU (\d+), FIFO \d+$/.exec(domain.inputs.pinning["vCPU 1"])?.[1]);
    t.true([1, 2, 3].includes(rtCpu), `vnf's RT vCPU on an isolated CPU at FIFO, got ${domain.inputs.pinning["vCPU 1"]}`);
    t.is(domain.inputs.pinning["vCPU 0"], "host CPU 0", "vnf's housekeeping vCPU on the housekeeping CPU");
    t.like(registered.find((r) => r.name === "lab-hugepages-lab-node0-2048k")!.inputs, { host: "lab", node: 0, sizeKiB: 2048, count: 256 });
    t.like(registered.find((r) => r.name === "lab-link-ring0-shm")!.inputs, { path: "/dev/shm/lab-unit-ring0", sizeBytes: 4 * 1024 * 1024 });

    // The program's outputs: placement table, guests, accelerator.
    const lines = outputs.placement.split("\n");
    t.deepEqual(lines[0].split(/\s+/), ["HOST", "GUEST", "THREAD", "HOST", "CPU", "NODE", "ROLE"]);
    t.true(
        lines.some((l) => new RegExp(`^lab\\s+vnf\\s+vcpu1\\s+${rtCpu}\\s+0\\s+rt$`).test(l)),
        outputs.placement,
    );
    t.true(
        lines.some((l) => /^lab\s+peer\s+vcpu0\s+0\s+0\s+housekeeping$/.test(l)),
        outputs.placement,
    );
    t.deepEqual(Object.keys(guests).sort(), ["peer", "vnf"]);
    t.like(guests.vnf, {
        host: "lab",
        uri: "qemu:///system",
        domain: "lab-unit-vnf",
        accel: "tcg",
        consoleLog: "/var/log/libvirt/qemu/lab-unit-vnf-console.log",
    });
    // Boot time and the pins libvirt reports after start come from the provider alone: no mock makes them up.
    t.is(guests.vnf.bootSeconds as number | undefined, undefined);
    t.is(guests.vnf.vcpuPins as Record<string, string> | undefined, undefined);
    t.deepEqual(outputs.accel, { lab: "TCG: given by the test" });
});

test("the example's program entry is a function, so it gathers host facts and the image only when the engine runs it", async (t) => {
    const program = await import("../../docs/examples/own-program/index");
    const entry = (program as { default?: unknown }).default ?? program;
    t.is(typeof entry, "function");
});

test("without host facts the example's spec cannot be planned, and the error names where the spec came from", async (t) => {
    const { createPod } = await import("../../docs/examples/own-program/pod");
    const before = registered.length;
    const err = t.throws(() => createPod({ image, namePrefix: "lab-unit" }));
    t.regex(err!.message, /labPodSpec\(\)\.hosts\[0\]/);
    t.regex(err!.message, /topology/);
    t.is(registered.length, before, "nothing registered");
});

test("the package entry point exports the components, host discovery and the pure pipeline", async (t) => {
    const kit = await import("../../components");
    for (const name of [
        "TestPod",
        "NfvGuest",
        "IvshmemLink",
        "discoverHosts",
        "chooseAccel",
        "resolvePod",
        "ProblemListError",
        "MemorySize",
        "CpuSet",
        "formatPlacementTable",
        "renderDomainXml",
        "describePinning",
        "tokens",
        "ensureGuestImage",
    ]) {
        t.truthy((kit as Record<string, unknown>)[name], name);
    }
    // The pure stages work without an engine: resolve the example's spec with declared topology.
    const { labPodSpec } = await import("../../docs/examples/own-program/pod");
    const spec = labPodSpec("qemu:///system");
    const resolved = kit.resolvePod(spec, { namePrefix: "lab-unit", discovered: { lab: hostFacts.lab.topology } });
    t.deepEqual(
        resolved.guests.map((g) => g.domainName),
        ["lab-unit-vnf", "lab-unit-peer"],
    );
    t.regex(kit.formatPlacementTable(resolved.placement), /^HOST\s+GUEST/);
});
