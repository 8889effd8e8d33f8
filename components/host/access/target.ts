/**
 * How a host is described to the access layer, and the checks that run before
 * any process does: a host or user value that ssh would read as an option
 * (`-oProxyCommand=...`) or that holds shell syntax is refused here.
 */
import { hostTargetProblem } from "./errors";

/** This machine. */
export interface LocalTarget {
    kind: "local";
    /** How messages name it. @default "local" */
    name?: string;
    /**
     * This machine's libvirt daemon: "qemu:///system", or libvirt's test driver
     * ("test:///default...") for previews and benches. Never a remote URI: a
     * remote host is reached over SSH. @default "qemu:///system"
     */
    libvirtUri?: string;
}

/** A host reached with the OpenSSH client. */
export interface SshTarget {
    kind: "ssh";
    /** How messages name it, e.g. the pod spec's host name. @default the address */
    name?: string;
    /** DNS name or IP address. */
    host: string;
    /** Login user. @default "root": host tuning writes to /proc and /sys */
    user?: string;
    /** @default 22 */
    port?: number;
    /**
     * The private key itself (OpenSSH format, no passphrase), e.g. from a secret stack config value.
     * It is handed to an ssh-agent of the kit's own through a pipe and never written to a file.
     * Give this or `agent: true`, not both.
     */
    privateKey?: string;
    /**
     * Log in with the keys of the running user's ssh-agent (SSH_AUTH_SOCK) instead of `privateKey`:
     * for a person at a terminal, whose key then never enters the stack. Every process that reaches the
     * host (the program, the provider plugin on refresh and destroy) needs the agent; without one, the
     * error says so. If this is set, privateKey cannot be. @default false
     */
    agent?: boolean;
    /**
     * The host's pinned public keys, in known_hosts form (`ssh-keyscan -p <port> <host>` prints them),
     * one per line or as a list. A line that is only "<type> <key>" is taken as this host's.
     * There is no default: an unpinned host is never trusted.
     */
    knownHosts: string | readonly string[];
    /** Seconds ssh waits for the TCP connection and the login. @default 10 */
    connectTimeoutSec?: number;
    /** Seconds the shared connection stays open after its last command. @default 60 */
    controlPersistSec?: number;
}

export type HostTarget = LocalTarget | SshTarget;

/** The target with defaults filled in. */
export interface ResolvedSshTarget {
    name: string;
    host: string;
    user: string;
    port: number;
    /** The key to hand to the kit's own agent; undefined when the user's agent is used (`agent: true`). */
    privateKey: string | undefined;
    /** known_hosts lines, each naming this host. */
    knownHostsLines: string[];
    connectTimeoutSec: number;
    controlPersistSec: number;
}

// Letters, digits, dots and dashes (DNS names, IPv4), or an IPv6 literal; never a leading "-".
const hostPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
// POSIX user names as useradd accepts them, without the leading "-" ssh would read as an option.
const userPattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const keyTypePattern = /^(?:ssh-|ecdsa-|sk-)/;

/** Checks and completes an SSH target; throws a ProblemListError naming the field and the fix. */
export function resolveSshTarget(t: SshTarget): ResolvedSshTarget {
    if (typeof t.host !== "string" || !hostPattern.test(t.host)) {
        throw hostTargetProblem(
            "host",
            String(t.host),
            "is not a host name or IP address (a leading '-', whitespace or shell characters could be read as ssh options or commands)",
            "give a DNS name or an IP address, e.g. lab-1.example or 10.0.0.7",
        );
    }
    const user = t.user ?? "root";
    if (!userPattern.test(user)) {
        throw hostTargetProblem(
            "user",
            user,
            "is not a user name (only letters, digits, '_', '.', '-', not starting with '-')",
            "give the login name, e.g. root",
        );
    }
    const port = t.port ?? 22;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw hostTargetProblem("port", String(port), "is not a TCP port", "give a number from 1 to 65535");
    }
    const name = t.name ?? t.host;
    if (/[\s\0]/.test(name) || name === "") throw hostTargetProblem("name", name, "is not a usable host name for messages", "use the pod spec's host name");
    if (t.agent !== undefined && typeof t.agent !== "boolean") {
        throw hostTargetProblem("agent", String(t.agent), "must be true or false", "write agent: true to log in with your ssh-agent's keys, or leave it out");
    }
    const agent = t.agent === true;
    if (agent && t.privateKey !== undefined) {
        throw hostTargetProblem(
            "agent",
            "true",
            "cannot be given with privateKey: the kit logs in with one key source",
            "keep privateKey (unattended runs, CI) or agent: true (a person at a terminal), not both",
        );
    }
    if (!agent && (typeof t.privateKey !== "string" || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(t.privateKey))) {
        throw hostTargetProblem(
            "privateKey",
            "",
            "does not hold a private key",
            "set the secret config value from the key file: pulumi config set --secret <name> < ~/.ssh/id_ed25519, or use agent: true",
            "(a secret, not shown)",
        );
    }
    const pattern = port === 22 ? t.host : `[${t.host}]:${port}`;
    const knownHostsLines = (typeof t.knownHosts === "string" ? t.knownHosts.split("\n") : [...(t.knownHosts ?? [])])
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"))
        // A bare "<type> <key>" line is pinned to this host so it can be pasted from the host's /etc/ssh/*.pub.
        .map((l) => (keyTypePattern.test(l) ? `${pattern} ${l}` : l));
    if (knownHostsLines.length === 0) {
        throw hostTargetProblem(
            "knownHosts",
            "",
            `pins no host key for ${name}, and an unpinned host is never trusted`,
            `read the key on a trusted path (or check its fingerprint) and pin it: ssh-keyscan -p ${port} ${t.host}`,
        );
    }
    return {
        name,
        host: t.host,
        user,
        port,
        privateKey: agent || t.privateKey === undefined ? undefined : t.privateKey.endsWith("\n") ? t.privateKey : `${t.privateKey}\n`,
        knownHostsLines,
        connectTimeoutSec: t.connectTimeoutSec ?? 10,
        controlPersistSec: t.controlPersistSec ?? 60,
    };
}
