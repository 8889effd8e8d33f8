/**
 * The private directories ssh works in, one per SSH host per process
 * (`/tmp/nfvkit-ssh-*`, mode 0700): the pinned known_hosts, the ssh_config,
 * the wrapper libvirt starts, the control socket and the agent's socket. No
 * private key is ever written there: the key lives in an ssh-agent's memory
 * (sshAgent.ts).
 *
 * Each directory records the process that owns it (pid and start time, so a
 * recycled pid is not taken for the owner) and its private agent. Whatever a
 * process made is removed when it ends: by close(), and by the process's
 * 'exit' hook and SIGINT/SIGTERM/SIGHUP handlers. A process killed with
 * SIGKILL runs no hook: the next process that opens an SSH host sweeps the
 * directories whose owner is gone, stops their shared connection and kills
 * their agent.
 *
 * Module-level state is allowed here (as in factory.ts): it is this process's
 * own list of what it must remove, outside the provider modules.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The name every directory starts with, in os.tmpdir(). */
export const SSH_DIR_PREFIX = "nfvkit-ssh-";
/** The owner record in each directory. */
const OWNER_FILE = "owner.json";
/**
 * A directory without an owner record is one being made right now (the record
 * follows mkdtemp at once), or one an older kit left (it held the key file
 * `id`), whose owner cannot be known: a run of that kit may still be using it
 * between two commands. Such a directory is swept only when it is a day old and
 * no running process names it.
 */
const UNRECORDED_GRACE_MS = 24 * 3600_000;

/** What a directory's owner record holds. */
export interface SshDirOwner {
    pid: number;
    /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22): a pid alone may be reused. */
    pidStart: number;
    /** The private ssh-agent serving this directory's socket, once started. */
    agent?: { pid: number; start: number };
}

/** One live directory of this process. */
export interface SshDir {
    dir: string;
    /** Where the directory's files go. */
    file(name: "known_hosts" | "config" | "ssh" | "cm" | "agent"): string;
    /** Records the private agent, so a sweep after a SIGKILL can kill it. */
    recordAgent(pid: number, stop: () => void): void;
    /** Stops the shared connection and the agent and removes the directory. Idempotent. */
    remove(): Promise<void>;
}

interface Live {
    dir: string;
    host: string;
    agent?: { pid: number; start: number };
    stopAgent?: () => void;
    /** Told when the directory was removed by an exit or signal hook, so the access makes a new one if the process goes on. */
    onRemoved: () => void;
}

const live = new Map<string, Live>();
let hooked = false;
let swept = false;

/**
 * Makes a private directory for one host's ssh files, owned by this process.
 * The first call in a process first sweeps what dead processes left.
 * `host` is the address ssh is given (for `ssh -O exit`); `onRemoved` is called
 * when an exit or signal hook removed the directory.
 */
export function makeSshDir(host: string, onRemoved: () => void): SshDir {
    if (!swept) {
        swept = true;
        sweepStaleSshDirs();
    }
    hookProcessEnd();
    // mkdtemp makes the directory 0700, so the sockets in it are ours alone.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), SSH_DIR_PREFIX));
    const owner: SshDirOwner = { pid: process.pid, pidStart: procStat(process.pid)?.start ?? 0 };
    writeOwner(dir, owner);
    const entry: Live = { dir, host, onRemoved };
    live.set(dir, entry);
    return {
        dir,
        // Short names: a unix socket path must fit in 108 bytes.
        file: (name) => path.join(dir, name),
        recordAgent(pid, stop) {
            entry.agent = { pid, start: procStat(pid)?.start ?? 0 };
            entry.stopAgent = stop;
            writeOwner(dir, { ...owner, agent: entry.agent });
        },
        async remove() {
            if (!live.delete(dir)) return;
            removeNow(entry);
        },
    };
}

/** Stops the shared connection and the agent, removes the files. Synchronous: it also runs in the 'exit' hook. */
function removeNow(entry: Live): void {
    stopMaster(entry.dir, entry.host);
    try {
        entry.stopAgent?.();
    } catch {
        // Already gone.
    }
    if (entry.agent && alive(entry.agent.pid, entry.agent.start)) killQuietly(entry.agent.pid, "SIGTERM");
    fs.rmSync(entry.dir, { recursive: true, force: true });
}

/** Ends the ControlPersist master of a directory, if one runs: it would otherwise live on for ControlPersist seconds. */
function stopMaster(dir: string, host: string): void {
    const config = path.join(dir, "config");
    if (!fs.existsSync(path.join(dir, "cm")) || !fs.existsSync(config)) return;
    try {
        // The config names the control socket by its full path, so any host word reaches that master.
        execFileSync("ssh", ["-F", config, "-O", "exit", "--", host], { stdio: "ignore", timeout: 5000 });
    } catch {
        // No master answering is fine: there is nothing to stop.
    }
}

