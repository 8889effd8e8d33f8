/**
 * A host reached with the OpenSSH client, started through zx like any local
 * command. Everything ssh needs lives in one private directory per host and
 * process (sshDir.ts): the pinned known_hosts, an ssh_config holding every
 * option, the control socket that lets all commands share one connection, and
 * the socket of the ssh-agent that holds the key (sshAgent.ts). No private key
 * is ever written to a file. close() stops the shared connection and the
 * agent and deletes the directory; the process's exit hooks do the same, and
 * the next process sweeps what a killed one left.
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import * as zlib from "node:zlib";
import type { ProcessOutput } from "zx/core";
import { HostCommandError, HostFileError, type HostCommandFailure } from "./errors";
import { libvirtSshUri } from "./libvirtUri";
import { DEFAULT_TIMEOUT_MS, endOf, judge, spawnArgv } from "./process";
import { shJoin } from "./quote";
import { startPrivateAgent, userAgentSocket } from "./sshAgent";
import { makeSshDir, type SshDir } from "./sshDir";
import { resolveSshTarget, type ResolvedSshTarget, type SshTarget } from "./target";
import type { FileStat, HostAccess, RunningCommand, RunOptions, RunResult } from "./types";
import { virsh, type VirshOptions } from "./virsh";

/** The files ssh is pointed at; they exist from the first command until close(). */
export interface SshFiles {
    dir: string;
    /** The socket of the ssh-agent that holds the key: the kit's own, or (agent: true) a link to the user's. */
    agentSocket: string;
    knownHostsFile: string;
    configFile: string;
    /** Small wrapper that runs ssh with our config, for programs that start ssh themselves (libvirt's qemu+ssh). */
    sshWrapper: string;
    controlPath: string;
}

/**
 * How the local ssh client is stopped on a timeout or kill. A multiplexed client waits for its
 * remote command even after SIGTERM; SIGKILL ends it at once (the remote command may run on).
 */
const CLIENT_KILL: NodeJS.Signals = "SIGKILL";
/** The local client's own deadline comes after the remote `timeout`, as a net for a hung connection. */
const LOCAL_GRACE_MS = 10_000;
/**
 * Runs "$@" and kills it when stdin closes (our kill()), or ends when it ends.
 * A constant script: the command arrives as positional parameters, never as text.
 */
// stdin is kept on fd 3 because sh gives background jobs /dev/null as their stdin.
const WATCH_STDIN =
    'exec 3<&0; "$@" </dev/null 3<&- & pid=$!; (cat <&3 >/dev/null; kill "$pid") >/dev/null 2>&1 & watch=$!; exec 3<&-; wait "$pid"; rc=$?; kill "$watch" 2>/dev/null; exit "$rc"';
const envNamePattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
// What the remote tools and shells print when a path is not there (LC_ALL=C is set remotely).
const missingPattern = /No such file or directory|Directory nonexistent|can't cd to/;

export class SshHostAccess implements HostAccess {
    readonly local = false;
    readonly name: string;
    readonly target: ResolvedSshTarget;
    private files: Promise<SshFiles> | undefined;
    private dir: SshDir | undefined;
    /** Settles when the first command (which opens the shared connection) has ended. */
    private opened: Promise<void> | undefined;

    /** Checks the target at once (throws a ProblemListError naming the field); connects on the first command. */
    constructor(target: SshTarget) {
        this.target = resolveSshTarget(target);
        this.name = this.target.name;
    }

    /** The control socket of the shared connection, once the first command has run. */
    async controlSocket(): Promise<string> {
        return (await this.ensureFiles()).controlPath;
    }

