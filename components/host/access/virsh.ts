/**
 * Runs libvirt's own client, virsh, against any libvirt URI (qemu:///system,
 * qemu+ssh://host/system, ...). Every libvirt object the kit manages goes
 * through here, so a failure always reads the same way: the command, the URI,
 * the exit code and what libvirt said.
 */
import { hostAccess, HostCommandError } from ".";

/** A virsh command that failed: a HostCommandError that also names the libvirt URI it talked to. */
export class VirshError extends HostCommandError {
    constructor(
        /** The libvirt URI the command talked to. */
        readonly uri: string,
        /** virsh arguments after `-c <uri>`. */
        readonly args: readonly string[],
        /** Exit code, or null when virsh was killed (timeout) or could not start. */
        exitCode: number | null,
        stdout: string,
        stderr: string,
        /** Why, in words, when it is more than an exit code (timed out, not installed). */
        cause?: string,
        failure: HostCommandError["failure"] = exitCode === null ? "signal" : "exit",
    ) {
        super(
            "local",
            ["virsh", "-q", "-c", uri, ...args],
            exitCode,
            stdout,
            stderr,
            failure,
            cause ?? (exitCode === null ? "killed" : `exit code ${exitCode}`),
        );
        this.message =
            `virsh -c ${uri} ${args.join(" ")} failed` +
            (exitCode === null ? ` (${cause ?? "killed"})` : ` with exit code ${exitCode}${cause ? ` (${cause})` : ""}`) +
            `: ${(stderr || stdout).trim() || "no output"}`;
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

/**
 * Runs `virsh -c <uri> <args...>` on this machine and resolves with its standard output.
 * virsh itself reaches remote libvirts (qemu+ssh://), so it always runs here.
 */
export async function virsh(uri: string, args: readonly string[], opts: VirshOptions = {}): Promise<string> {
    try {
        const out = await hostAccess().run(["virsh", "-q", "-c", uri, ...args], { input: opts.input, timeoutMs: opts.timeoutMs ?? 120_000 });
        return out.stdout;
    } catch (err) {
        if (!(err instanceof HostCommandError)) throw err;
        throw new VirshError(uri, args, err.exitCode, err.stdout, err.stderr, err.failure === "exit" ? undefined : err.reason, err.failure);
    }
}
