/**
 * The one place a process is started on this machine, through zx's `$`: it
 * quotes each argv word for its shell (so values stay values), keeps stdout
 * and stderr, applies the timeout and kills the whole process tree.
 * Both HostAccess implementations start their processes here; the SSH one
 * starts `ssh`, and its ssh-agent through `startTied`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { $, type ProcessOutput, type ProcessPromise } from "zx/core";
import { describeEnd, HostCommandError, type Ended } from "./errors";
import type { RunResult } from "./types";

/** @default for RunOptions.timeoutMs */
export const DEFAULT_TIMEOUT_MS = 120_000;

export interface SpawnOptions {
    /** Standard input: text, bytes or a stream (a file being copied). */
    input?: string | Buffer | Readable;
    timeoutMs?: number;
    env?: Record<string, string>;
    cwd?: string;
    /** Keep stdin as an open pipe the caller ends (pp.stdin.end()); for commands stopped by closing their input. @default false */
    openStdin?: boolean;
    /** Signal for a timeout. @default "SIGTERM" */
    timeoutSignal?: NodeJS.Signals;
}

/** Starts argv; the promise never rejects on exit status (callers judge the result). */
export function spawnArgv(argv: readonly string[], opts: SpawnOptions = {}): ProcessPromise {
    // The kit's own callers build argv: an empty one is a bug of the kit (plain Error), as are the argument checks of SshHostAccess.
    if (argv.length === 0 || argv[0] === "") throw new Error("host access: an empty command cannot run");
    // zx leaves stdin open when there is no input; a command that reads it (cat, ssh) would then wait forever.
    const noInput = (opts.input === undefined || opts.input === "") && !opts.openStdin;
    // zx records where each command was started from (a new Error's stack), and the SDK's source-map-support
    // maps every frame of that stack through the kit's bundle's source map: the first command of a process
    // parsed the whole map (0.2-0.3 CPU s in the provider plugin and again in the program), and each one after
    // paid for its frames. The kit never reads that location (judge() builds its errors from argv and output),
    // so the stack is not captured.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return start(argv, opts, noInput);
    } finally {
        Error.stackTraceLimit = stackTraceLimit;
    }
}

function start(argv: readonly string[], opts: SpawnOptions, noInput: boolean): ProcessPromise {
    return $({
        stdio: noInput ? ["ignore", "pipe", "pipe"] : "pipe",
        nothrow: true,
        quiet: true,
        verbose: false,
        timeout: opts.timeoutMs,
        timeoutSignal: opts.timeoutSignal ?? "SIGTERM",
        input: noInput ? undefined : opts.input,
        cwd: opts.cwd,
        // LC_ALL=C: the kit parses tool output and error text, which must not depend on the caller's locale.
        env: { ...process.env, LC_ALL: "C", ...opts.env },
    })`${[...argv]}`;
}

/** How the process ended, with a timeout told apart from other kills. */
export function endOf(out: ProcessOutput, timeoutMs: number | undefined): Ended {
    // By duration, not by signal: ssh catches the SIGTERM and exits 255 itself.
    const timedOut = out.exitCode !== 0 && timeoutMs !== undefined && out.duration >= timeoutMs;
    const cause = out.cause as NodeJS.ErrnoException | null;
    // A process that never started reports the spawn errno as a negative code.
    const notStarted = cause !== null && cause !== undefined && (out.exitCode === null || out.exitCode < 0) && !out.signal;
    return {
        exitCode: notStarted ? null : out.exitCode,
        signal: out.signal,
        ...(timedOut ? { timedOutAfterMs: timeoutMs } : {}),
        ...(notStarted ? { spawnError: cause.message } : {}),
    };
}

/** The result, or the HostCommandError a failed run throws. */
export function judge(host: string, argv: readonly string[], out: ProcessOutput, timeoutMs: number | undefined, nothrow: boolean): RunResult {
    const end = endOf(out, timeoutMs);
    const result = { stdout: out.stdout, stderr: out.stderr, exitCode: end.exitCode };
    if (end.exitCode === 0 || nothrow) return result;
    const { failure, reason } = describeEnd(host, argv, end);
    throw new HostCommandError(host, argv, end.exitCode, out.stdout, out.stderr, failure, reason);
}

/** A process started by `startTied`. */
export interface TiedProcess {
    child: ChildProcess;
    /** The first line it printed. */
    firstLine: string;
    /** Closes its stdin: it sees end-of-file, as when this process ends. */
    release(): void;
}

/**
 * Starts argv as a helper that lives only as long as this process: its stdin
 * is a pipe that only this process holds (Node.js opens pipes close-on-exec,
 * so no other child inherits it), so the helper sees end-of-file when this
 * process ends, even by SIGKILL, and can end with it. It does not keep this
 * process's event loop alive. Resolves with its first line of output; rejects
 * with what it said when it ends or stays silent for `timeoutMs` first.
 * zx is not used here because zx keeps every process it starts referenced.
 */
export function startTied(argv: readonly string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<TiedProcess> {
    if (argv.length === 0 || argv[0] === "") throw new Error("host access: an empty command cannot run");
    // A session of its own: a Ctrl-C at the terminal goes to this process, which decides; it does not end the helper behind its back.
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], detached: true, env: { ...process.env, LC_ALL: "C", ...opts.env } });
    return new Promise((resolve, reject) => {
        let out = "";
        let err = "";
        const fail = (why: string) => {
            clearTimeout(timer);
            child.kill("SIGKILL");
            reject(commandFailureOf(argv, child, out, err, why));
        };
        const timer = setTimeout(() => fail(`printed nothing within ${opts.timeoutMs ?? 10_000} ms`), opts.timeoutMs ?? 10_000);
        child.on("error", (e) => fail(`could not start: ${e.message}`));
        child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
        child.on("exit", () => fail("ended before it was ready"));
        child.stdout.on("data", (d: Buffer) => {
            out += d.toString("utf8");
            const nl = out.indexOf("\n");
            if (nl < 0) return;
            clearTimeout(timer);
            child.removeAllListeners("exit");
            child.removeAllListeners("error");
            child.on("error", () => undefined);
            // From here on it is left to itself: nothing of it holds the event loop.
            child.stdout.destroy();
            child.stderr.destroy();
            (child.stdin as unknown as { unref?: () => void }).unref?.();
            child.unref();
            resolve({ child, firstLine: out.slice(0, nl), release: () => child.stdin.end() });
        });
    });
}

function commandFailureOf(argv: readonly string[], child: ChildProcess, stdout: string, stderr: string, why: string): HostCommandError {
    const started = child.pid !== undefined;
    return new HostCommandError("local", argv, started ? child.exitCode : null, stdout, stderr, started ? "exit" : "not-started", why);
}
