/** Runs host commands for the image builder and turns failures into readable errors. */
import { execFile } from "node:child_process";

/** A command that failed: what ran, its exit code and what it printed. */
export class CommandError extends Error {
    constructor(
        readonly command: string[],
        readonly exitCode: number | null,
        readonly stdout: string,
        readonly stderr: string,
    ) {
        const tail = (stderr.trim() || stdout.trim()).split("\n").slice(-15).join("\n");
        super(`command failed (exit ${exitCode ?? "signal"}): ${command.join(" ")}\n${tail}`);
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

/** Runs a command without a shell and resolves with its stdout. */
export function run(cmd: string, args: string[], opts?: RunOptions & { binary?: false }): Promise<string>;
export function run(cmd: string, args: string[], opts: RunOptions & { binary: true }): Promise<Buffer>;
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string | Buffer> {
    return new Promise((resolve, reject) => {
        execFile(
            cmd,
            args,
            {
                cwd: opts.cwd,
                env: { ...process.env, LC_ALL: "C", ...opts.env },
                encoding: opts.binary ? "buffer" : "utf8",
                maxBuffer: 512 * 1024 * 1024,
            },
            (err, stdout, stderr) => {
                if (err) {
                    const code = typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === "number" ? (err as { code: number }).code : null;
                    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
                        reject(new Error(`command not found: ${cmd} (needed by the guest image builder)`));
                        return;
                    }
                    reject(new CommandError([cmd, ...args], code, String(stdout), String(stderr)));
                    return;
                }
                resolve(stdout);
            },
        );
    });
}
