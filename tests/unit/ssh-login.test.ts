/**
 * How the kit logs in to an SSH host without a key file: the stack's secret
 * (handed to an ssh-agent of the kit's own) or the user's ssh-agent
 * (`agent: true`), and the host keys pinned inline or by a known_hosts file the
 * loader reads. These cases reach no host: a missing agent is found before ssh
 * runs, and the sweep is given directories of its own to judge.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { HostCommandError, SshHostAccess, SSH_DIR_PREFIX, sweepStaleSshDirs } from "../../components/host/access";
import { ProblemListError, formatProblem } from "../../components/spec/problems";
import { loadStack } from "../../components/stack";

const topology = { numaNodes: [{ id: 0, cpus: "0-1" }] };
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJddPinnedForTheTest";
const made: string[] = [];
test.after.always(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(prefix: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(dir);
    return dir;
}

/** A project folder with one stack file; `files` are written into it. */
function project(config: Record<string, unknown>, files: Record<string, string> = {}): string {
    const dir = tempDir("nfvkit-login-");
    writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\nruntime: nodejs\nstackConfigDir: stacks\n");
    mkdirSync(path.join(dir, "stacks"));
    writeFileSync(path.join(dir, "stacks", "Pulumi.s.yaml"), yaml.dump({ config }));
    for (const [name, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        writeFileSync(path.join(dir, name), text);
    }
    return dir;
}

const host = (name: string, ssh: Record<string, unknown>) => ({ name, uri: `qemu+ssh://root@${name}.example/system`, topology, housekeepingCpus: "0", ssh });

/** known_hosts' hashed form of a name (what `ssh-keygen -H` writes). */
function hashed(name: string): string {
    const salt = randomBytes(20);
    return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
}

test("a known_hosts file is read at load time: only the host's own lines travel on, hashed or plain", async (t) => {
    const pins = [
        "# pinned after checking the fingerprints",
        `${hashed("[lab-1.example]:2222")} ${HOST_KEY}`,
        `other.example,10.0.0.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther`,
        `*.example,!lab-2.example ecdsa-sha2-nistp256 AAAAE2VjZHNh`,
        "@revoked * ssh-rsa AAAAB3NzaC1yc2E",
        "",
    ].join("\n");
    const dir = project(
        {
            "nfv-testpod:pod": {
                hosts: [host("lab-1", { agent: true, port: 2222, knownHostsFile: "pins/known_hosts" })],
                guests: [{ name: "g", memory: "256M", pageSize: "4K" }],
            },
        },
        { "pins/known_hosts": pins },
    );
    const loaded = await loadStack("s", { projectDir: dir, offline: true });
    t.deepEqual(loaded.problems, []);
    t.deepEqual(loaded.sshTargets["lab-1"], {
        kind: "ssh",
        name: "lab-1",
        host: "lab-1.example",
        user: "root",
        port: 2222,
        agent: true,
        knownHosts: [pins.split("\n")[1]],
    });
    t.false("privateKey" in loaded.sshTargets["lab-1"], "no key in the stack");
});

test("a known_hosts file that is missing, a folder, empty, or pins other hosts only: each a problem with its path, value and fix, all at once", async (t) => {
    const dir = project(
        {
            "nfv-testpod:pod": {
                hosts: [
                    host("lab-1", { agent: true, knownHostsFile: "pins/nowhere" }),
                    host("lab-2", { agent: true, knownHostsFile: "pins" }),
                    host("lab-3", { agent: true, knownHostsFile: "pins/empty" }),
                    host("lab-4", { agent: true, knownHostsFile: "pins/others" }),
                    host("lab-5", { agent: true, knownHostsFile: "pins/broken" }),
                ],
                guests: [{ name: "g", host: "lab-1", memory: "lots" }],
            },
        },
        { "pins/empty": "# nothing pinned yet\n\n", "pins/others": `other.example ${HOST_KEY}\n`, "pins/broken": `lab-5.example ${HOST_KEY}\nnot a pin\n` },
    );
    const loaded = await loadStack("s", { projectDir: dir, offline: true });
    const fix = (file: string, name: string) =>
        `Fix: write the host's keys to ${path.join(dir, file)} after checking them out of band (ssh-keyscan -p 22 ${name}.example prints them), or pin them inline with knownHosts`;
    t.deepEqual(
        loaded.problems.map((p) => `${p.line}: ${formatProblem(p)}`),
        [
            `13: nfv-testpod:pod.hosts[0].ssh.knownHostsFile: cannot be read (${path.join(dir, "pins/nowhere")}): there is no such file (got "pins/nowhere"). ${fix("pins/nowhere", "lab-1")}`,
            `20: nfv-testpod:pod.hosts[1].ssh.knownHostsFile: cannot be read (${path.join(dir, "pins")}): it is a folder (got "pins"). ${fix("pins", "lab-2")}`,
            `27: nfv-testpod:pod.hosts[2].ssh.knownHostsFile: (${path.join(dir, "pins/empty")}) is empty: it pins no host key, and an unpinned host is never trusted (got "pins/empty"). ${fix("pins/empty", "lab-3")}`,
            `34: nfv-testpod:pod.hosts[3].ssh.knownHostsFile: (${path.join(dir, "pins/others")}) pins no key for lab-4.example port 22, and an unpinned host is never trusted (got "pins/others"). ${fix("pins/others", "lab-4")}`,
            `41: nfv-testpod:pod.hosts[4].ssh.knownHostsFile: (${path.join(dir, "pins/broken")}) is not a known_hosts file: line 2 is not a known_hosts line (host, key type, base64 key) (got "pins/broken"). ${fix("pins/broken", "lab-5")}`,
            '45: nfv-testpod:pod.guests[0].memory: is not a memory size (got "lots"). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"',
        ],
    );
    t.deepEqual(loaded.sshTargets, {}, "no host is reached without its pins");
});

test("a private key in a known_hosts file is described, never shown", async (t) => {
    const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----\n";
    const dir = project(
        { "nfv-testpod:pod": { hosts: [host("lab-1", { agent: true, knownHostsFile: "id" })], guests: [{ name: "g", memory: "256M", pageSize: "4K" }] } },
        { id: key },
    );
    const loaded = await loadStack("s", { projectDir: dir, offline: true });
    t.deepEqual(
        loaded.problems.map((p) => p.reason),
        [`(${path.join(dir, "id")}) is not a known_hosts file: it holds a private key`],
    );
    t.false(JSON.stringify(loaded.problems).includes("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU"));
});

test("a target gives the stack's key or agent: true, never both", (t) => {
    const base = { kind: "ssh" as const, name: "lab-1", host: "lab-1.example", knownHosts: HOST_KEY };
    const both = t.throws(() => new SshHostAccess({ ...base, agent: true, privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n" }), {
        instanceOf: ProblemListError,
    });
    t.is(
        both!.message,
        'host access has 1 problem:\nagent: cannot be given with privateKey: the kit logs in with one key source (got "true"). Fix: keep privateKey (unattended runs, CI) or agent: true (a person at a terminal), not both',
    );
    t.is(new SshHostAccess({ ...base, agent: true }).target.privateKey, undefined);
    t.throws(() => new SshHostAccess(base), { instanceOf: ProblemListError, message: /privateKey: does not hold a private key .*or use agent: true/ });
});

/** This process's ssh directories. */
function ownDirs(): string[] {
    return readdirSync(os.tmpdir())
        .filter((n) => n.startsWith(SSH_DIR_PREFIX))
        .filter((n) => {
            try {
                return JSON.parse(readFileSync(path.join(os.tmpdir(), n, "owner.json"), "utf8")).pid === process.pid;
            } catch {
                return false;
            }
        });
}

test.serial("agent: true with no ssh-agent: the host, what is missing and the fix, before ssh runs; nothing is left behind", async (t) => {
    const saved = process.env.SSH_AUTH_SOCK;
    t.teardown(() => {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
    });
    const a = new SshHostAccess({ kind: "ssh", name: "lab-1", host: "10.0.0.7", agent: true, knownHosts: HOST_KEY });
    t.teardown(() => a.close());
    delete process.env.SSH_AUTH_SOCK;
    const unset = await t.throwsAsync(a.run(["true"]), { instanceOf: HostCommandError });
    t.is(unset!.failure, "no-agent");
    t.is(
        unset!.message,
        'ssh root@10.0.0.7 on lab-1 failed: host lab-1 is reached with the key in your ssh-agent (ssh.agent: true), but no ssh-agent is running for this command: SSH_AUTH_SOCK is not set, so the kit cannot log in there\n  fix: start an agent and add your key in the shell you run from (eval "$(ssh-agent)"; ssh-add ~/.ssh/id_ed25519), then run the command again there; or give the host ssh.privateKeySecret (a secret stack config value holding the key), as CI does',
    );
    // A socket path where no agent answers any more: the agent was stopped.
    const gone = path.join(tempDir("nfvkit-noagent-"), "agent.sock");
    process.env.SSH_AUTH_SOCK = gone;
    const dead = await t.throwsAsync(a.virsh(["uri"]), { instanceOf: HostCommandError });
    t.is(dead!.failure, "no-agent");
    t.regex(
        dead!.message,
        new RegExp(`but no ssh-agent answers at SSH_AUTH_SOCK=${gone.replace(/[.]/g, "\\.")} \\(it has stopped, or belongs to another session\\)`),
    );
    t.deepEqual(ownDirs(), [], "a failed start leaves no directory");
});

test("the sweep removes what dead processes left, and nothing of a live one or of a run in progress", (t) => {
    const tmp = tempDir("nfvkit-sweep-");
    const dead = spawnSync("true").pid!;
    const dir = (name: string, owner?: object) => {
        const d = path.join(tmp, `${SSH_DIR_PREFIX}${name}`);
        mkdirSync(d, { mode: 0o700 });
        writeFileSync(path.join(d, "config"), "Host *\n");
        if (owner) writeFileSync(path.join(d, "owner.json"), JSON.stringify(owner));
        return d;
    };
    const start = Number(readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1].split(" ")[19]);
    const deadOwner = dir("dead", { pid: dead, pidStart: 1 });
    const recycled = dir("recycled", { pid: process.pid, pidStart: start + 1 });
    const mine = dir("mine", { pid: process.pid, pidStart: start });
    const beingMade = dir("new");
    const oldKit = dir("old");
    writeFileSync(path.join(oldKit, "id"), "an older kit's key file");
    const twoDaysAgo = (Date.now() - 2 * 24 * 3600_000) / 1000;
    utimesSync(oldKit, twoDaysAgo, twoDaysAgo);
    const swept = sweepStaleSshDirs(tmp);
    t.deepEqual(swept.removed.sort(), [deadOwner, oldKit, recycled].sort());
    t.deepEqual(swept.agentsKilled, []);
    t.false(existsSync(deadOwner));
    t.true(existsSync(mine), "a live owner's directory stays");
    t.true(existsSync(beingMade), "a directory without its owner record yet stays");
});
