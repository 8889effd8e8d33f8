/**
 * Probe settings are validated all at once (issue 18, finding 4): a shape
 * problem in one entry never hides a cross-reference problem in another, or
 * in itself, for `probes.migration` and `probes.interVm` alike; a problem
 * elsewhere in the probe settings or in the pod hides none either. And
 * migrations the probe could never make are refused before anything is
 * created: a guest holding an SR-IOV VF by passthrough, a destination the kit
 * cannot reach, a destination with no room for the guest. Each through the
 * one validation `npm run validate` and the program run (validateStack).
 */
import test from "ava";
import { validateStack } from "../../components/validate";

const host = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    uri: `qemu+ssh://root@${name}/system`,
    ssh: { privateKeySecret: "labKey", knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPinnedKeyForTheTest" },
    topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
    housekeepingCpus: "0",
    isolatedCpus: "1-3",
    hugepages: [{ node: 0, size: "2M", count: 256 }],
    ...extra,
});

/** The lab's shape: vnf on lab-1 with a user-mode NIC, peer on lab-2. */
function labPod(): any {
    return {
        hosts: [host("lab-1"), host("lab-2")],
        guests: [
            { name: "vnf", host: "lab-1", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M", knobs: { userNic: true } },
            { name: "peer", host: "lab-2", vcpus: 1, rtVcpus: [], memory: "256M", pageSize: "2M" },
        ],
    };
}

/** The problems of a stack with this pod and these probe settings, as lines a user reads. */
function problems(pod: unknown, probes: unknown): string[] {
    const r = validateStack({ config: { "nfv-testpod:pod": pod, "nfv-testpod:probes": probes }, namePrefix: "nfv-testpod-lab", kind: "spec" });
    return r.problems.map((p) => `${p.path}: ${p.reason}`);
}

test("three migration entries, one to its own host, one to an unknown host, one of an unknown guest: three problems", (t) => {
    t.deepEqual(
        problems(labPod(), {
            migration: [
                { guest: "vnf", from: "lab-1", to: "lab-1" },
                { guest: "vnf", to: "lab-9" },
                { guest: "vfn", to: "lab-2" },
            ],
        }),
        [
            "nfv-testpod:probes.migration[0].to: is the host it starts on: a migration needs another host",
            "nfv-testpod:probes.migration[1].to: is not a host of the pod",
            "nfv-testpod:probes.migration[2].guest: is not a guest of the pod",
        ],
    );
});

test("a shape problem in an entry hides none of its own cross-references, nor a problem elsewhere in the settings", (t) => {
    t.deepEqual(
        problems(labPod(), {
            durationSec: -1,
            migration: [{ guest: "vfn", to: "lab-9", workload: "cpu" }],
        }),
        [
            "nfv-testpod:probes.durationSec: must be a whole number from 1 to 86400",
            "nfv-testpod:probes.migration[0].workload: is not a migration workload",
            "nfv-testpod:probes.migration[0].guest: is not a guest of the pod",
            "nfv-testpod:probes.migration[0].to: is not a host of the pod",
        ],
    );
});

test("three interVm entries, one with the producer as consumer, one of an unknown link, one with a guest not on the link: three problems", (t) => {
    const pod = {
        hosts: [host("local", { uri: "qemu:///system", ssh: undefined, hugepages: [{ node: 0, size: "2M", count: 512 }] })],
        guests: [
            { name: "vnf", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" },
            { name: "peer", vcpus: 1, rtVcpus: [], memory: "256M", pageSize: "2M" },
            { name: "ghost", vcpus: 1, rtVcpus: [], memory: "256M", pageSize: "2M" },
        ],
        links: [{ name: "ring0", size: "4M", members: ["vnf", "peer"] }],
    };
    t.deepEqual(
        problems(pod, {
            interVm: [
                { link: "ring0", producer: "vnf", consumer: "vnf" },
                { link: "ring9", producer: "peer", consumer: "vnf" },
                { link: "ring0", producer: "peer", consumer: "ghost" },
            ],
        }),
        [
            "nfv-testpod:probes.interVm[0].consumer: is the producer too: a ring joins two guests",
            "nfv-testpod:probes.interVm[1].link: is not a link of the pod",
            "nfv-testpod:probes.interVm[2].consumer: is not a member of link ring0",
        ],
    );
});

test("a pod with problems of its own still has its probe settings checked against the names it gives", (t) => {
    const pod = labPod();
    pod.guests[1].memory = "lots";
    const lines = problems(pod, { migration: [{ guest: "vnf", to: "lab-9" }] });
    t.true(
        lines.some((l) => l.startsWith("guests[1].memory: ")),
        lines.join("\n"),
    );
    t.true(lines.includes("nfv-testpod:probes.migration[0].to: is not a host of the pod"), lines.join("\n"));
});

test("a guest that takes an SR-IOV VF by passthrough is refused for migration, with libvirt's reason", (t) => {
    const pod = labPod();
    pod.hosts[0].pfs = [{ name: "enp1s0", vfCount: 4, numaNode: 0 }];
    pod.guests[0].vfs = [{ pf: "enp1s0", vf: 1, pciAddress: "0000:01:10.2", attach: "hostdev" }];
    const r = validateStack({
        config: { "nfv-testpod:pod": pod, "nfv-testpod:probes": { migration: [{ guest: "vnf", to: "lab-2" }] } },
        namePrefix: "nfv-testpod-lab",
        kind: "spec",
    });
    t.deepEqual(
        r.problems.map((p) => [p.path, p.value, p.reason, p.fix]),
        [
            [
                "nfv-testpod:probes.migration[0].guest",
                "vnf",
                'takes SR-IOV VF 0000:01:10.2 (attach: hostdev) by VFIO passthrough, and libvirt cannot migrate a guest with an assigned PCI device (it refuses: "domain has assigned non-USB host devices")',
                "migrate a guest without vfs:, or remove this migration",
            ],
        ],
    );
});

test("a migration to a remote host the kit cannot reach (no ssh:) is refused: it would never be taken for this machine", (t) => {
    const pod = labPod();
    pod.hosts.push(host("lab-3", { ssh: undefined }));
    t.deepEqual(problems(pod, { migration: [{ guest: "vnf", to: "lab-3" }] }), [
        "hosts[2].ssh: is needed: host lab-3 is remote (qemu+ssh://root@lab-3/system) and is a migration destination, so the kit makes room in its hugepage pool and checks the guest's pins there over SSH",
    ]);
});

test("a migration to a host with no room for the guest's real-time vCPU is refused, planned from that host's CPUs and guests", (t) => {
    const pod = labPod();
    // lab-2 has one isolated CPU, and its own guest takes it.
    pod.hosts[1].isolatedCpus = "1";
    pod.hosts[1].housekeepingCpus = "0,2-3";
    pod.guests[1].rtVcpus = [0];
    const lines = problems(pod, { migration: [{ guest: "vnf", to: "lab-2" }] });
    t.is(lines.length, 1, lines.join("\n"));
    t.regex(lines[0], /^nfv-testpod:probes\.migration\[0\]\.to: has no place for vnf: /);
});

test("the receiver: an IPv4 address of this machine the hosts reach, never loopback", (t) => {
    t.deepEqual(problems(labPod(), { migration: [{ guest: "vnf", to: "lab-2", receiver: "10.213.100.1" }] }), []);
    t.deepEqual(
        problems(labPod(), {
            migration: [
                { guest: "vnf", to: "lab-2", receiver: "127.0.0.1" },
                { guest: "vnf", to: "lab-2", receiver: "control.example" },
            ],
        }),
        [
            "nfv-testpod:probes.migration[0].receiver: is not reachable from the hosts: a guest's user-mode NIC sends from the host it runs on, so the receiver needs an address of this machine on the hosts' network",
            "nfv-testpod:probes.migration[1].receiver: is not an IPv4 address (nfvkit-migload receives on IPv4)",
        ],
    );
});
