/**
 * No private key on disk, and nothing left behind: processes that reach the
 * test sshd (tests/helpers/sshd.ts) with a stack's key, the way the kit does,
 * are ended normally, by SIGTERM and by SIGKILL with a connection open. After
 * each, /tmp and the kit's folders are searched for the key, and for what the
 * process ran (its ssh-agent, its shared connection). A SIGKILL leaves its
 * directory (without the key); the next process that opens an SSH host sweeps
 * it and ends its agent and connection.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecutionContext } from "ava";
import type { SshTarget } from "../../components/host/access";
import { projectRoot } from "../../tools/cli/engine";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd, type TestSshd } from "../helpers/sshd";

const test = realTest(sshdAvailable(), "root with openssh-server, openssh-client and iproute2 (ip netns)");

/** Files under `roots` (regular files up to 8 MiB, symlinks not followed) whose bytes hold one of `needles`; `skip` is not searched. */
function filesHolding(needles: string[], roots: string[], skip: string[]): string[] {
    const found: string[] = [];
    const walk = (p: string, depth: number) => {
        if (skip.includes(p)) return;
        let st: fs.Stats;
        try {
            st = fs.lstatSync(p);
        } catch {
            return;
        }
        if (st.isDirectory()) {
            if (depth > 8) return;
            let names: string[] = [];
            try {
                names = fs.readdirSync(p);
            } catch {
                return;
            }
            for (const n of names) walk(path.join(p, n), depth + 1);
        } else if (st.isFile() && st.size <= 8 * 1024 * 1024) {
            try {
                const bytes = fs.readFileSync(p);
                if (needles.some((n) => bytes.includes(n))) found.push(p);
            } catch {
                // Gone meanwhile, or not ours to read.
            }
        }
    };
    for (const root of roots) walk(root, 0);
    return found;
}

/** Running processes whose command line names `dir` (an ssh-agent bound there, an ssh client or master using its config). */
function processesNaming(dir: string): string[] {
    const found: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
            const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
            if (cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
        } catch {
            // Ended meanwhile.
        }
    }
    return found;
}

/** The kit's own folders a run writes to, and /tmp; the test server's folder (the user's own key file) is not the kit's. */
function keyFiles(sshd: TestSshd, skip = [sshd.dir]): string[] {
    // The key's own lines: not the first (the format's header, the same in every ed25519 key) nor the last
    // (the comment and padding); the middle ones hold this key's public and private halves.
    const body = sshd.privateKey.trim().split("\n").slice(1, -1);
    const needles = body.slice(1, -1);
    const roots = [os.tmpdir(), path.join(projectRoot, ".state"), path.join(projectRoot, "results")];
    return filesHolding(needles, skip.length ? roots : [sshd.dir], [...skip, path.join(projectRoot, ".state", "bin")]);
}

interface Client {
    pid: number;
    dir: Promise<string>;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
    output: () => string;
}

/** Starts tests/helpers/sshClient.ts in `mode`, the target (with the key) on its stdin, never in a file or its arguments. */
function client(t: ExecutionContext, sshd: TestSshd, mode: "exit" | "hold"): Client {
    const target: SshTarget = { kind: "ssh", name: "lab-k", host: sshd.host, port: sshd.port, privateKey: sshd.privateKey, knownHosts: sshd.knownHosts };
    const child = spawn(process.execPath, ["--import=tsx", path.join(projectRoot, "tests", "helpers", "sshClient.ts"), mode], {
        cwd: projectRoot,
        stdio: ["pipe", "pipe", "pipe"],
    });
    t.teardown(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let out = "";
    child.stderr.on("data", (d: Buffer) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    const dir = new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
            out += d;
            const m = /^ready (\S+)$/m.exec(out);
            if (m) resolve(m[1]);
        });
        void exited.then(() => reject(new Error(`the client ended before it was ready: ${out}`)));
    });
    child.stdin.end(JSON.stringify(target));
    return { pid: child.pid!, dir, exited, output: () => out };
}

test("a process that ends by itself, or by SIGTERM, leaves no key, no agent and no connection", async (t) => {
    const sshd = await startSshd(t);
    t.deepEqual(keyFiles(sshd), [], "no file holds the key before the kit runs (the test server's own folder aside)");
    t.deepEqual(keyFiles(sshd, []), [path.join(sshd.dir, "client_key")], "the search finds the key where it is: the user's own key file");

    const ends = client(t, sshd, "exit");
    const endsDir = await ends.dir;
    t.true(fs.existsSync(path.join(endsDir, "config")));
    t.deepEqual(await ends.exited, { code: 0, signal: null }, ends.output());
    t.false(fs.existsSync(endsDir), "the exit hook removed its directory");
    t.deepEqual(processesNaming(endsDir), [], "its agent and its shared connection are gone");

    const held = client(t, sshd, "hold");
    const heldDir = await held.dir;
    // While it runs: the key is in its agent's memory, in no file.
    t.deepEqual(keyFiles(sshd), []);
    t.true(fs.statSync(path.join(heldDir, "agent")).isSocket());
    t.deepEqual(fs.readdirSync(heldDir).sort(), ["agent", "cm", "config", "known_hosts", "owner.json", "ssh"]);
    t.true(
        processesNaming(heldDir).some((p) => / ssh-agent -a /.test(` ${p.split(": ").slice(1).join(": ")}`)),
        "an agent of its own serves the directory",
    );
    process.kill(held.pid, "SIGTERM");
    t.deepEqual(await held.exited, { code: null, signal: "SIGTERM" }, "it still ends by the signal");
    t.false(fs.existsSync(heldDir), "the signal handler removed its directory");
    t.deepEqual(processesNaming(heldDir), []);
    t.deepEqual(keyFiles(sshd), []);
});

test("after a SIGKILL with a connection open, the next run sweeps what was left: directory, agent, connection", async (t) => {
    const sshd = await startSshd(t);
    const killed = client(t, sshd, "hold");
    const leftDir = await killed.dir;
    const agentPid = JSON.parse(fs.readFileSync(path.join(leftDir, "owner.json"), "utf8")).agent.pid as number;
    process.kill(killed.pid, "SIGKILL");
    t.deepEqual(await killed.exited, { code: null, signal: "SIGKILL" });

    // Left behind: its directory, which holds no key; its agent and its shared connection may still run.
    t.true(fs.existsSync(leftDir));
    t.deepEqual(keyFiles(sshd), [], "nothing on disk holds the key after a SIGKILL either");
    t.false(fs.readdirSync(leftDir).includes("id"));
    const leftRunning = processesNaming(leftDir);
    t.log(
        `left running after the SIGKILL: ${leftRunning.length} process(es), the agent ${leftRunning.some((p) => p.startsWith(`${agentPid}:`)) ? "among them" : "already gone"}`,
    );

    // The next run: a process that opens an SSH host sweeps first.
    const next = client(t, sshd, "exit");
    const nextDir = await next.dir;
    t.deepEqual(await next.exited, { code: 0, signal: null }, next.output());
    t.false(fs.existsSync(leftDir), "the dead owner's directory was swept");
    t.deepEqual(processesNaming(leftDir), [], "no agent and no connection of the killed process is left");
    t.false(fs.existsSync(`/proc/${agentPid}/cmdline`) && fs.readFileSync(`/proc/${agentPid}/cmdline`, "utf8").includes(leftDir));
    t.false(fs.existsSync(nextDir));
    t.deepEqual(processesNaming(nextDir), []);
    t.deepEqual(keyFiles(sshd), []);
});
