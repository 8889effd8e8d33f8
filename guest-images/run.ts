/**
 * Runs host commands for the image builder, through this machine's HostAccess.
 * A command that fails throws the kit's one command-failure error,
 * HostCommandError: what ran, its exit code and what it printed.
 */
import { hostAccess, HostCommandError } from "../components/host/access";

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
