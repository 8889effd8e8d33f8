/** Runs host commands for the image builder, through this machine's HostAccess, and turns failures into readable errors. */
import { hostAccess, HostCommandError } from "../components/host/access";

/** A command that failed: what ran, its exit code and what it printed. */
export class CommandError extends HostCommandError {
    constructor(
        readonly command: string[],
        exitCode: number | null,
        stdout: string,
        stderr: string,
        reason?: string,
    ) {
        super("local", command, exitCode, stdout, stderr, exitCode === null ? "signal" : "exit", reason ?? `exit code ${exitCode ?? "signal"}`);
        const tail = (stderr.trim() || stdout.trim()).split("\n").slice(-15).join("\n");
        this.message = `command failed (${reason ?? `exit ${exitCode ?? "signal"}`}): ${command.join(" ")}\n${tail}`;
        this.name = "CommandError";
    }
}

/** Options for run(). */
export interface RunOptions {
    /** Working directory. @default - the current one */
    cwd?: string;
    /** Extra environment variables on top of process.env. @default {} */
    env?: Record<string, string>;
    /** Return stdout as raw bytes instead of text. @default false */
    binary?: boolean;
}

/** Image builds run for minutes (apt-get, decompressing modules); a stuck one still ends. */
const TIMEOUT_MS = 30 * 60_000;

/** Runs a command without a shell reading its arguments and resolves with its stdout. */
export function run(cmd: string, args: string[], opts?: RunOptions & { binary?: false }): Promise<string>;
export function run(cmd: string, args: string[], opts: RunOptions & { binary: true }): Promise<Buffer>;
export async function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string | Buffer> {
    const argv = [cmd, ...args];
    const host = hostAccess();
    try {
        if (!opts.binary) return (await host.run(argv, { cwd: opts.cwd, env: opts.env, timeoutMs: TIMEOUT_MS })).stdout;
        // Text output is decoded as UTF-8; bytes (a decompressed module) are read from the raw stream.
        const started = host.start(argv, { cwd: opts.cwd, env: opts.env });
        const chunks: Buffer[] = [];
        started.stdout.on("data", (b: Buffer) => chunks.push(b));
        await started.result;
        return Buffer.concat(chunks);
    } catch (err) {
        if (!(err instanceof HostCommandError)) throw err;
        if (err.failure === "not-installed") throw new Error(`command not found: ${cmd} (needed by the guest image builder)`);
        throw new CommandError(argv, err.exitCode, err.stdout, err.stderr, err.failure === "exit" ? undefined : err.reason);
    }
}
