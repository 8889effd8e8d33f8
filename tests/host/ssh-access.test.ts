/**
 * The SSH HostAccess against a real OpenSSH server in its own network
 * namespace (tests/helpers/sshd.ts): commands, exact bytes through the
 * quoting, files, one connection per host, and the refusals (changed or
 * unpinned host key, unsafe host value, unreachable host) with their words.
 */
import type { ExecutionContext } from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ProblemListError } from "../../components/spec/problems";
import { HostCommandError, HostFileError, SshHostAccess, hostAccess, closeHostAccesses, type SshTarget } from "../../components/host/access";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd, type TestSshd } from "../helpers/sshd";

const test = realTest(sshdAvailable(), "root with openssh-server, openssh-client and iproute2 (ip netns)");

/** An SSH target for the test server, closed in teardown. */
function access(t: ExecutionContext, sshd: TestSshd, over: Partial<SshTarget> = {}): SshHostAccess {
    const a = new SshHostAccess({
        kind: "ssh",
        name: "lab-t",
        host: sshd.host,
        port: sshd.port,
        user: sshd.user,
        privateKey: sshd.privateKey,
        knownHosts: sshd.knownHosts,
        ...over,
    });
    t.teardown(() => a.close());
    return a;
}

test("runs a command and returns stdout, stderr and the exit code", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd);
    t.deepEqual(await a.run(["sh", "-c", "echo out; echo err >&2; exit 3"], { nothrow: true }), { stdout: "out\n", stderr: "err\n", exitCode: 3 });
    t.deepEqual(await a.run(["cat"], { input: "fed through stdin\n" }), { stdout: "fed through stdin\n", stderr: "", exitCode: 0 });
    t.is((await a.run(["sh", "-c", 'printf %s "$NFVKIT_X"'], { env: { NFVKIT_X: "a b" } })).stdout, "a b");
    t.is((await a.run(["pwd"], { cwd: "/proc/sys" })).stdout, "/proc/sys\n");
    const slow = await t.throwsAsync(a.run(["sleep", "30"], { timeoutMs: 500 }), { instanceOf: HostCommandError });
    t.like(slow, { failure: "timeout", message: "sleep 30 on lab-t failed: timed out after 500 ms and was killed" });
    const err = await t.throwsAsync(a.run(["sh", "-c", "echo no such pool >&2; exit 4"]), { instanceOf: HostCommandError });
    t.is(err!.message, "sh -c 'echo no such pool >&2; exit 4' on lab-t failed: exit code 4: no such pool");
    t.like(err, { host: "lab-t", exitCode: 4, stderr: "no such pool\n", failure: "exit" });
});

test("a started command streams its output and kill() stops it on the host", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd);
    const bg = a.start(["sh", "-c", "echo started; exec sleep 77"]);
    let out = "";
    bg.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const running = () => a.run(["sh", "-c", "ps -eo args | grep -c '^sleep 77$' || true"]).then((r) => r.stdout.trim());
    for (let i = 0; i < 50 && (await running()) !== "1"; i++) await new Promise((r) => setTimeout(r, 100));
    t.is(await running(), "1");
    await bg.kill();
    t.is(out, "started\n");
    t.is(await running(), "0", "the remote command is gone, not only the local ssh client");
    t.like(await a.start(["sh", "-c", "echo hi; exit 3"], { nothrow: true }).result, { stdout: "hi\n", exitCode: 3 });
});

test("argv arrives as the same bytes: no value becomes shell", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd);
    const marker = path.join(os.tmpdir(), `nfvkit-injected-${process.pid}`);
    const words = [
        "two words",
        "it's",
        '"double"',
        `$(touch ${marker})`,
        `\`touch ${marker}\``,
        `; touch ${marker}`,
        `| touch ${marker}`,
        "line1\nline2",
        "tab\there",
        "$HOME ${PATH} ~ * ? [a]",
        "back\\slash",
        "",
        "-n",
        "FOO=bar",
        "ünïcødé",
    ];
    // printf prints each argument between markers, so empty and trailing-space words show too.
    const out = await a.run(["printf", "<%s>\\n", ...words]);
    t.is(out.stdout, words.map((w) => `<${w}>\n`).join(""));
    t.false(fs.existsSync(marker), "nothing was executed by a shell");
});

