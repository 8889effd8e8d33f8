/**
 * One validation of the whole stack, all at once: a problem in the pod never
 * hides a probe setting that names a guest, host or link the pod does not
 * have, and every remote host of the pod needs pinned access, a migration
 * destination with no guests of its own and a host only named included.
 */
import test from "ava";
import { formatProblem } from "../../components/spec/problems";
import { validateStack } from "../../components/validate";

const topology = { numaNodes: [{ id: 0, cpus: "0-3" }] };
const hosts = [
    { name: "a", topology, housekeepingCpus: "0", hugepages: [{ node: 0, size: "2M", count: 256 }] },
    { name: "b", uri: "qemu+ssh://root@b.example/system", topology, housekeepingCpus: "0", hugepages: [{ node: 0, size: "2M", count: 256 }] },
];

const problems = (config: Record<string, unknown>) => validateStack({ config, namePrefix: "t" }).problems.map(formatProblem);

test("a guest with a problem of its own does not hide probe settings that name a link or a guest the pod lacks", (t) => {
    const pod = {
        hosts: [hosts[0]],
        guests: [
            { name: "vnf", host: "a", memory: "lots", vcpus: 2, rtVcpus: [1], knobs: { userNic: true } },
            { name: "peer", host: "a", memory: "256M", vcpus: 1, rtVcpus: [] },
        ],
        links: [{ name: "ring0", members: ["vnf", "peer"] }],
    };
    const found = problems({
        "nfv-testpod:pod": pod,
        "nfv-testpod:probes": {
            interVm: [{ link: "ring9", producer: "vnf", consumer: "peer" }],
            migration: [{ guest: "vnff", to: "a" }],
        },
    });
    t.true(found.some((p) => p.startsWith('nfv-testpod:pod.guests[0].memory: is not a memory size (got "lots")')));
    t.true(found.some((p) => p.startsWith('nfv-testpod:probes.interVm[0].link: is not a link of the pod (got "ring9"). Fix: did you mean "ring0"?')));
    t.true(found.some((p) => p.startsWith('nfv-testpod:probes.migration[0].guest: is not a guest of the pod (got "vnff"). Fix: did you mean "vnf"?')));
});

test("a remote migration destination with no guests needs SSH access like a host with guests", (t) => {
    const pod = { hosts, guests: [{ name: "vnf", host: "a", memory: "256M", vcpus: 2, rtVcpus: [1], pageSize: "2M", knobs: { userNic: true } }] };
    t.deepEqual(problems({ "nfv-testpod:pod": pod, "nfv-testpod:probes": { migration: [{ guest: "vnf", to: "b" }] } }), [
        "nfv-testpod:pod.hosts[1].ssh: is needed: host b is remote (qemu+ssh://root@b.example/system) and is a migration destination, so the kit makes room in its hugepage pool and checks the guest's pins there over SSH (got nothing). Fix: add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }, or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts",
    ]);
    // Without the migration, host b is still named: discovery would read it, so it needs pinned access all the same.
    t.deepEqual(problems({ "nfv-testpod:pod": pod }), [
        `nfv-testpod:pod.hosts[1].ssh: is needed: host b is remote (qemu+ssh://root@b.example/system) and ${NAMED_ONLY} (got nothing). Fix: ${ACCESS_FIX}`,
    ]);
});

const NAMED_ONLY = "is named by the pod, so the kit reads its topology, accelerator, kernel and memory locking there over SSH before planning";
const ACCESS_FIX =
    "add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }, or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts";

test("every remote host without ssh: is a problem, all of them at once, with the other problems; a local or test-driver host needs none", (t) => {
    const remote = (name: string, uri: string) => ({ name, uri, topology, housekeepingCpus: "0", hugepages: [{ node: 0, size: "2M", count: 256 }] });
    const pod = {
        hosts: [
            hosts[0],
            remote("c", "qemu+ssh://ops@c.example:2222/system"),
            remote("d", "qemu+tcp://d.example/system"),
            remote("e", "qemu+ssh://root@e.example/system"),
            { name: "f", uri: "test:///default/f", topology, housekeepingCpus: "0" },
            { ...remote("g", "qemu+ssh://root@g.example/system"), ssh: { agent: true, knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdd" } },
        ],
        guests: [
            { name: "vnf", host: "a", memory: "256M", vcpus: 2, rtVcpus: [1], pageSize: "2M", knobs: { userNic: true } },
            { name: "far", host: "c", memory: "256M", vcpus: 2, rtVcpus: [1], pageSize: "2M" },
        ],
    };
    t.deepEqual(problems({ "nfv-testpod:pod": pod, "nfv-testpod:probes": { migration: [{ guest: "vnf", to: "e" }] }, "nfv-testpod:bootTimeoutSec": "soon" }), [
        `nfv-testpod:pod.hosts[1].ssh: is needed: host c is remote (qemu+ssh://ops@c.example:2222/system) and has guests, so the kit copies the guest image there and works on its files over SSH (got nothing). Fix: ${ACCESS_FIX}`,
        `nfv-testpod:pod.hosts[2].ssh: is needed: host d is remote (qemu+tcp://d.example/system) and ${NAMED_ONLY} (got nothing). Fix: ${ACCESS_FIX}`,
        `nfv-testpod:pod.hosts[3].ssh: is needed: host e is remote (qemu+ssh://root@e.example/system) and is a migration destination, so the kit makes room in its hugepage pool and checks the guest's pins there over SSH (got nothing). Fix: ${ACCESS_FIX}`,
        'nfv-testpod:bootTimeoutSec: must be a whole number of seconds from 1 to 86400 (got "soon"). Fix: write e.g. 300',
    ]);
    // This machine's libvirt and the test driver are reached without ssh; a pod of them alone has no problem.
    t.deepEqual(problems({ "nfv-testpod:pod": { hosts: [hosts[0], pod.hosts[4]], guests: [pod.guests[0]] } }), []);
});

test("a managed remote host without ssh: is said once, at manage", (t) => {
    const managed = { ...hosts[1], manage: true };
    const found = problems({
        "nfv-testpod:pod": {
            hosts: [hosts[0], managed],
            guests: [{ name: "vnf", host: "a", memory: "256M", vcpus: 2, rtVcpus: [1], pageSize: "2M", knobs: { userNic: true } }],
        },
    });
    t.deepEqual(
        found.filter((p) => p.startsWith("nfv-testpod:pod.hosts[1]")).map((p) => p.slice(0, p.indexOf(": "))),
        ["nfv-testpod:pod.hosts[1].manage"],
    );
});
