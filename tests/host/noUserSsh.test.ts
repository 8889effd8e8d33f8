/**
 * The kit never reaches a host through the user's own ssh setup, for real.
 * A test sshd (its own network namespace) and a HOME whose ~/.ssh would let
 * the user's ssh in: the client key, the server's key in known_hosts, and a
 * config whose ProxyCommand leaves a marker file each time it is used. The
 * kit runs with HOME at that folder and, in a mount namespace of its own,
 * with that folder over /root too (OpenSSH finds ~ through the password
 * database, not $HOME), so every ssh it could start would read the trap.
 *
 * - `npm run validate` of a stack whose remote hosts have no ssh: block (one
 *   with a guest, one only a migration's destination, one only named, over
 *   qemu+tcp) fails with the three problems, and no connection was made: no
 *   marker, no connection in sshd's log.
 * - With pinned access, the kit's commands and libvirt's own qemu+ssh
 *   transport reach the host without reading the trap; virsh handed the
 *   spec's raw qemu+ssh URI refuses before starting anything.
 * - The control: plain ssh in the same setup does get in, and leaves the
 *   marker, so the trap would have caught the kit.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { projectRoot } from "../../tools/cli/engine";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd, type TestSshd } from "../helpers/sshd";

function answers(argv: string[]): boolean {
    return spawnSync(argv[0], argv.slice(1), { stdio: "ignore", timeout: 20_000 }).status === 0;
}
const haveUnshare = answers(["unshare", "--mount", "--propagation", "private", "true"]);
const libvirtHere = answers(["virsh", "-c", "qemu:///system", "uri"]);
const test = realTest(
    sshdAvailable() && haveUnshare && answers(["sh", "-c", "command -v nc"]),
    "an sshd for tests (root, openssh-server, iproute2), nc, and unshare with mount namespaces",
);

const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");

/** The user's HOME with a ~/.ssh that would let plain ssh into the test sshd, and would say so. */
function trapHome(t: { teardown(fn: () => void): void }, sshd: TestSshd): { home: string; marker: string } {
    const home = mkdtempSync(path.join(os.tmpdir(), "nfvkit-home-"));
    t.teardown(() => rmSync(home, { recursive: true, force: true }));
    const dot = path.join(home, ".ssh");
    mkdirSync(dot, { mode: 0o700 });
    const marker = path.join(home, "user-ssh-config-was-used");
    writeFileSync(path.join(dot, "id_ed25519"), sshd.privateKey, { mode: 0o600 });
    writeFileSync(path.join(dot, "known_hosts"), `${sshd.knownHosts}\n`, { mode: 0o600 });
    writeFileSync(
        path.join(dot, "config"),
        [
            "Host *",
            `  IdentityFile ${path.join(dot, "id_ed25519")}`,
            `  UserKnownHostsFile ${path.join(dot, "known_hosts")}`,
            // Trust on first use: the user's setup would accept any host key it has not seen.
            "  StrictHostKeyChecking accept-new",
            "  BatchMode yes",
            `  ProxyCommand sh -c 'touch ${marker}; exec nc %h %p'`,
            "",
        ].join("\n"),
        { mode: 0o600 },
    );
    chmodSync(home, 0o700);
    return { home, marker };
}

