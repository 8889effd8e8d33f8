/**
 * A person's run: the host is reached with the key in their ssh-agent
 * (`ssh.agent: true`), its host key pinned by a known_hosts file they name,
 * no key in the stack. The host is this machine's libvirt seen through an sshd
 * in its own network namespace, as in remotePod.test.ts; the agent is a real
 * ssh-agent this test starts and feeds the key through stdin. The real engine
 * brings the pod up, refreshes it and destroys it; with the agent gone,
 * destroy (which runs only the provider plugin, from the state) fails naming
 * the host, the missing agent and the fix, and succeeds once the agent is back.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SSH_DIR_PREFIX } from "../../components/host/access";
import { projectRoot } from "../../tools/cli/engine";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, shmFilesWithPrefix } from "../helpers/host";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd, type TestSshd } from "../helpers/sshd";
import { useStack } from "../helpers/stack";

const test = realTest(sshdAvailable() && existsSync("/run/libvirt/libvirt-sock"), "an sshd for tests and a running libvirtd");
const STACK = "agent-ssh";
const PREFIX = "nfv-testpod-agent-ssh";

/** A real ssh-agent on `socket` holding the test server's client key (given on stdin); returns its pid. */
function startAgent(sshd: TestSshd, socket: string): number {
    const out = execFileSync("ssh-agent", ["-a", socket, "-s"], { encoding: "utf8" });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1]);
    const added = spawnSync("ssh-add", ["-q", "-"], { input: sshd.privateKey, env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: "utf8" });
    if (added.status !== 0) throw new Error(`ssh-add failed: ${added.stderr}`);
    return pid;
}

function stopAgent(pid: number): void {
    try {
        process.kill(pid, "SIGTERM");
    } catch {
        // Already stopped.
    }
}

test("pulumi up, refresh and destroy with the key in the user's ssh-agent; destroy says so when the agent is gone", async (t) => {
    const sshd = await startSshd(t);
    const hugepagesBefore = await hugepagesSettled();
    const work = mkdtempSync(path.join(os.tmpdir(), "nfvkit-agentpod-"));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const socket = path.join(work, "agent.sock");
    let agentPid = startAgent(sshd, socket);
    // Registered before the stack's teardowns, so it runs after them: they need the agent.
    t.teardown(() => stopAgent(agentPid));
    const savedSock = process.env.SSH_AUTH_SOCK;
    // The engine, its program and its provider plugin get this process's environment (pulumiEnv).
    process.env.SSH_AUTH_SOCK = socket;
    t.teardown(() => {
        if (savedSock === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = savedSock;
    });
    // The pinned host key, in a file the user names (read when the stack is loaded).
    const pins = path.join(work, "known_hosts");
    writeFileSync(pins, `# the test sshd, checked out of band\n${sshd.knownHosts}\nother.example ${sshd.otherHostKey}\n`);

    const stackFile = path.join(projectRoot, "stacks", `Pulumi.${STACK}.yaml`);
    const config = path.join(work, `Pulumi.${STACK}.yaml`);
    // Registered first, so it runs last (after useStack's own destroy), with an agent holding the key.
    t.teardown(async () => {
        process.env.SSH_AUTH_SOCK = socket;
        if (!existsSync(socket)) agentPid = startAgent(sshd, socket);
        await stack.run(["destroy", "--yes", "--skip-preview", "--config-file", config]);
        await stack.run(["stack", "rm", "--yes", "--force"]);
        rmSync(stackFile, { force: true });
    });
    const stack = useStack(t, STACK, PREFIX);
    const salt = /^encryptionsalt:.*$/m.exec(readFileSync(stackFile, "utf8"))?.[0] ?? "";
    writeFileSync(
        config,
        readFileSync(path.join(projectRoot, "stacks", "Pulumi.ci.yaml"), "utf8")
            .replace(/^encryptionsalt:.*$/m, salt)
            .replace(
                "uri: qemu:///system",
                `uri: qemu+ssh://root@${sshd.host}:${sshd.port}/system\n        ssh:\n          port: ${sshd.port}\n          agent: true\n          knownHostsFile: ${pins}`,
            ),
    );

    const up = await stack.up(["--config-file", config]);
    t.regex(up.stdout, /nfvkit:host:GuestImage\s+pod-image-local\s+created/);
    t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [`${PREFIX}-peer`, `${PREFIX}-vnf`]);
    t.is(hugepages2M(), hugepagesBefore + 256, "hugepages reserved over SSH");
    t.true(sshd.acceptedLogins() > 0, "the kit logged in with the agent's key");
    const state = (await stack.run(["stack", "export"])).stdout;
    t.false(state.includes("PRIVATE KEY"), "no key in the state");
    t.true(state.includes('"agent": true'), "the resources say how the host is reached");
    t.true(state.includes(sshd.knownHosts), "the pin read from the file is in the state");
    t.false(state.includes("other.example"), "another host's pin in the same file is not");

    const refresh = await stack.run(["refresh", "--yes", "--skip-preview", "--config-file", config]);
    t.is(refresh.code, 0, refresh.stdout + refresh.stderr);

    // The agent stops (the person's session ended): destroy cannot reach the host, and says why.
    stopAgent(agentPid);
    for (let i = 0; i < 50 && existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    const refused = await stack.run(["destroy", "--yes", "--skip-preview", "--config-file", config]);
    const said = refused.stdout + refused.stderr;
    t.not(refused.code, 0);
    t.true(said.includes("host local is reached with the key in your ssh-agent (ssh.agent: true), but no ssh-agent answers at SSH_AUTH_SOCK="), said);
    t.true(said.includes('eval "$(ssh-agent)"; ssh-add ~/.ssh/id_ed25519'), said);
    t.true(said.includes("or give the host ssh.privateKeySecret"), said);
    t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [`${PREFIX}-peer`, `${PREFIX}-vnf`], "nothing was destroyed blind");

    // The agent is back: destroy goes through.
    agentPid = startAgent(sshd, socket);
    const destroy = await stack.run(["destroy", "--yes", "--skip-preview", "--config-file", config]);
    t.is(destroy.code, 0, destroy.stdout + destroy.stderr);
    t.deepEqual(await domainsWithPrefix(PREFIX), []);
    t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    t.is(hugepages2M(), hugepagesBefore);

    // The engine's processes have ended: the ssh-agents the kit started for them (the program's and the
    // provider plugin's) end with them, at once by their exit hooks or within the agent's 10 s check.
    let left = kitAgentsOfDeadOwners();
    for (let i = 0; i < 150 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = kitAgentsOfDeadOwners();
    }
    t.deepEqual(left, [], "no ssh-agent of the kit outlives its process");
});

/** ssh-agents bound in a kit ssh directory whose owning process is gone. */
function kitAgentsOfDeadOwners(): string[] {
    const found: string[] = [];
    for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        let argv: string[];
        try {
            argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        } catch {
            continue;
        }
        if (path.basename(argv[0] ?? "") !== "ssh-agent") continue;
        const socket = argv.find((a) => a.startsWith(path.join(os.tmpdir(), SSH_DIR_PREFIX)));
        if (!socket) continue;
        let owner = 0;
        try {
            owner = JSON.parse(readFileSync(path.join(path.dirname(socket), "owner.json"), "utf8")).pid;
        } catch {
            // No record left: the owner's directory is gone.
        }
        if (owner === 0 || !existsSync(`/proc/${owner}`)) found.push(`${pid}: ${argv.join(" ")}`);
    }
    return found;
}
