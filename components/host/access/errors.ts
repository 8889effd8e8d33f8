/**
 * The errors of host access. A command that failed is a HostCommandError, the
 * kit's one command-failure error: like zx's ProcessOutput it carries what a
 * person needs to act (host, command, exit code, both streams, and the
 * libvirt URI for virsh), and like zx's error.ts it turns exit codes into
 * words. A host description that must not be used is bad input, reported as
 * the kit's problem list (ProblemListError).
 */
import { Fail } from "zx/core";
import { ProblemListError } from "../../spec/problems";
import { displayArgv } from "./quote";

/** What went wrong, for callers that branch on it rather than on message text. */
export type HostCommandFailure =
    | "exit" // the command ran and exited non-zero
    | "not-installed" // exit 127: the shell or env could not find the program
    | "not-executable" // exit 126
    | "timeout" // killed by us after timeoutMs
    | "signal" // killed by a signal from elsewhere
    | "not-started" // the process could not be started at all (e.g. its working directory is missing)
    | "unreachable" // ssh could not connect or log in
    | "no-agent" // the host logs in with the user's ssh-agent, and none answers (or it holds no key)
    | "host-key-changed" // the host's key is not the pinned one
    | "host-key-unknown"; // no key is pinned for the host

/**
 * A command that failed, or a host that could not be reached to run it:
 * host, argv, exit code, stdout and stderr, the failure's kind and the
 * reason in words. Every command the kit runs (on a host, virsh, the image
 * builder's tools, the Pulumi CLI) fails with this one class.
 */
export class HostCommandError extends Error {
    constructor(
        /** Host name as the HostAccess calls it. */
        readonly host: string,
        /** The command as asked for (without the ssh wrapping). */
        readonly argv: readonly string[],
        /** Exit code, or null when the command was killed. */
        readonly exitCode: number | null,
        readonly stdout: string,
        readonly stderr: string,
        readonly failure: HostCommandFailure,
        /** The failure in words, e.g. "virsh is not installed on lab-1". */
        readonly reason: string,
        extra: {
            /** The libvirt URI a virsh command talked to; unset for other commands. */
            uri?: string;
            /** What to do about it, when the caller knows (a lab step, a guest image that lacks a program). */
            fix?: string;
        } = {},
    ) {
        const said = tail(stderr) || tail(stdout);
        const { uri, fix } = extra;
        super(
            (uri === undefined
                ? `${shownArgv(argv)} on ${host} failed: ${reason}${said && !reason.includes(said) ? `: ${said}` : ""}`
                : virshMessage(uri, argv, exitCode, reason, said)) + (fix === undefined ? "" : `\n  fix: ${fix}`),
        );
        this.name = "HostCommandError";
        this.uri = uri;
        this.fix = fix;
    }

    /** The libvirt URI a virsh command talked to; unset for other commands. */
    readonly uri?: string;
    /** What to do about it, when the caller knows. */
    readonly fix?: string;

    /** The same failure with what to do about it (and, when given, the reason in the caller's words). */
    withFix(fix: string, reason = this.reason): HostCommandError {
        return new HostCommandError(this.host, this.argv, this.exitCode, this.stdout, this.stderr, this.failure, reason, { uri: this.uri, fix });
    }
}

/** `virsh -c <uri> <args> failed with exit code 1: <libvirt's words>`: the URI in full (it says which host), the options virsh always gets left out. */
function virshMessage(uri: string, argv: readonly string[], exitCode: number | null, reason: string, said: string): string {
    const args = argv.slice(argv.indexOf(uri) + 1);
    const how = exitCode === null || !reason.startsWith("exit code") ? ` (${reason})` : ` with exit code ${exitCode}`;
    return `virsh -c ${uri} ${args.join(" ")} failed${how}: ${said || "no output"}`;
}

/** argv for a message: a script word (several lines) stands as `<N-line script>`; `.argv` keeps it whole. */
function shownArgv(argv: readonly string[]): string {
    return displayArgv(argv.map((w) => (w.includes("\n") ? `<${w.split("\n").length}-line script>` : w)));
}

/** A file operation on a host that failed. */
export class HostFileError extends Error {
    constructor(
        readonly host: string,
        readonly path: string,
        /** What was being done: "read", "write", "list", ... */
        readonly operation: string,
        /** True when the path (or a parent) does not exist. */
        readonly missing: boolean,
        /** The system's words (errno text or the remote tool's stderr). */
        readonly detail: string,
    ) {
        super(missing ? `cannot ${operation} ${path} on ${host}: it does not exist` : `cannot ${operation} ${path} on ${host}: ${detail}`);
        this.name = "HostFileError";
    }
}

/**
 * A host description that must not be used (unsafe names, no pinned key),
 * refused before anything runs: one problem naming the field, as every bad
 * input is reported. `shown` stands for a value that must not be printed.
 */
export function hostTargetProblem(field: string, value: string, reason: string, fix: string, shown?: string): ProblemListError {
    return new ProblemListError([{ path: field, value, reason, fix, ...(shown !== undefined ? { shown } : {}) }], "host access");
}

/**
 * The HostCommandError of a command that was run some other way (a child
 * process of its own, the Pulumi CLI) and ended badly: its exit code (null:
 * killed by `signal`) and what it printed, in the same words as any other.
 */
export function commandFailure(
    host: string,
    argv: readonly string[],
    ended: { exitCode: number | null; signal?: NodeJS.Signals | null; stdout?: string; stderr?: string },
): HostCommandError {
    const { failure, reason } = describeEnd(host, argv, { exitCode: ended.exitCode, signal: ended.signal ?? null });
    return new HostCommandError(host, argv, ended.exitCode, ended.stdout ?? "", ended.stderr ?? "", failure, reason);
}

/** How a process ended, as the runner saw it. */
export interface Ended {
    exitCode: number | null;
    signal: NodeJS.Signals | null;
    timedOutAfterMs?: number;
    /** Why the process could not start, when it could not. */
    spawnError?: string;
}

/** Words for an ending that is not about the connection: exit codes as zx's error.ts reads them. */
export function describeEnd(host: string, argv: readonly string[], end: Ended): { failure: HostCommandFailure; reason: string } {
    const program = argv[0] ?? "the command";
    if (end.timedOutAfterMs !== undefined) return { failure: "timeout", reason: `timed out after ${end.timedOutAfterMs} ms and was killed` };
    if (end.spawnError !== undefined) return { failure: "not-started", reason: `could not start on ${host}: ${end.spawnError}` };
    if (end.exitCode === null) return { failure: "signal", reason: `was killed by ${end.signal ?? "a signal"}` };
    if (end.exitCode === 127) return { failure: "not-installed", reason: `${program} is not installed on ${host} (exit code 127, command not found)` };
    if (end.exitCode === 126) return { failure: "not-executable", reason: `${program} cannot be executed on ${host} (exit code 126)` };
    const info = Fail.getExitCodeInfo(end.exitCode);
    return { failure: "exit", reason: `exit code ${end.exitCode}${info && end.exitCode > 128 ? ` (${info})` : ""}` };
}

/** The last lines of a stream, enough to read the cause without flooding a log. */
function tail(text: string): string {
    return text.trim().split("\n").slice(-15).join("\n").trim();
}
