/**
 * The ProbeSuite that `pulumi up` runs, as the program registers it (Pulumi
 * mocks, through the SDK's public API): with a migration in the stack, its
 * inputs carry everything the migration needs to run in `up` and again in
 * `npm run probe`: both hosts with their pinned SSH access (never this
 * machine in a remote host's place), the destination's placement planned
 * from the plan and that host's own CPUs and guests, the receiver's address
 * and nfvkit-migload's path from the guest image.
 */
import test from "ava";
import { recordResources, settle } from "../helpers/mockedPulumi";
import { image } from "../helpers/podFixtures";

const recorded = recordResources("nfv-testpod");

const knownHosts = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedKeyForTheTest";
const labHost = (name: string, address: string, isolatedCpus: string) => ({
    name,
    uri: `qemu+ssh://root@${address}/system`,
    ssh: { user: "root", address, port: 22, privateKeySecret: "labKey", knownHosts },
    topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
    housekeepingCpus: "0",
    isolatedCpus,
    hugepages: [{ node: 0, size: "2M", count: 256 }],
});
const spec = {
    hosts: [labHost("lab-1", "10.213.100.11", "1-3"), labHost("lab-2", "10.213.100.12", "2-3")],
    guests: [
        { name: "vnf", host: "lab-1", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M", knobs: { userNic: true } },
        // lab-2's own guest holds its first isolated CPU: vnf must land next to it, not on it.
        { name: "peer", host: "lab-2", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" },
    ],
};
const access = (address: string) => ({ kind: "ssh" as const, host: address, user: "root", port: 22, privateKey: "test key", knownHosts });

test("with a migration in the stack, the ProbeSuite carries both hosts' access, the destination's planned placement, the receiver and the tool", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const { checkProbeSuiteConfig } = await import("../../components/probes/suiteConfig");
    const { DEFAULT_TARGETS } = await import("../../components/probes/targets");
    const config = checkProbeSuiteConfig({ durationSec: 3, migration: [{ guest: "vnf", to: "lab-2", receiver: "10.213.100.1" }] }).config!;
    const pod = new TestPod("lab", {
        spec,
        image: { ...image, programs: { "nfvkit-migload": "/var/cache/nfvkit/images/h/bin/nfvkit-migload", "nfvkit-ring": "/r" } },
        namePrefix: "nfv-testpod-lab",
        hostAccess: { "lab-1": access("10.213.100.11"), "lab-2": access("10.213.100.12") },
        probes: { config, targets: DEFAULT_TARGETS, gate: "enforce", resultsDir: "results/lab" },
    });
    await settle(pod.probes!.pass);
    const [suite] = recorded.filter((r) => r.type === "nfvkit:probes:ProbeSuite");
    const inputs = suite.inputs;

    // Every host, each with its own pinned SSH access and the kernel args its plan needs (the host gate).
    t.deepEqual(
        inputs.hosts.map((h: { name: string; access: { kind: string; host: string } }) => [h.name, h.access.kind, h.access.host]),
        [
            ["lab-1", "ssh", "10.213.100.11"],
            ["lab-2", "ssh", "10.213.100.12"],
        ],
    );
    t.true(inputs.hosts.every((h: { kernelArgs: string[] }) => h.kernelArgs.some((a) => a.startsWith("isolcpus="))));
    t.like(inputs.guests[0], { guest: "vnf", host: "lab-1", domain: "nfv-testpod-lab-vnf", access: { kind: "ssh", host: "10.213.100.11" } });

    // The migration, planned once: vnf's pins on lab-1 from the plan, on lab-2 next to peer (which holds CPU 2).
    const { tool, moves } = inputs.kinds.migration;
    t.is(tool, "/var/cache/nfvkit/images/h/bin/nfvkit-migload");
    t.is(moves.length, 1);
    const [move] = moves;
    t.like(move, { guest: "vnf", domain: "nfv-testpod-lab-vnf", host: "lab-1", receiver: "10.213.100.1", memoryMiB: 256 });
    t.deepEqual(move.hosts["lab-1"].pins, { "0": "0", "1": "1" });
    t.deepEqual(move.hosts["lab-2"].pins, { "0": "0", "1": "3" }, "on lab-2 the RT vCPU takes the isolated CPU peer leaves free");
    t.true(move.hosts["lab-2"].cputune.includes("  <vcpupin vcpu='1' cpuset='3'/>"));
    t.deepEqual(move.hugepages["lab-2"], { node: 0, sizeKiB: 2048, pages: 128 });
    // The inter-VM probe is not named: nothing recorded for it.
    t.is(inputs.kinds.interVm, undefined);
    t.deepEqual(inputs.config.migration[0].to, "lab-2");
});