    async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
        const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        const line = await this.commandLine(argv, { ...opts, timeoutMs });
        const out = await this.once(() => spawnArgv(line, { input: opts.input, timeoutMs: timeoutMs + LOCAL_GRACE_MS, timeoutSignal: CLIENT_KILL }));
        return this.judge(argv, out, timeoutMs, opts.nothrow ?? false);
    }

    start(argv: readonly string[], opts: Omit<RunOptions, "timeoutMs"> = {}): RunningCommand {
        if (opts.input !== undefined) throw new Error("host access: start() over SSH keeps stdin for kill(); pass no input");
        // The process starts once the files exist; stdout is handed over at once as a stream fed later.
        const stdout = new PassThrough();
        let killed = false;
        let started: ReturnType<typeof spawnArgv> | undefined;
        // Killing the local client would not stop the remote command (the master keeps its channel), so
        // the remote side watches its stdin: when kill() closes it, the command is killed there.
        const watched = ["sh", "-c", WATCH_STDIN, "sh", ...argv];
        const result = this.commandLine(watched, opts).then(async (line) => {
            if (killed) return { stdout: "", stderr: "", exitCode: null };
            const pp = spawnArgv(line, { openStdin: true });
            started = pp;
            pp.stdout.pipe(stdout);
            const out = await pp;
            return this.judge(argv, out, undefined, (opts.nothrow ?? false) || killed);
        });
        result.catch(() => undefined);
        return {
            result,
            stdout,
            kill: async () => {
                killed = true;
                started?.stdin?.end();
                await result.catch(() => undefined);
            },
        };
    }

    async readFile(file: string): Promise<string> {
        return (await this.fileOp("read", file, ["cat", "--", file])).stdout;
    }

    async tryReadFile(file: string): Promise<string | undefined> {
        try {
            return await this.readFile(file);
        } catch (e) {
            if (e instanceof HostFileError && e.missing) return undefined;
            throw e;
        }
    }

    async writeFile(file: string, text: string, opts: { mode?: number } = {}): Promise<void> {
        await this.fileOp("write", file, writeArgv(file, opts.mode), text);
    }

    async exists(file: string): Promise<boolean> {
        const r = await this.run(["test", "-e", file], { nothrow: true });
        if (r.exitCode === 0 || r.exitCode === 1) return r.exitCode === 0;
        throw new HostFileError(this.name, file, "check", false, r.stderr.trim() || `test exited ${r.exitCode}`);
    }

    async remove(file: string): Promise<void> {
        await this.fileOp("remove", file, ["rm", "-f", "--", file]);
    }

    async mkdir(dir: string): Promise<void> {
        await this.fileOp("create directory", dir, ["mkdir", "-p", "--", dir]);
    }

    async listDir(dir: string): Promise<string[]> {
        // NUL-separated so that a name with a newline is still one name.
        const out = await this.fileOp("list", dir, ["sh", "-c", 'cd -- "$1" && exec find . -mindepth 1 -maxdepth 1 -printf "%f\\0"', "sh", dir]);
        return out.stdout
            .split("\0")
            .filter((n) => n !== "")
            .sort();
    }

    async chown(file: string, uid: number, gid: number): Promise<void> {
        if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`host access: chown ${file}: uid and gid must be integers`);
        await this.fileOp("chown", file, ["chown", `${uid}:${gid}`, "--", file]);
    }

    async stat(file: string): Promise<FileStat | undefined> {
        const r = await this.run(["stat", "-L", "-c", "%u %g %s %F", "--", file], { nothrow: true });
        if (r.exitCode !== 0) {
            if (missingPattern.test(r.stderr)) return undefined;
            throw new HostFileError(this.name, file, "stat", false, r.stderr.trim());
        }
        const [uid, gid, size, ...type] = r.stdout.trim().split(" ");
        const kind = type.join(" ");
        return { uid: Number(uid), gid: Number(gid), size: Number(size), isFile: kind.startsWith("regular"), isDirectory: kind === "directory" };
    }

    async copyTo(localPath: string, remotePath: string): Promise<void> {
        // Fail on our side first, so a missing local file is not reported as a remote problem.
        try {
            await fs.access(localPath);
        } catch (e) {
            throw new HostFileError("local", localPath, "copy", (e as NodeJS.ErrnoException).code === "ENOENT", String(e));
        }
        // Over the shared connection, with the remote path as a value (no scp path parsing). gzip -1 on the way: a guest
        // kernel is 63 MiB uncompressed (guest-images/pvh.ts) and shrinks to a fifth, which matters most where the
        // host's sshd is slow (the TCG lab VM). gzip is on every Linux host (Essential in Debian); the bytes written
        // are the file's own, and the guest image checks them by sha256 after the copy.
        const gz = createReadStream(localPath).pipe(zlib.createGzip({ level: 1 }));
        await this.fileOp("copy to", remotePath, ["sh", "-c", 'gzip -dc > "$1"', "sh", remotePath], gz);
    }

    /** A libvirt URI that reaches this host's system daemon through our pinned, shared ssh connection. */
    async libvirtUri(driver = "qemu", pathPart = "/system"): Promise<string> {
        return libvirtSshUri(this.target, await this.ensureFiles(), driver, pathPart);
    }

    /** virsh on this machine, riding on the host's shared connection through libvirtUri(). */
    async virsh(args: readonly string[], opts: Omit<VirshOptions, "host"> = {}): Promise<string> {
        return virsh(await this.libvirtUri(), args, { ...opts, host: this.name });
    }

    async close(): Promise<void> {
        const files = this.files;
        this.files = undefined;
        this.opened = undefined;
        if (!files) return;
        await files.catch(() => undefined);
        const dir = this.dir;
        this.dir = undefined;
        // Stops the shared connection (none running is fine) and the agent, and deletes the files.
        await dir?.remove();
    }

    /** The local argv that runs `argv` on the host: ssh, our config, and one remote line built by the quote helper. */
    private async commandLine(argv: readonly string[], opts: Pick<RunOptions, "env" | "cwd" | "timeoutMs">): Promise<string[]> {
        if (argv.length === 0 || argv[0] === "" || argv[0].startsWith("-")) throw new Error(`host access: ${JSON.stringify(argv[0])} is not a command name`);
        const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
            if (!envNamePattern.test(k)) throw new Error(`host access: ${JSON.stringify(k)} is not an environment variable name`);
            return `${k}=${v}`;
        });
        // sshd passes the remote command to the login shell as one string; `env` sets variables without shell syntax.
        // The timeout is applied there too: killing our client would leave the command running on the host.
        const limit = opts.timeoutMs === undefined ? [] : ["timeout", "-k", "5", String(opts.timeoutMs / 1000)];
        const remote = shJoin([...limit, "env", "LC_ALL=C", ...env, ...argv]);
        const line = opts.cwd === undefined ? remote : `cd ${shJoin([opts.cwd])} && ${remote}`;
        const f = await this.ensureFiles();
        return ["ssh", "-F", f.configFile, "-T", "--", this.target.host, line];
    }

    /**
     * Lets the first command open the shared connection alone: commands that start
     * together would otherwise each open a connection of their own before the
     * control socket exists.
     */
    private async once<T>(work: () => Promise<T>): Promise<T> {
        if (this.opened) {
            await this.opened;
            return work();
        }
        const first = work();
        this.opened = first.then(
            () => undefined,
            () => {
                this.opened = undefined;
            },
        );
        return first;
    }

    private judge(argv: readonly string[], out: ProcessOutput, timeoutMs: number | undefined, nothrow: boolean): RunResult {
        // 255 is ssh's own failure unless the remote command chose it; ssh's words tell them apart.
        const end = endOf(out, timeoutMs);
        const failed = end.exitCode === 255 && end.timedOutAfterMs === undefined ? this.sshFailure(out.stderr) : undefined;
        // A command that never ran has no result to return, so this throws even with nothrow.
        if (failed) throw new HostCommandError(this.name, argv, 255, out.stdout, out.stderr, failed.failure, failed.reason);
        return judge(this.name, argv, out, timeoutMs, nothrow);
    }

    private sshFailure(stderr: string): { failure: HostCommandFailure; reason: string } | undefined {
        const t = this.target;
        const where = `${t.name} (${t.host} port ${t.port})`;
        const repin = `ssh-keyscan -p ${t.port} ${t.host} prints the host's keys; check them out of band, then put the line in the host's knownHosts`;
        if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(stderr)) {
            return {
                failure: "host-key-changed",
                reason: `the host key of ${where} is not the pinned one (ssh: REMOTE HOST IDENTIFICATION HAS CHANGED), so the kit refused to connect. If the host was reinstalled, re-pin it: ${repin}. If not, someone may be intercepting the connection`,
            };
        }
        if (/host key is known for|Host key verification failed/.test(stderr)) {
            return {
                failure: "host-key-unknown",
                reason: `no pinned host key matches ${where} (ssh: Host key verification failed), so the kit refused to connect. Pin it: ${repin}`,
            };
        }
        const words = stderr
            .split("\n")
            .map((l) => l.trim())
            .filter((l) => l !== "")
            .join("; ");
        if (/Permission denied \(/.test(stderr)) {
            return {
                failure: "unreachable",
                reason: `could not log in to ${where} as ${t.user} over SSH: ${words}. Check that the public half of ${t.privateKey === undefined ? "a key in your ssh-agent (ssh-add -L lists them)" : "the key"} is in ~${t.user}/.ssh/authorized_keys there`,
            };
        }
        if (
            /^ssh: |kex_exchange_identification|banner exchange|Connection (closed|reset|refused|timed out)|Could not resolve|No route to host|Network is unreachable|Control ?socket|mux_client/im.test(
                stderr,
            )
        ) {
            return { failure: "unreachable", reason: `could not reach ${where} over SSH: ${words}` };
        }
        return undefined;
    }

    /** A file operation: the command's failure becomes a HostFileError, a connection failure stays a HostCommandError. */
    private async fileOp(operation: string, file: string, argv: string[], input?: string | Readable): Promise<RunResult> {
        const timeoutMs = DEFAULT_TIMEOUT_MS;
        const line = await this.commandLine(argv, { timeoutMs });
        const out = await this.once(() => spawnArgv(line, { input, timeoutMs: timeoutMs + LOCAL_GRACE_MS, timeoutSignal: CLIENT_KILL }));
        const r = this.judge(argv, out, timeoutMs, true);
        if (r.exitCode !== 0) {
            throw new HostFileError(this.name, file, operation, missingPattern.test(r.stderr), r.stderr.trim() || `exit code ${r.exitCode}`);
        }
        return r;
    }

    private ensureFiles(): Promise<SshFiles> {
        if (!this.files) {
            // An exit or signal hook that removed the directory makes the next command start afresh.
            const dir = makeSshDir(this.target.host, () => {
                if (this.dir === dir) {
                    this.dir = undefined;
                    this.files = undefined;
                    this.opened = undefined;
                }
            });
            this.dir = dir;
            const files = writeSshFiles(this.target, dir);
            this.files = files;
            // A failure (no agent yet, say) is not kept: the next command tries again.
            files.catch(async () => {
                if (this.files !== files) return;
                this.files = undefined;
                this.dir = undefined;
                await dir.remove();
            });
        }
        return this.files;
    }
}

