/**
 * The one way the kit touches a host: run a command, read and write its files,
 * copy a file to it. Callers say *what* to do; the implementation (local or
 * SSH) says *how the host is reached*, so no caller ever asks "is this host
 * local?" (the Ansible split of modules and connection plugins).
 */
import type { Readable } from "node:stream";
import type { VirshOptions } from "./virsh";

/** How to run one command. */
export interface RunOptions {
    /** Text written to the command's standard input. @default none (stdin is closed) */
    input?: string;
    /** Kill the command after this many milliseconds. @default 120000: no host command the kit runs takes that long on a healthy host */
    timeoutMs?: number;
    /** Resolve with the result even when the command fails, instead of throwing HostCommandError. @default false */
    nothrow?: boolean;
    /** Extra environment variables for the command; LC_ALL=C is always set so output parses the same everywhere. @default {} */
    env?: Record<string, string>;
    /** Working directory on the host. @default the process's own (local) or the login directory (SSH) */
    cwd?: string;
}

/** What a command did. */
export interface RunResult {
    stdout: string;
    stderr: string;
    /** Exit code, or null when the command was killed (timeout, signal). */
    exitCode: number | null;
}

/** A command left running in the background (a load generator, a long capture). */
export interface RunningCommand {
    /** Settles when the command ends; rejects with HostCommandError unless it was started with `nothrow` or killed through `kill()`. */
    readonly result: Promise<RunResult>;
    /** Its standard output as raw bytes, for output that is not text. */
    readonly stdout: Readable;
    /** Ends the command (and, locally, its children). Resolves once it has gone; a command already gone is fine. */
    kill(signal?: NodeJS.Signals): Promise<void>;
}

/** What `stat` reports about a path (following symlinks). */
export interface FileStat {
    uid: number;
    gid: number;
    size: number;
    isFile: boolean;
    isDirectory: boolean;
}

/** One host, reached locally or over SSH. */
export interface HostAccess {
    /** Host name for messages, e.g. "local" or "lab-1". */
    readonly name: string;
    /** True when this is the machine the kit runs on (files are this process's files). */
    readonly local: boolean;
    /** Runs argv (never through a shell on our side; values stay values). Throws HostCommandError on a non-zero exit unless `nothrow`. */
    run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
    /** Starts argv and returns at once; the caller kills it or awaits `result`. */
    start(argv: readonly string[], opts?: Omit<RunOptions, "timeoutMs">): RunningCommand;
    /** The file's text. Throws HostFileError (`.missing` true when it does not exist). */
    readFile(path: string): Promise<string>;
    /** The file's text, or undefined when it does not exist (other failures still throw). */
    tryReadFile(path: string): Promise<string | undefined>;
    /** Writes (creates or truncates) the file; also how /sys and /proc knobs are set. */
    writeFile(path: string, text: string, opts?: { mode?: number }): Promise<void>;
    /** True when the path exists (a dangling symlink does not). */
    exists(path: string): Promise<boolean>;
    /** Removes a file; a path that is already absent is fine. */
    remove(path: string): Promise<void>;
    /** Creates the directory and its parents (`mkdir -p`). */
    mkdir(path: string): Promise<void>;
    /** Names in the directory (no "." or ".."), sorted. */
    listDir(path: string): Promise<string[]>;
    chown(path: string, uid: number, gid: number): Promise<void>;
    /** Owner, size and type of the path, or undefined when it does not exist. */
    stat(path: string): Promise<FileStat | undefined>;
    /** Copies a file of this machine to the host (byte for byte). */
    copyTo(localPath: string, remotePath: string): Promise<void>;
    /**
     * The libvirt URI that reaches the host's system daemon: this machine's own
     * (qemu:///system); for an SSH host, qemu+ssh through the host's pinned,
     * shared connection (never the user's ssh config). Valid until `close()`.
     */
    libvirtUri(): Promise<string>;
    /** Runs `virsh -c <libvirtUri()> <args...>` and resolves with its output; throws HostCommandError with the URI. */
    virsh(args: readonly string[], opts?: Omit<VirshOptions, "host">): Promise<string>;
    /** Releases the connection and temporary files. Safe to call twice; a later call opens again. */
    close(): Promise<void>;
}
