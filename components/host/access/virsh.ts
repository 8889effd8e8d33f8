/**
 * Runs libvirt's own client, virsh, against a libvirt URI. Every libvirt
 * object the kit manages goes through here, so a failure always reads the
 * same way: a HostCommandError with the command, the URI, the exit code and
 * what libvirt said. virsh always runs on this machine: for a host reached
 * over SSH, the URI its HostAccess gives (`libvirtUri()`) makes virsh ride on
 * that host's pinned, shared connection. Callers that hold a HostAccess call
 * its `virsh()`; the URI form is for code that was handed a URI.
 */
import { HostCommandError, hostTargetProblem } from "./errors";
import { unpinnedVirshUri } from "./libvirtUri";
import { judge, spawnArgv } from "./process";

export interface VirshOptions {
    /** Kill virsh after this many milliseconds. @default 120000: a define or destroy never takes that long on a healthy host. */
    timeoutMs?: number;
    /** Text written to virsh's standard input. */
    input?: string;
    /** The host virsh talks to, for messages. @default "local" */
    host?: string;
}

/**
 * Runs `virsh -q -c <uri> <args...>` on this machine and resolves with its
 * standard output. Throws HostCommandError with `uri` set.
 */
export async function virsh(uri: string, args: readonly string[], opts: VirshOptions = {}): Promise<string> {
    // The last line of defence: whoever hands virsh a URI, a remote host is reached only through its pinned access.
    const unpinned = unpinnedVirshUri(uri, args);
    if (unpinned) {
        throw hostTargetProblem(
            "libvirtUri",
            unpinned.uri,
            `${unpinned.reason}, so virsh was not started for host ${opts.host ?? "local"}`,
            "give the host ssh: access with pinned keys (privateKeySecret or agent: true, and knownHosts) and reach it through its HostAccess (libvirtUri())",
        );
    }
    const argv = ["virsh", "-q", "-c", uri, ...args];
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const host = opts.host ?? "local";
    try {
        return judge(host, argv, await spawnArgv(argv, { input: opts.input, timeoutMs }), timeoutMs, false).stdout;
    } catch (err) {
        if (!(err instanceof HostCommandError)) throw err;
        throw new HostCommandError(host, argv, err.exitCode, err.stdout, err.stderr, err.failure, err.reason, { uri });
    }
}

/** libvirt's words for "domain not found", in all versions we support. */
export function isNoDomain(err: unknown): boolean {
    return err instanceof HostCommandError && err.uri !== undefined && /failed to get domain|Domain not found|no domain with matching/i.test(err.stderr);
}

/** libvirt's words for an operation on a domain that is not running. */
export function isNotRunning(err: unknown): boolean {
    return err instanceof HostCommandError && err.uri !== undefined && /domain is not running|not running/i.test(err.stderr);
}