/** Writes stdin to the file; with a mode, the file is created private and then given that mode. */
function writeArgv(file: string, mode: number | undefined): string[] {
    if (mode === undefined) return ["sh", "-c", 'cat > "$1"', "sh", file];
    return ["sh", "-c", 'umask 077 && cat > "$1" && chmod "$2" "$1"', "sh", file, mode.toString(8)];
}

/** The private directory's files: the agent's socket, pinned known_hosts, ssh_config and the wrapper for libvirt. */
async function writeSshFiles(t: ResolvedSshTarget, dir: SshDir): Promise<SshFiles> {
    const f: SshFiles = {
        dir: dir.dir,
        agentSocket: dir.file("agent"),
        knownHostsFile: dir.file("known_hosts"),
        configFile: dir.file("config"),
        sshWrapper: dir.file("ssh"),
        controlPath: dir.file("cm"),
    };
    if (t.privateKey !== undefined) {
        await startPrivateAgent(dir, { ...t, privateKey: t.privateKey });
    } else {
        // The user's agent, checked first; a link in our directory keeps its path (which may hold any
        // character) out of the config, where ssh would expand %-tokens and ${...} in it.
        await fs.symlink(await userAgentSocket(t), f.agentSocket);
    }
    const q = (p: string) => `"${p}"`;
    await fs.writeFile(f.knownHostsFile, `${t.knownHostsLines.join("\n")}\n`, { mode: 0o600 });
    // Every option in one file, so our commands and libvirt's own ssh behave the same. -F also keeps the
    // user's and the system's ssh_config out: nothing on this machine can loosen these.
    const config = [
        "Host *",
        `  User ${t.user}`,
        `  Port ${t.port}`,
        // The key comes from the agent only: no key file is read, not even the user's ~/.ssh/id_*.
        "  IdentityFile none",
        `  IdentityAgent ${q(f.agentSocket)}`,
        // Every key of the agent is offered: the kit's own agent holds just this host's key.
        "  IdentitiesOnly no",
        "  ForwardAgent no",
        // No prompt can ever be answered: fail instead of waiting.
        "  BatchMode yes",
        // Pinned keys only: an unknown or changed host key is refused, never learned.
        "  StrictHostKeyChecking yes",
        `  UserKnownHostsFile ${q(f.knownHostsFile)}`,
        "  GlobalKnownHostsFile /dev/null",
        "  UpdateHostKeys no",
        `  ConnectTimeout ${t.connectTimeoutSec}`,
        "  ServerAliveInterval 15",
        "  ServerAliveCountMax 3",
        // One connection per host: the first command becomes the master, the others ride on it.
        "  ControlMaster auto",
        `  ControlPath ${q(f.controlPath)}`,
        `  ControlPersist ${t.controlPersistSec}`,
        "  LogLevel ERROR",
        "",
    ].join("\n");
    await fs.writeFile(f.configFile, config, { mode: 0o600 });
    await fs.writeFile(f.sshWrapper, `#!/bin/sh\nexec ssh -F ${shJoin([f.configFile])} "$@"\n`, { mode: 0o700 });
    return f;
}