test("files: write, read, exists, stat, list, remove, mkdir, copyTo round-trip", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nfvkit-remote-"));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const sub = path.join(dir, "a dir", "deeper");
    await a.mkdir(sub);
    const file = path.join(sub, "it's $(x).txt");
    await a.writeFile(file, "line 1\nline 2\n", { mode: 0o640 });
    t.is(await a.readFile(file), "line 1\nline 2\n");
    t.is(fs.statSync(file).mode & 0o777, 0o640, "mode applied");
    t.true(await a.exists(file));
    t.deepEqual(await a.stat(file), { uid: 0, gid: 0, size: 14, isFile: true, isDirectory: false });
    t.like(await a.stat(sub), { isFile: false, isDirectory: true });
    await a.writeFile(path.join(sub, "new\nline"), "");
    t.deepEqual(await a.listDir(sub), ["it's $(x).txt", "new\nline"]);
    await a.chown(file, 1234, 5678);
    t.like(await a.stat(file), { uid: 1234, gid: 5678 });

    const bytes = Buffer.from(Array.from({ length: 70000 }, (_, i) => (i * 7) % 256));
    const local = path.join(dir, "local.bin");
    fs.writeFileSync(local, bytes);
    await a.copyTo(local, path.join(sub, "copied.bin"));
    t.true(fs.readFileSync(path.join(sub, "copied.bin")).equals(bytes), "copyTo is byte for byte");

    await a.remove(file);
    t.false(await a.exists(file));
    await a.remove(file); // absent is fine
    t.is(await a.stat(file), undefined);
    t.is(await a.tryReadFile(file), undefined);
    t.is(await a.readFile("/proc/sys/kernel/ostype"), "Linux\n", "procfs reads like a file");
});

test("a missing file is .missing; a missing command says it is not installed", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd);
    const err = await t.throwsAsync(a.readFile("/nonexistent/nfvkit"), { instanceOf: HostFileError });
    t.true(err!.missing);
    t.is(err!.message, "cannot read /nonexistent/nfvkit on lab-t: it does not exist");
    const listing = await t.throwsAsync(a.listDir("/nonexistent/nfvkit"), { instanceOf: HostFileError });
    t.true(listing!.missing);
    const cmd = await t.throwsAsync(a.run(["nfvkit-no-such-tool", "--version"]), { instanceOf: HostCommandError });
    t.is(cmd!.failure, "not-installed");
    t.is(cmd!.exitCode, 127);
    t.regex(cmd!.message, /^nfvkit-no-such-tool --version on lab-t failed: nfvkit-no-such-tool is not installed on lab-t \(exit code 127, command not found\)/);
});

test("one connection per host: a control socket, one login for many commands", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd);
    // Started together: only the first may open a connection, the rest must wait for its socket.
    const outs = await Promise.all(Array.from({ length: 8 }, (_, i) => a.run(["echo", String(i)])));
    t.deepEqual(
        outs.map((o) => o.stdout),
        Array.from({ length: 8 }, (_, i) => `${i}\n`),
    );
    for (let i = 0; i < 5; i++) await a.readFile("/proc/sys/kernel/ostype");
    t.true(fs.statSync(await a.controlSocket()).isSocket(), "the master's control socket exists");
    t.is(sshd.acceptedLogins(), 1, `13 commands, one SSH login; sshd said:\n${sshd.log()}`);
    const socket = await a.controlSocket();
    await a.close();
    t.false(fs.existsSync(socket), "close() stops the master and the agent and removes their files");
    t.false(fs.existsSync(path.dirname(socket)));
});

test("the factory hands out one access per host and picks local or SSH from the target", async (t) => {
    const sshd = await startSshd(t);
    t.teardown(closeHostAccesses);
    const target: SshTarget = { kind: "ssh", name: "lab-f", host: sshd.host, port: sshd.port, privateKey: sshd.privateKey, knownHosts: sshd.knownHosts };
    const a = hostAccess(target);
    t.is(hostAccess({ ...target }), a);
    t.false(a.local);
    t.true(hostAccess().local);
    t.is((await a.run(["id", "-u"])).stdout, "0\n");
    t.is((await hostAccess({ ...target }).run(["true"])).exitCode, 0);
    t.is(sshd.acceptedLogins(), 1);
});

