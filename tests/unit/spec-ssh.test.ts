/** Host SSH access in the pod spec: defaults, and the private key kept out of the spec. */
import test from "ava";
import { ProblemListError, formatProblem } from "../../components/spec/problems";
import { resolvePod } from "../../components/plan/resolvePod";

const pod = (ssh: unknown, uri = "qemu+ssh://admin@lab-1.example/system") => ({
    hosts: [
        { name: "lab1", uri, ssh, topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, housekeepingCpus: "0", hugepages: [{ node: 0, size: "2M", count: 128 }] },
    ],
    guests: [{ name: "vnf", vcpus: 2, memory: "256M" }],
});

test("ssh defaults: root, the address from the libvirt URI, port 22", (t) => {
    const host = resolvePod(pod({ privateKeySecret: "hostKeyLab1" }), { namePrefix: "t" }).hosts[0];
    t.deepEqual(host.ssh, { user: "root", address: "lab-1.example", port: 22, privateKeySecret: "hostKeyLab1" });
});

test("ssh given in full", (t) => {
    const host = resolvePod(pod({ user: "ops", address: "10.0.0.7", port: 2222, privateKeySecret: "k" }), { namePrefix: "t" }).hosts[0];
    t.deepEqual(host.ssh, { user: "ops", address: "10.0.0.7", port: 2222, privateKeySecret: "k" });
});

test("a private key pasted into the spec is refused, with the fix", (t) => {
    const err = t.throws(() => resolvePod(pod({ privateKeySecret: "-----BEGIN OPENSSH PRIVATE KEY-----" }), { namePrefix: "t" }), {
        instanceOf: ProblemListError,
    });
    t.deepEqual(err!.problems.map(formatProblem), [
        "hosts[0].ssh.privateKeySecret: is not a config key name (the key itself never goes in the spec) (got a private key). Fix: name a secret config key, e.g. hostKeyLab1, set with pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519",
    ]);
});

test("ssh without the key's name", (t) => {
    const err = t.throws(() => resolvePod(pod({ user: "root" }), { namePrefix: "t" }), { instanceOf: ProblemListError });
    t.regex(err!.problems.map(formatProblem).join("\n"), /^hosts\[0\]\.ssh\.privateKeySecret: /);
});