/** Removes every live directory of this process now (the exit and signal hooks). */
function removeAll(): void {
    for (const entry of [...live.values()]) {
        live.delete(entry.dir);
        try {
            removeNow(entry);
        } catch {
            // A hook must go on with the other directories.
        }
        entry.onRemoved();
    }
}

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/**
 * 'exit' covers a normal end, process.exit() and an uncaught error. A signal
 * ends a Node.js process without 'exit', so the signals are caught too; when
 * nobody else listens for one, the process then ends by it as it would have.
 */
function hookProcessEnd(): void {
    if (hooked) return;
    hooked = true;
    process.on("exit", removeAll);
    for (const signal of SIGNALS) {
        const onSignal = () => {
            removeAll();
            if (process.listenerCount(signal) === 1) {
                process.removeListener(signal, onSignal);
                process.kill(process.pid, signal);
            }
        };
        process.on(signal, onSignal);
    }
}

/** What a sweep did. */
export interface SweepResult {
    /** Directories removed. */
    removed: string[];
    /** Agents of dead owners that were still running and were killed. */
    agentsKilled: number[];
}

/**
 * Removes the ssh directories of processes that are gone (killed with SIGKILL,
 * or a machine that crashed): stops their shared connection, kills their
 * agent, deletes the files. Directories of live processes, of other users and
 * ones being made are left alone. Runs once per process, before its first
 * directory is made; exported for tests.
 */
export function sweepStaleSshDirs(tmp = os.tmpdir()): SweepResult {
    const result: SweepResult = { removed: [], agentsKilled: [] };
    let names: string[];
    try {
        names = fs.readdirSync(tmp).filter((n) => n.startsWith(SSH_DIR_PREFIX));
    } catch {
        return result;
    }
    const uid = process.getuid?.();
    for (const name of names) {
        const dir = path.join(tmp, name);
        if (live.has(dir)) continue;
        let st: fs.Stats;
        try {
            st = fs.lstatSync(dir);
        } catch {
            continue;
        }
        if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
        const owner = readSshDirOwner(dir);
        if (owner) {
            if (alive(owner.pid, owner.pidStart)) continue;
        } else if (Date.now() - st.mtimeMs < UNRECORDED_GRACE_MS || processesNaming(dir)) {
            continue;
        }
        stopMaster(dir, "nfvkit-swept");
        if (owner?.agent && alive(owner.agent.pid, owner.agent.start) && isAgentOf(owner.agent.pid, dir)) {
            killQuietly(owner.agent.pid, "SIGTERM");
            result.agentsKilled.push(owner.agent.pid);
        }
        fs.rmSync(dir, { recursive: true, force: true });
        result.removed.push(dir);
    }
    return result;
}

function writeOwner(dir: string, owner: SshDirOwner): void {
    // Written whole and renamed into place: a sweep never reads half a record.
    const tmp = path.join(dir, `${OWNER_FILE}.new`);
    fs.writeFileSync(tmp, JSON.stringify(owner), { mode: 0o600 });
    fs.renameSync(tmp, path.join(dir, OWNER_FILE));
}

/** The owner record of an ssh directory, or undefined while it has none (being made) or it is unreadable. */
export function readSshDirOwner(dir: string): SshDirOwner | undefined {
    try {
        const o = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8")) as SshDirOwner;
        return Number.isInteger(o.pid) && Number.isInteger(o.pidStart) ? o : undefined;
    } catch {
        return undefined;
    }
}

/** A process's state letter and start time (clock ticks since boot), or undefined when there is no such process. */
function procStat(pid: number): { state: string; start: number } | undefined {
    const stat = safeRead(`/proc/${pid}/stat`);
    if (stat === "") return undefined;
    // The command name (field 2) may hold spaces and parentheses: count the fields after its last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], start: Number(fields[19]) };
}

/** When a running process started (clock ticks since boot), to tell it later from another that reuses its pid; 0 when it is gone. */
export function processStart(pid: number): number {
    return procStat(pid)?.start ?? 0;
}

/** True when the process runs and is the one that started at `start` (0: unknown, the pid alone decides). */
export function alive(pid: number, start: number): boolean {
    const now = procStat(pid);
    // A zombie has exited; only its parent has not collected it yet.
    if (now === undefined || now.state === "Z" || now.state === "X") return false;
    return start === 0 || now.start === start;
}

/** The process is an ssh-agent bound to a socket in `dir`: the sweep kills nothing else. */
function isAgentOf(pid: number, dir: string): boolean {
    const argv = safeRead(`/proc/${pid}/cmdline`).split("\0");
    return path.basename(argv[0] ?? "") === "ssh-agent" && argv.some((a) => a.startsWith(`${dir}/`));
}

/** True when a running process has the directory in its command line (an ssh client or master of an older kit). */
function processesNaming(dir: string): boolean {
    for (const entry of safeReadDir("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        if (safeRead(`/proc/${entry}/cmdline`).includes(dir)) return true;
    }
    return false;
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(pid, signal);
    } catch {
        // Already gone.
    }
}

function safeRead(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return "";
    }
}

function safeReadDir(dir: string): string[] {
    try {
        return fs.readdirSync(dir);
    } catch {
        return [];
    }
}
