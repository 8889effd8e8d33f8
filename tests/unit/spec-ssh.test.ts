/** Host SSH access in the pod spec: defaults, and the private key kept out of the spec. */
import test from "ava";
import { ProblemListError, formatProblem } from "../../components/spec/problems";
import { resolvePod } from "../../components/plan/resolvePod";

const pod = (ssh: unknown, uri = "qemu+ssh://lab-1.example/system") => ({
    hosts: [
        { name: "lab1", uri, ssh, topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, housekeepingCpus: "0", hugepages: [{ node: 0, size: "2M", count: 128 }] },
    ],
    guests: [{ name: "vnf", vcpus: 2, memory: "256M" }],
});

test("ssh defaults: the user, address and port the libvirt URI writes (libvirt's own ssh logs in with them), else root and 22", (t) => {
    const fromUri = resolvePod(pod({ privateKeySecret: "hostKeyLab1" }, "qemu+ssh://admin@lab-1.example/system"), { namePrefix: "t" }).hosts[0];
    t.deepEqual(fromUri.ssh, { user: "admin", address: "lab-1.example", port: 22, privateKeySecret: "hostKeyLab1" });
    const bare = resolvePod(pod({ privateKeySecret: "k" }, "qemu+ssh://lab-1.example/system"), { namePrefix: "t" }).hosts[0];
    t.deepEqual(bare.ssh, { user: "root", address: "lab-1.example", port: 22, privateKeySecret: "k" });
    // An IPv6 address, with a port: the brackets belong to the URI, not to the address ssh is given.
    const v6 = resolvePod(pod({ privateKeySecret: "k" }, "qemu+ssh://ops@[fd00::7]:2222/system"), { namePrefix: "t" }).hosts[0];
    t.deepEqual(v6.ssh, { user: "ops", address: "fd00::7", port: 2222, privateKeySecret: "k" });
});

test("ssh given in full", (t) => {
    const host = resolvePod(pod({ user: "ops", address: "10.0.0.7", port: 2222, privateKeySecret: "k" }, "qemu+ssh://lab-1.example/system"), {
        namePrefix: "t",
    }).hosts[0];
    t.deepEqual(host.ssh, { user: "ops", address: "10.0.0.7", port: 2222, privateKeySecret: "k" });
});

test("an ssh user or port that contradicts the URI's is refused, both at once", (t) => {
    const err = t.throws(
        () => resolvePod(pod({ user: "ops", port: 2222, privateKeySecret: "k" }, "qemu+ssh://admin@lab-1.example:22022/system"), { namePrefix: "t" }),
        {
            instanceOf: ProblemListError,
        },
    );
    t.deepEqual(err!.problems.map(formatProblem), [
        "hosts[0].ssh.user: differs from the user the host's uri names (admin): libvirt's qemu+ssh would log in with one and the kit's commands with the other (got \"ops\"). Fix: write the same user in both, or leave it out of ssh: (the uri's is taken)",
        "hosts[0].ssh.port: differs from the port the host's uri names (22022): libvirt's qemu+ssh would log in with one and the kit's commands with the other (got 2222). Fix: write the same port in both, or leave it out of ssh: (the uri's is taken)",
    ]);
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

const problemsOf = (ssh: unknown) => t_problems(() => resolvePod(pod(ssh), { namePrefix: "t" })).map((p) => formatProblem(p));

function t_problems(run: () => unknown): { path: string; value: unknown; reason: string; fix: string }[] {
    try {
        run();
    } catch (e) {
        if (e instanceof ProblemListError) return e.problems;
        throw e;
    }
    return [];
}

test("agent: true logs in with the user's ssh-agent: no secret is named", (t) => {
    const host = resolvePod(pod({ agent: true, knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdd" }), { namePrefix: "t" }).hosts[0];
    t.deepEqual(host.ssh, { user: "root", address: "lab-1.example", port: 22, agent: true, knownHosts: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdd"] });
});

test("knownHostsFile names the file that pins the host's keys (the loader reads it)", (t) => {
    const host = resolvePod(pod({ privateKeySecret: "k", knownHostsFile: "~/.ssh/known_hosts" }), { namePrefix: "t" }).hosts[0];
    t.deepEqual(host.ssh, { user: "root", address: "lab-1.example", port: 22, privateKeySecret: "k", knownHostsFile: "~/.ssh/known_hosts" });
});

test("exactly one way to log in, and one place for the pins: every contradiction at once, with the fix", (t) => {
    t.deepEqual(problemsOf({ privateKeySecret: "k", agent: true, knownHosts: "ssh-ed25519 AAAA", knownHostsFile: "pins/lab1" }), [
        "hosts[0].ssh.agent: cannot be given with privateKeySecret: the kit logs in with one key, the stack's secret or your ssh-agent's (got true). Fix: keep privateKeySecret (unattended runs, CI) or agent: true (a person at a terminal), not both",
        'hosts[0].ssh.knownHostsFile: cannot be given with knownHosts: the host\'s keys are pinned in one place (got "pins/lab1"). Fix: keep the knownHosts lines, or the knownHostsFile that holds them, not both',
    ]);
    t.deepEqual(problemsOf({ agent: false }), [
        "hosts[0].ssh.privateKeySecret: is required unless agent is true: the kit needs a private key to log in (got nothing). Fix: name the secret config key that holds the key (pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519), or write agent: true to log in with the key in your ssh-agent",
    ]);
    t.deepEqual(problemsOf({ agent: "yes", knownHostsFile: "" }), [
        'hosts[0].ssh.agent: must be true or false (got "yes"). Fix: write true or false (without quotes)',
        'hosts[0].ssh.knownHostsFile: must be a non-empty string (got ""). Fix: write a text value',
    ]);
});
