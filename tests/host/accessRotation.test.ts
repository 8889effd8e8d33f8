/**
 * Rotating a host's SSH key, for real (issue 20, finding 1), as
 * docs/pod-spec.md ("Rotating a host's access") tells a person to: one lab
 * host (`npm run lab -- up --hosts 1`), one small guest, key A. Key B is
 * authorised on the host and set in the stack's config; the engine's own
 * preview (JSON) then plans an update of every resource on the host and no
 * replacement, and `npm run up` does it without restarting the guest (same
 * domain id) and stores key B in the state. Key A is removed from the host.
 * Then the key changes once more without an `up` (key C in the config, B
 * removed from the host), and `npm run down` still takes the pod down: read
 * and delete use the stack's current access, not the state's. The host is
 * left clean: no domain, no ledger entry of the stack, the hugepages given
 * back. t.teardown always runs `lab down` and removes the stack.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { closeHostAccesses, hostAccess, revealSecrets, type SshTarget } from "../../components/host/access";
import { projectRoot, pulumiEnv, runPulumi, selectStack } from "../../tools/cli/engine";
import { labLayout } from "../../tools/lab/layout";
import { labSshTargets, readLabState } from "../../tools/lab/state";
import { runKitCommand } from "../helpers/engineRun";
import { hugepages2M, hugepagesSettled } from "../helpers/host";
import { realTest } from "../helpers/realParts";
import { sshdAvailable } from "../helpers/sshd";

const haveTools = ["libvirtd", "virtlogd", "unshare", "nsenter", "setsid", "ssh-keygen"].every(
    (bin) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", bin], { stdio: "ignore" }).status === 0,
);
const test = realTest(sshdAvailable() && haveTools, "root, iproute2, OpenSSH (server and ssh-keygen), libvirtd and util-linux for the emulated lab");

const STACK = "access-rotation";
const PREFIX = `nfv-testpod-${STACK}`;
const DOMAIN = `${PREFIX}-vnf`;
const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");
const KIT_TYPES = ["nfvkit:libvirt:Domain", "nfvkit:host:HugepageReservation", "nfvkit:host:GuestImage"];

/** A new ed25519 key pair, in memory: its files live only until it is read. */
function newKey(): { privateKey: string; publicKey: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-rotation-key-"));
    try {
        const file = path.join(dir, "id");
        const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "nfvkit-rotation-test", "-f", file], { encoding: "utf8" });
        if (made.status !== 0) throw new Error(`ssh-keygen failed: ${made.stderr}`);
        return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

