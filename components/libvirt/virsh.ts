/**
 * Runs libvirt's own client, virsh, against any libvirt URI (qemu:///system,
 * qemu+ssh://host/system, ...). Every libvirt object the kit manages goes
 * through here, so a failure always reads the same way: the command, the URI,
 * the exit code and what libvirt said.
 */
import { execFile } from "node:child_process";

/** A virsh command that exited non-zero. */
export class VirshError extends Error {
    constructor(
        /** The libvirt URI the command talked to. */
        readonly uri: string,
        /** virsh arguments after `-c <uri>`. */
        readonly args: readonly string[],
        /** Exit code, or null when virsh was killed (timeout) or could not start. */
        readonly exitCode: number | null,
        readonly stdout: string,
        readonly stderr: string,
        cause?: string,
    ) {
        super(
            `virsh -c ${uri} ${args.join(" ")} failed` +
                (exitCode === null ? ` (${cause ?? "killed"})` : ` with exit code ${exitCode}`) +
                `: ${(stderr || stdout).trim() || "no output"}`,
        );
        this.name = "VirshError";
    }

    /** libvirt's error text for "domain not found", in all versions we support. */
    get isNoDomain(): boolean {
        return /failed to get domain|Domain not found|no domain with matching/i.test(this.stderr);
    }

    /** libvirt's error text for an operation on a domain that is not running. */
    get isNotRunning(): boolean {
        return /domain is not running|not running/i.test(this.stderr);
    }
}

export interface VirshOptions {
    /** Kill virsh after this many milliseconds. @default 120000: a define or destroy never takes that long on a healthy host. */
    timeoutMs?: number;
    /** Text written to virsh's standard input. */
    input?: string;
}

/** Runs `virsh -c <uri> <args...>` and resolves with its standard output. */
export function virsh(uri: string, args: readonly string[], opts: VirshOptions = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            "virsh",
            ["-q", "-c", uri, ...args],
            { timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: "C" } },
            (error, stdout, stderr) => {
                if (!error) {
                    resolve(stdout);
                    return;
                }
                const code =
                    typeof (error as NodeJS.ErrnoException & { code?: unknown }).code === "number" ? (error as unknown as { code: number }).code : null;
                const cause = error.killed ? `timed out after ${opts.timeoutMs ?? 120_000} ms` : error.message;
                reject(new VirshError(uri, args, code, stdout, stderr, cause));
            },
        );
        if (opts.input !== undefined) {
            child.stdin?.end(opts.input);
        }
    });
}

/** True when the URI names this machine's libvirt, so host files (logs, /dev/shm) are local files. */
export function isLocalUri(uri: string): boolean {
    const match = /^[a-z0-9+]+:\/\/([^/]*)\//i.exec(uri);
    if (!match) {
        return false;
    }
    const transportAndHost = uri.split("://")[0];
    return match[1] === "" && !transportAndHost.includes("+ssh") && !transportAndHost.includes("+tcp") && !transportAndHost.includes("+tls");
}
