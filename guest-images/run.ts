/**
 * Runs host commands for the image builder, through this machine's HostAccess.
 * A command that fails throws the kit's one command-failure error,
 * HostCommandError: what ran, its exit code and what it printed.
 */
import { spawn } from "node:child_process";
import { commandFailure, hostAccess, HostCommandError } from "../components/host/access";

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
        // A missing tool says who needs it.
        if (err instanceof HostCommandError && err.failure === "not-installed") {
            throw err.withFix(`install ${err.argv[0]} on this machine (sudo bash tools/setup-host.sh): the guest image builder needs it`);
        }
        throw err;
    }
}

/**
 * Pipes bytes through a command of this machine (gzip, xz) and resolves with what it wrote. HostAccess takes text
 * for stdin, and the builder's inputs (a cpio archive, a kernel payload) are binary, hence a process of its own.
 */
export function filterBytes(cmd: string, args: string[], input: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        let err = "";
        child.stdout.on("data", (b: Buffer) => out.push(b));
        child.stderr.on("data", (b: Buffer) => (err += b.toString()));
        child.on("error", reject);
        child.on("close", (code) =>
            code === 0 ? resolve(Buffer.concat(out)) : reject(commandFailure("local", [cmd, ...args], { exitCode: code, stderr: err })),
        );
        // A command that exits without reading all of its input (an error) is reported by its exit code, not EPIPE.
        child.stdin.on("error", () => undefined);
        child.stdin.end(input);
    });
}
