/**
 * The one stack loader: by file or by name, from the file or from the
 * engine's config, it gives the config, the name prefix (defined once), the
 * problems with their lines and the plan; it reaches a host only through its
 * pinned access, never a remote host through this machine, and says when a
 * host's secret could not be read or the host could not be reached. These
 * cases reach no libvirt: hosts are offline, test-driver or unreachable.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { loadStack } from "../../components/stack";
import { formatProblem } from "../../components/spec/problems";

const example = path.join("tests", "fixtures", "specs", "stacks", "Pulumi.example.yaml");
const topology = { numaNodes: [{ id: 0, cpus: "0-1" }] };
/** A real key (the kit hands it to an ssh-agent, which refuses a made-up one), made for this run. */
function freshKey(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-load-key-"));
    made.push(dir);
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "nfvkit-test", "-f", path.join(dir, "k")], { stdio: "ignore" });
    return readFileSync(path.join(dir, "k"), "utf8");
}

const made: string[] = [];
test.after.always(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A project folder with a Pulumi.yaml and one stack file, removed after the tests; returns its path. */
function project(name: string, stack: string, config: Record<string, unknown>): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-load-"));
    made.push(dir);
    writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\nstackConfigDir: stacks\n`);
    mkdirSync(path.join(dir, "stacks"));
    writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), yaml.dump({ config }));
    return dir;
}

test("a stack file, offline: its config, the prefix from the project and the file's stack name, the plan", async (t) => {
    const loaded = await loadStack(example, { offline: true });
    t.deepEqual(loaded.problems, []);
    t.is(loaded.stack, "example");
    t.is(loaded.namePrefix, "nfv-testpod-example", "<project>-<stack>, the project's name read from Pulumi.yaml");
    t.is(loaded.kind, "stack");
    t.is(loaded.bootTimeoutSec, 120);
    t.deepEqual(
        loaded.plan!.guests.map((g) => g.domainName),
        ["nfv-testpod-example-vnf", "nfv-testpod-example-peer"],
    );
    t.deepEqual(loaded.access, {}, "offline: no host is reached");
    t.deepEqual(loaded.hostFacts, {});
});

test("a stack by name is found under the project's stack folder; its problems carry their lines", async (t) => {
    const dir = project("proj", "dev", { "nfv-testpod:pod": { hosts: [{ name: "h", topology }], guests: [{ name: "g", memory: "lots" }] } });
    const loaded = await loadStack("dev", { projectDir: dir, offline: true });
    t.is(loaded.namePrefix, "proj-dev");
    t.is(loaded.file, path.join(dir, "stacks", "Pulumi.dev.yaml"));
    t.deepEqual(
        loaded.problems.map((p) => [p.line, formatProblem(p)]),
        [
            [
                11,
                'nfv-testpod:pod.guests[0].memory: is not a memory size (got "lots"). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"',
            ],
        ],
    );
    t.is(loaded.plan, undefined);
});

test("the engine's config is what is checked; the file gives lines only when it holds the same settings", async (t) => {
    const config = yaml.load(readFileSync(example, "utf8")) as { config: Record<string, unknown> };
    const engineConfig = { config: Object.fromEntries(Object.entries(config.config).map(([k, v]) => [k, v])), secretKeys: [] };
    const dir = project("nfv-testpod", "example", config.config);
    const same = await loadStack("example", { projectDir: dir, engineConfig, offline: true });
    t.truthy(same.lineOf, "the file holds what the engine gave");
    t.is(same.file, path.join(dir, "stacks", "Pulumi.example.yaml"));

    const changed = { ...engineConfig, config: { ...engineConfig.config, "nfv-testpod:bootTimeoutSec": "soon" } };
    const other = await loadStack("example", { projectDir: dir, engineConfig: changed, offline: true });
    t.is(other.lineOf, undefined, "a --config-file elsewhere: no line from a file that says something else");
    t.is(other.file, undefined);
    t.deepEqual(other.problems.map(formatProblem), [
        'nfv-testpod:bootTimeoutSec: must be a whole number of seconds from 1 to 86400 (got "soon"). Fix: write e.g. 300',
    ]);
});

test("a remote host without pinned access is never reached: no fallback to this machine, and validation says what it needs", async (t) => {
    const lines: string[] = [];
    const dir = project("p", "s", {
        "nfv-testpod:pod": {
            hosts: [{ name: "far", uri: "qemu+ssh://root@far.example/system", topology, housekeepingCpus: "0" }],
            guests: [{ name: "g", memory: "256M", pageSize: "4K" }],
        },
    });
    const loaded = await loadStack("s", { projectDir: dir, log: (l) => lines.push(l) });
    t.deepEqual(loaded.access, {});
    t.deepEqual(lines, ["no host is reached: host far has no pinned SSH access; facts come from the spec"]);
    t.deepEqual(loaded.problems.map(formatProblem), [
        "nfv-testpod:pod.hosts[0].ssh: is needed: host far is remote (qemu+ssh://root@far.example/system) and has guests, so the kit copies the guest image there and works on its files over SSH (got nothing). Fix: add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }, or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts",
    ]);
});

test("one remote host without ssh: and no host is reached, not even one with pinned access: the problem comes before any connection", async (t) => {
    const lines: string[] = [];
    // "near" has full pinned access to a port where nothing listens: reaching it would be a "could not be read" problem.
    const near = {
        name: "near",
        uri: "qemu+ssh://root@127.0.0.1:1/system",
        topology,
        housekeepingCpus: "0",
        ssh: { agent: true, knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdd" },
    };
    const dest = { name: "dest", uri: "qemu+ssh://root@dest.example/system", topology, housekeepingCpus: "0" };
    const dir = project("p", "s", {
        "nfv-testpod:pod": { hosts: [near, dest], guests: [{ name: "g", host: "near", memory: "256M", pageSize: "4K", knobs: { userNic: true } }] },
        "nfv-testpod:probes": { migration: [{ guest: "g", to: "dest" }] },
    });
    const loaded = await loadStack("s", { projectDir: dir, log: (l) => lines.push(l) });
    t.deepEqual(loaded.access, {});
    t.deepEqual(lines, ["no host is reached: host dest has no pinned SSH access; facts come from the spec"]);
    t.deepEqual(
        loaded.problems.map((p) => p.path),
        ["nfv-testpod:pod.hosts[1].ssh"],
        "the missing access alone: host near was not asked, so nothing says it could not be read",
    );
    t.regex(formatProblem(loaded.problems[0]), /is needed: host dest is remote \(qemu\+ssh:\/\/root@dest\.example\/system\) and is a migration destination/);
});

test("a host's secret key that cannot be decrypted, and a host that cannot be reached, are problems at their hosts", async (t) => {
    const ssh = { privateKeySecret: "labKey", knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdd" };
    const host = { uri: "qemu+ssh://root@127.0.0.1/system", topology, housekeepingCpus: "0" };
    const config = {
        "nfv-testpod:labKey": { secure: "v1:notdecryptablehere" },
        "nfv-testpod:pod": {
            hosts: [{ name: "lab-1", ...host, ssh: { ...ssh, port: 1 } }],
            guests: [{ name: "g", memory: "256M", pageSize: "4K" }],
        },
    };
    const dir = project("p", "lab", config);
    const locked = await loadStack("lab", { projectDir: dir });
    t.deepEqual(locked.problems.map(formatProblem), [
        'nfv-testpod:pod.hosts[0].ssh.privateKeySecret: names nfv-testpod:labKey, a secret this command could not read (no way to decrypt the stack\'s secrets was given), so host lab-1 is not reached (got "labKey"). Fix: bootstrap the engine (npm run bootstrap) and create the stack (pulumi stack select --create <stack>), or check offline with --offline',
    ]);
    t.deepEqual(locked.access, {});

    // Decrypted, the key opens nothing on a port where nothing listens: the host is a problem, with where it was looked for.
    const asked: string[] = [];
    const KEY = freshKey();
    const revealSecrets = async (stack: string, file: string) => {
        asked.push(`${stack} ${path.relative(dir, file)}`);
        return { "nfv-testpod:labKey": KEY };
    };
    const unreachable = await loadStack("lab", { projectDir: dir, revealSecrets });
    t.deepEqual(asked, ["lab stacks/Pulumi.lab.yaml"]);
    t.is(unreachable.problems.length, 1);
    t.regex(
        formatProblem(unreachable.problems[0]),
        /^nfv-testpod:pod\.hosts\[0\]: could not be read: .*could not reach lab-1 \(127\.0\.0\.1 port 1\).* \(got root@127\.0\.0\.1:1\)\. Fix: check that the host is up/,
    );
    t.false(JSON.stringify(unreachable.problems).includes(KEY.split("\n")[1]), "the key is nowhere in a problem");
    await unreachable.close();
});

test("libvirt's test driver hosts are not reached either; their facts are the spec's, the accelerator it declares included", async (t) => {
    const lines: string[] = [];
    const dir = project("p", "bench", {
        "nfv-testpod:pod": {
            hosts: [{ name: "h0", uri: "test:///default/h0", accel: "kvm", topology, housekeepingCpus: "0" }],
            guests: [{ name: "g", memory: "256M", pageSize: "4K" }],
        },
    });
    const loaded = await loadStack("bench", { projectDir: dir, log: (l) => lines.push(l) });
    t.deepEqual(loaded.problems, []);
    t.deepEqual(lines, ["host h0 (test:///default/h0): not reached (libvirt's test driver); its facts come from the spec"]);
    t.deepEqual(loaded.plan!.hosts[0].accel, { accel: "kvm", reason: "set to kvm in the pod spec" });
    t.deepEqual(loaded.access, {});
});