test("a changed host key is refused with the host's name and how to re-pin", async (t) => {
    const sshd = await startSshd(t);
    const a = access(t, sshd, { knownHosts: `[${sshd.host}]:${sshd.port} ${sshd.otherHostKey}` });
    const err = await t.throwsAsync(a.run(["true"]), { instanceOf: HostCommandError });
    t.is(err!.failure, "host-key-changed");
    t.regex(err!.message, /the host key of lab-t \(10\.213\.\d+\.2 port 2222\) is not the pinned one \(ssh: REMOTE HOST IDENTIFICATION HAS CHANGED\)/);
    t.regex(err!.message, /re-pin it: ssh-keyscan -p 2222 10\.213\.\d+\.2 /);
    t.is(sshd.acceptedLogins(), 0);
    // nothrow does not turn "never ran" into a result.
    await t.throwsAsync(a.run(["true"], { nothrow: true }), { instanceOf: HostCommandError });
    await t.throwsAsync(a.readFile("/etc/hostname"), { instanceOf: HostCommandError });
});

test("a host with no pinned key is refused, never learned", async (t) => {
    const sshd = await startSshd(t);
    // A key pinned for another address only: nothing is pinned for this one.
    const a = access(t, sshd, { knownHosts: `[10.213.0.9]:${sshd.port} ${sshd.knownHosts.split(" ").slice(1).join(" ")}` });
    const err = await t.throwsAsync(a.run(["true"]), { instanceOf: HostCommandError });
    t.is(err!.failure, "host-key-unknown");
    t.regex(err!.message, /no pinned host key matches lab-t .*Pin it: ssh-keyscan -p 2222 /);
    t.is(sshd.acceptedLogins(), 0);
    t.throws(() => access(t, sshd, { knownHosts: "" }), { instanceOf: ProblemListError, message: /knownHosts: pins no host key for lab-t, .*\(got ""\)/ });
});

test("unsafe host and user values are refused before ssh runs", (t) => {
    const base = {
        kind: "ssh" as const,
        privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
        knownHosts: "h ssh-ed25519 AAAA",
    };
    const bad = (over: Partial<SshTarget>) => t.throws(() => new SshHostAccess({ ...base, host: "lab-1", ...over }), { instanceOf: ProblemListError });
    t.is(
        bad({ host: "-oProxyCommand=touch /tmp/pwned" })!.message,
        `host access has 1 problem:\nhost: is not a host name or IP address (a leading '-', whitespace or shell characters could be read as ssh options or commands) (got "-oProxyCommand=touch /tmp/pwned"). Fix: give a DNS name or an IP address, e.g. lab-1.example or 10.0.0.7`,
    );
    bad({ host: "lab 1" });
    bad({ host: "lab;reboot" });
    bad({ host: "$(id)" });
    bad({ user: "-oProxyCommand=x" });
    bad({ user: "root@evil" });
    bad({ port: 0 });
    t.regex(bad({ privateKey: "hostKeyLab1" })!.message, /privateKey: does not hold a private key \(got \(a secret, not shown\)\)/);
    t.false(fs.existsSync("/tmp/pwned"));
});

test("an unreachable host fails fast, with ssh's words", async (t) => {
    const sshd = await startSshd(t);
    const refused = access(t, sshd, { port: 2299, knownHosts: `[${sshd.host}]:2299 ${sshd.otherHostKey}` });
    const started = Date.now();
    const err = await t.throwsAsync(refused.run(["true"]), { instanceOf: HostCommandError });
    t.is(err!.failure, "unreachable");
    t.regex(err!.message, /could not reach lab-t \(10\.213\.\d+\.2 port 2299\) over SSH: ssh: connect to host 10\.213\.\d+\.2 port 2299: Connection refused/);
    t.true(Date.now() - started < 3000);

    const silent = access(t, sshd, { host: sshd.silentAddress, connectTimeoutSec: 2, knownHosts: `[${sshd.silentAddress}]:${sshd.port} ${sshd.otherHostKey}` });
    const before = Date.now();
    const timedOut = await t.throwsAsync(silent.run(["true"]), { instanceOf: HostCommandError });
    const took = Date.now() - before;
    t.regex(
        timedOut!.message,
        /could not reach lab-t \(10\.213\.\d+\.100 port 2222\) over SSH: ssh: connect to host 10\.213\.\d+\.100 port 2222: Connection timed out/,
    );
    t.true(took >= 1500 && took < 6000, `gave up after ConnectTimeout (${took} ms)`);
});
