/**
 * One validation of the whole stack, all at once: a problem in the pod never
 * hides a probe setting that names a guest, host or link the pod does not
 * have, and every host the pod touches needs access, a migration destination
 * with no guests of its own included.
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
        "nfv-testpod:pod.hosts[1].ssh: is needed: host b is remote (qemu+ssh://root@b.example/system) and is a migration destination, so the kit makes room in its hugepage pool and checks the guest's pins there over SSH (got nothing). Fix: add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }",
    ]);
    // Without the migration, host b is declared but never touched: nothing to reach.
    t.deepEqual(problems({ "nfv-testpod:pod": pod }), []);
});