test("a rotated key is an update of every resource on the host; down works with the newest key alone", async (t) => {
    t.timeout(20 * 60_000);
    // Teardowns run last-registered first: the lab goes last.
    t.teardown(async () => {
        await closeHostAccesses();
        spawnSync(tsx, [path.join(projectRoot, "tools", "cli", "lab.ts"), "down"], { cwd: projectRoot, stdio: "ignore", timeout: 300_000 });
    });
    const lab = spawnSync(tsx, [path.join(projectRoot, "tools", "cli", "lab.ts"), "up", "--hosts", "1"], {
        cwd: projectRoot,
        env: pulumiEnv(),
        encoding: "utf8",
        timeout: 300_000,
    });
    t.is(lab.status, 0, `${lab.stdout}${lab.stderr}`);
    const state = readLabState()!;
    const host = state.hosts[0];
    const authorizedKeys = labLayout(1).hosts[0].ssh.authorizedKeys;
    const hugepagesBefore = await hugepagesSettled();

    // The stack's config outside the repo (it holds the keys, encrypted), removed with the stack.
    const stackFile = path.join(projectRoot, "stacks", `Pulumi.${STACK}.yaml`);
    const configDir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-rotation-"));
    const config = path.join(configDir, `Pulumi.${STACK}.yaml`);
    const kit = ["--stack", STACK, "--config-file", config];
    t.teardown(async () => {
        // As a person would: npm run down, with the stack's current key.
        const down = await runKitCommand("down", kit);
        if (down.code !== 0) console.error(`teardown: npm run down of ${STACK} failed:\n${down.output}`);
        await runPulumi(["stack", "rm", "--yes", "--force", "--stack", STACK]);
        rmSync(stackFile, { force: true });
        rmSync(configDir, { recursive: true, force: true });
    });
    selectStack(STACK);
    const salt = /^encryptionsalt:\s*(.*)$/m.exec(readFileSync(stackFile, "utf8"))?.[1] ?? "";
    const pod = {
        hosts: [
            {
                name: host.name,
                uri: `qemu+ssh://root@${host.address}/system`,
                ssh: { user: "root", address: host.address, port: 22, privateKeySecret: "hostKey", knownHosts: host.knownHosts },
                topology: { numaNodes: [{ id: 0, cpus: "0-1" }] },
                housekeepingCpus: "0",
                isolatedCpus: "1",
                hugepages: [{ node: 0, size: "2M", count: 128 }],
            },
        ],
        guests: [{ name: "vnf", host: host.name, vcpus: 1, rtVcpus: [], memory: "256M", pageSize: "2M" }],
    };
    writeFileSync(config, yaml.dump({ config: { "nfv-testpod:probes": { enabled: false }, "nfv-testpod:pod": pod }, encryptionsalt: salt }, { lineWidth: -1 }));
    // The key goes in as a secret, the way a person sets it (stdin: never in a process list).
    const setKey = (privateKey: string) => {
        const set = spawnSync("pulumi", ["config", "set", "--secret", "hostKey", "--stack", STACK, "--config-file", config], {
            cwd: projectRoot,
            env: pulumiEnv(),
            input: privateKey,
            encoding: "utf8",
        });
        t.is(set.status, 0, set.stderr);
    };
    const keyA = readFileSync(state.clientKey, "utf8");
    setKey(keyA);

    const up = await runKitCommand("up", kit);
    t.is(up.code, 0, up.output);
    const [targetA] = labSshTargets(state);
    const domid = (await hostAccess(targetA).virsh(["domid", DOMAIN])).trim();
    const uuid = (await hostAccess(targetA).virsh(["domuuid", DOMAIN])).trim();

    // Rotation: key B authorised on the host, then set in the stack's config.
    const keyB = newKey();
    appendFileSync(authorizedKeys, `${keyB.publicKey}\n`);
    setKey(keyB.privateKey);
    const preview = await runPulumi(["preview", "--json", ...kit]);
    t.is(preview.code, 0, preview.stderr);
    const steps = (JSON.parse(preview.stdout) as { steps: { op: string; urn: string }[] }).steps;
    // Each kit resource on the host: an update; nothing replaced, created or deleted.
    const typeOf = (urn: string) => urn.split("::")[2]?.split("$").pop() ?? "";
    const ops = Object.fromEntries(steps.filter((s) => KIT_TYPES.includes(typeOf(s.urn))).map((s) => [typeOf(s.urn), s.op]));
    t.deepEqual(ops, Object.fromEntries(KIT_TYPES.map((type) => [type, "update"])), JSON.stringify(steps.map((s) => [s.urn, s.op])));
    t.deepEqual(
        steps.filter((s) => !["same", "update"].includes(s.op)).map((s) => `${s.op} ${s.urn}`),
        [],
        "no replacement, create or delete",
    );

    const rotated = await runKitCommand("up", kit);
    t.is(rotated.code, 0, rotated.output);
    t.log(`npm run up with key A: ${up.seconds.toFixed(1)} s; with key B (updates only): ${rotated.seconds.toFixed(1)} s`);
    // Done: the engine finds nothing left to change (the stored access is the config's).
    const again = await runPulumi(["preview", "--expect-no-changes", ...kit]);
    t.is(again.code, 0, again.stdout + again.stderr);
    // The same guest, never restarted: its domain id and UUID are the ones the first up made.
    const targetB: SshTarget = { ...targetA, privateKey: keyB.privateKey };
    t.is((await hostAccess(targetB).virsh(["domid", DOMAIN])).trim(), domid);
    t.is((await hostAccess(targetB).virsh(["domuuid", DOMAIN])).trim(), uuid);
    // The state holds key B for every resource on the host, encrypted (compared in memory, never shown).
    const exported = await runPulumi(["stack", "export", "--stack", STACK]);
    t.false(exported.stdout.includes("PRIVATE KEY"), "the key is encrypted in the state");
    const shown = await runPulumi(["stack", "export", "--show-secrets", "--stack", STACK]);
    const resources = (JSON.parse(shown.stdout) as { deployment: { resources: { type: string; outputs?: { access?: unknown } }[] } }).deployment.resources;
    const keys = resources
        .filter((r) => KIT_TYPES.includes(r.type))
        .map((r) => (revealSecrets(r.outputs?.access) as SshTarget | undefined)?.privateKey?.trim() === keyB.privateKey.trim());
    t.deepEqual(keys, [true, true, true], "every resource on the host stores key B");

    // Key A is removed from the host. Then the key changes again with no up between (C for B): the state still holds B.
    const keyC = newKey();
    writeFileSync(authorizedKeys, `${keyB.publicKey}\n${keyC.publicKey}\n`);
    setKey(keyC.privateKey);
    writeFileSync(authorizedKeys, `${keyC.publicKey}\n`);
    const down = await runKitCommand("down", kit);
    t.is(down.code, 0, down.output);
    t.log(`npm run down with key C, the state holding B: ${down.seconds.toFixed(1)} s`);

    // The host is clean, as key C sees it: no domain of the stack, no ledger entry of the stack, the pages given back.
    const targetC: SshTarget = { ...targetA, privateKey: keyC.privateKey };
    const domains = (await hostAccess(targetC).virsh(["list", "--all", "--name"])).split("\n").filter((d) => d.startsWith(PREFIX));
    t.deepEqual(domains, []);
    const ledger = await hostAccess(targetC).run(["grep", "-rl", "--", `urn:pulumi:${STACK}::`, "/var/lib/nfvkit/ledger"], { nothrow: true });
    t.is(ledger.stdout.trim(), "", "no ledger entry of the stack");
    t.is(hugepages2M(), hugepagesBefore);
    const after = JSON.parse((await runPulumi(["stack", "export", "--stack", STACK])).stdout) as { deployment: { resources?: { type: string }[] } };
    t.deepEqual(
        (after.deployment.resources ?? []).filter((r) => KIT_TYPES.includes(r.type)),
        [],
    );
});