/** Runs argv with HOME and /root both at `home` (a private mount namespace, gone when argv ends). */
function asUser(home: string, argv: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(
            "unshare",
            ["--mount", "--propagation", "private", "--", "sh", "-c", 'mount --bind "$1" /root && shift && exec "$@"', "sh", home, ...argv],
            { cwd: projectRoot, env: { ...process.env, HOME: home }, stdio: ["pipe", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(input ?? "");
    });
}

const settle = () => new Promise((r) => setTimeout(r, 300));

test("validate refuses remote hosts without ssh: before any connection, pinned access never reads ~/.ssh, and plain ssh would have", async (t) => {
    t.timeout(5 * 60_000);
    const sshd = await startSshd(t, { logLevel: "VERBOSE" });
    const { home, marker } = trapHome(t, sshd);
    await settle();
    // The helper's own check that sshd listens is a connection too: count from here.
    const connectionsBefore = sshd.connections();

    // A stack whose hosts are remote with no ssh: block: one runs a guest, one is only a migration's destination, one is only named.
    const topology = { numaNodes: [{ id: 0, cpus: "0-1" }] };
    const pod = {
        hosts: [
            { name: "lab-a", uri: `qemu+ssh://root@${sshd.host}:${sshd.port}/system`, topology, housekeepingCpus: "0" },
            { name: "lab-b", uri: `qemu+ssh://root@${sshd.silentAddress}/system`, topology, housekeepingCpus: "0" },
            // Only named, over another transport: discovery would read it all the same.
            { name: "lab-c", uri: `qemu+tcp://${sshd.host}/system`, topology, housekeepingCpus: "0" },
        ],
        guests: [{ name: "vnf", host: "lab-a", memory: "256M", pageSize: "4K", knobs: { userNic: true } }],
    };
    const stackDir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-unpinned-"));
    t.teardown(() => rmSync(stackDir, { recursive: true, force: true }));
    const file = path.join(stackDir, "Pulumi.unpinned.yaml");
    writeFileSync(
        file,
        yaml.dump({ config: { "nfv-testpod:pod": pod, "nfv-testpod:probes": { migration: [{ guest: "vnf", to: "lab-b" }] } } }, { lineWidth: -1 }),
    );

    const validate = await asUser(home, [tsx, path.join(projectRoot, "tools", "cli", "validate.ts"), file]);
    t.log(`$ HOME=${home} npm run validate -- ${file}\n${validate.stdout}${validate.stderr}`);
    t.is(validate.code, 1);
    const problems = validate.stderr.split("\n").filter((l) => l.startsWith(`${file}:`) && /^:\d+: /.test(l.slice(file.length)));
    t.deepEqual(
        problems.map((l) => l.replace(/\. Fix: .*$/, "")),
        [
            `${file}:4: nfv-testpod:pod.hosts[0].ssh: is needed: host lab-a is remote (qemu+ssh://root@${sshd.host}:${sshd.port}/system) and has guests, so the kit copies the guest image there and works on its files over SSH (got nothing)`,
            `${file}:11: nfv-testpod:pod.hosts[1].ssh: is needed: host lab-b is remote (qemu+ssh://root@${sshd.silentAddress}/system) and is a migration destination, so the kit makes room in its hugepage pool and checks the guest's pins there over SSH (got nothing)`,
            `${file}:15: nfv-testpod:pod.hosts[2].ssh: is needed: host lab-c is remote (qemu+tcp://${sshd.host}/system) and is named by the pod, so the kit reads its topology, accelerator, kernel and memory locking there over SSH before planning (got nothing)`,
        ],
    );
    for (const l of problems)
        t.true(
            l.endsWith("or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts"),
            l,
        );
    await settle();
    t.false(existsSync(marker), "the user's ssh config was never used");
    t.is(sshd.connections(), connectionsBefore, `no connection reached sshd:\n${sshd.log()}`);

    // Pinned access, the same trap in HOME and /root: the kit's ssh and libvirt's own qemu+ssh reach the host without reading it.
    const target = { kind: "ssh", name: "lab-a", host: sshd.host, port: sshd.port, privateKey: sshd.privateKey, knownHosts: sshd.knownHosts };
    const reach = await asUser(
        home,
        [tsx, path.join(projectRoot, "tests", "helpers", "pinnedReach.ts")],
        JSON.stringify({ target, rawUri: `qemu+ssh://root@${sshd.host}:${sshd.port}/system`, withLibvirt: libvirtHere }),
    );
    t.log(`pinned reach, with the same HOME: ${reach.stdout}${reach.stderr}`);
    t.is(reach.code, 0, reach.stderr);
    const reached = JSON.parse(reach.stdout.trim().split("\n").pop()!) as { ran: string; libvirtUri?: string; virshUri?: string; refused?: string };
    t.is(reached.ran, "reached");
    if (libvirtHere) {
        t.regex(reached.libvirtUri!, /^qemu\+ssh:\/\/root@10\.213\.\d+\.2:2222\/system\?command=[^&]*nfvkit-ssh-[^&]*&known_hosts=/);
        t.is(reached.virshUri, reached.libvirtUri, "virsh answered over libvirt's qemu+ssh, through the kit's ssh");
    } else t.log("no libvirtd answers on qemu:///system here: libvirt's qemu+ssh leg not run");
    t.regex(reached.refused ?? "", /libvirtUri: starts libvirt's own ssh, which would read your ~\/\.ssh\/config, known_hosts and keys/);
    t.is(sshd.acceptedLogins(), 1, "one login, the kit's shared connection; the raw URI started nothing");
    await settle();
    t.false(existsSync(marker), "the kit's ssh and libvirt's read no ~/.ssh/config");

    // The control: plain ssh with this HOME gets in, through the user's config, and leaves the marker.
    const plain = await asUser(home, ["ssh", "-p", String(sshd.port), `root@${sshd.host}`, "echo", "in"]);
    t.is(plain.code, 0, plain.stderr);
    t.is(plain.stdout.trim(), "in");
    t.true(existsSync(marker), "the trap catches an ssh that reads the user's config");
    t.is(sshd.acceptedLogins(), 2);
});
