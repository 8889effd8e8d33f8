/**
 * A host's `ssh:` section: user, address, port, how the kit logs in (the
 * name of the secret config key that holds the private key, never the key;
 * or `agent: true`, the user's ssh-agent), and the pinned host keys (inline,
 * or a file the loader reads). A value that looks like key material is
 * described, never shown. Pure: the known_hosts file is read by the loader.
 */
import { createHmac } from "node:crypto";
import { sshAddressProblem, sshUserProblem } from "../access";
import type { CheckedHost } from "../checked";
import { configKeyPattern } from "../names";
import { describeSecret, joinPath } from "../problems";
import type { SpecReader } from "../reader";

const sshKeys = ["user", "address", "port", "privateKeySecret", "agent", "knownHosts", "knownHostsFile"] as const;

/**
 * `uri`: what the host's libvirt URI says of the login, when it is remote and allowed: its host part, and the user
 * and port a qemu+ssh URI writes. They are the defaults of `ssh:`; an `ssh:` value that contradicts one is a problem,
 * since libvirt's own ssh would then log in differently from the kit's.
 */
export function readSsh(
    r: SpecReader,
    value: unknown,
    path: string,
    uri: { host?: string; user?: string; port?: number },
    host: string | undefined,
): CheckedHost["ssh"] {
    const spec = r.object(value, path, sshKeys);
    if (!spec) return undefined;
    const uriHost = uri.host;
    for (const [key, fromUri] of [
        ["user", uri.user],
        ["port", uri.port],
    ] as const) {
        if (spec[key] !== undefined && fromUri !== undefined && spec[key] !== fromUri) {
            r.report(
                joinPath(path, key),
                spec[key],
                `differs from the ${key} the host's uri names (${fromUri}): libvirt's qemu+ssh would log in with one and the kit's commands with the other`,
                `write the same ${key} in both, or leave it out of ssh: (the uri's is taken)`,
            );
        }
    }
    let user = r.string(spec.user, joinPath(path, "user")) ?? uri.user ?? "root";
    const userProblem = sshUserProblem(user);
    if (userProblem) {
        r.report(joinPath(path, "user"), user, userProblem.reason, userProblem.fix);
        user = "";
    }
    let address = r.string(spec.address, joinPath(path, "address")) ?? uriHost ?? host ?? "";
    const addressProblem = spec.address === undefined ? undefined : sshAddressProblem(address);
    if (addressProblem) {
        r.report(joinPath(path, "address"), address, addressProblem.reason, addressProblem.fix);
        address = "";
    }
    const port = spec.port === undefined ? (uri.port ?? 22) : r.integer(spec.port, joinPath(path, "port"), 1, 65535);
    const login = readLogin(r, spec, path);
    const pins = readPins(r, spec, path);
    if (!login || !pins || port === undefined || user === "" || address === "") return undefined;
    return { user, address, port, ...login, ...pins };
}

/** How the kit logs in: exactly one of a secret config key's name and `agent: true`. */
function readLogin(r: SpecReader, spec: Record<string, unknown>, path: string): { privateKeySecret: string } | { agent: true } | undefined {
    const secretPath = joinPath(path, "privateKeySecret");
    const agentPath = joinPath(path, "agent");
    const agent = spec.agent === undefined || spec.agent === null ? false : r.boolean(spec.agent, agentPath);
    if (agent === undefined) return undefined;
    if (spec.privateKeySecret === undefined || spec.privateKeySecret === null) {
        if (agent) return { agent: true };
        r.report(
            secretPath,
            undefined,
            "is required unless agent is true: the kit needs a private key to log in",
            "name the secret config key that holds the key (pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519), or write agent: true to log in with the key in your ssh-agent",
        );
        return undefined;
    }
    const privateKeySecret = r.string(spec.privateKeySecret, secretPath);
    if (privateKeySecret === undefined) return undefined;
    if (!configKeyPattern.test(privateKeySecret)) {
        r.report(
            secretPath,
            privateKeySecret,
            "is not a config key name (the key itself never goes in the spec)",
            "name a secret config key, e.g. hostKeyLab1, set with pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519",
        );
        return undefined;
    }
    if (agent) {
        r.report(
            agentPath,
            true,
            "cannot be given with privateKeySecret: the kit logs in with one key, the stack's secret or your ssh-agent's",
            "keep privateKeySecret (unattended runs, CI) or agent: true (a person at a terminal), not both",
        );
        return undefined;
    }
    return { privateKeySecret };
}

/** The pinned host keys: known_hosts lines in the spec, or the name of a file that holds them (read by the loader). */
function readPins(r: SpecReader, spec: Record<string, unknown>, path: string): { knownHosts?: string[] } | { knownHostsFile: string } | undefined {
    const filePath = joinPath(path, "knownHostsFile");
    const inline = spec.knownHosts !== undefined && spec.knownHosts !== null;
    const knownHosts = readKnownHosts(r, spec.knownHosts, joinPath(path, "knownHosts"));
    if (spec.knownHostsFile === undefined || spec.knownHostsFile === null) return knownHosts ? { knownHosts } : inline ? undefined : {};
    const file = r.string(spec.knownHostsFile, filePath);
    if (file === undefined) return undefined;
    if (file.trim() === "" || file.includes("\0")) {
        r.report(filePath, file, "is not a file name", KNOWN_HOSTS_FILE_FIX);
        return undefined;
    }
    if (inline) {
        r.report(
            filePath,
            file,
            "cannot be given with knownHosts: the host's keys are pinned in one place",
            "keep the knownHosts lines, or the knownHostsFile that holds them, not both",
        );
        return undefined;
    }
    return { knownHostsFile: file };
}

const KNOWN_HOSTS_FILE_FIX =
    "name a file of known_hosts lines, e.g. ~/.ssh/known_hosts or pins/lab-1 (relative to the project folder); put the lines ssh-keyscan -p <port> <address> prints there after checking them out of band";

/**
 * The problems of a known_hosts file the loader read for a host (`text`), or
 * why it could not be read (`readError`), each with the file the loader
 * opened; and, when there are none, the lines that pin that host's keys.
 * `written` is the name as the spec gives it.
 */
export function knownHostsFileProblems(
    at: { path: string; written: string; resolved: string; address: string; port: number },
    read: { text: string } | { readError: string },
): { problems: { path: string; value: unknown; reason: string; fix: string }[]; lines: string[] } {
    const where = at.resolved;
    const keyscan = `ssh-keyscan -p ${at.port} ${at.address}`;
    const fix = `write the host's keys to ${where} after checking them out of band (${keyscan} prints them), or pin them inline with knownHosts`;
    const problem = (reason: string) => ({ problems: [{ path: at.path, value: at.written, reason, fix }], lines: [] });
    if ("readError" in read) return problem(`cannot be read (${where}): ${read.readError}`);
    if (describeSecret(read.text) !== undefined) return problem(`(${where}) is not a known_hosts file: it holds a private key`);
    const bad: number[] = [];
    const lines: string[] = [];
    let pins = 0;
    read.text.split("\n").forEach((raw, i) => {
        const line = raw.trim();
        // Comments, and the @cert-authority and @revoked lines the kit does not pin with.
        if (line === "" || line.startsWith("#") || line.startsWith("@")) return;
        if (!knownHostsFileLine.test(line)) {
            bad.push(i + 1);
            return;
        }
        pins++;
        // Only this host's lines travel on (into the resources' inputs): the other hosts' are no business of this stack.
        if (namesHost(line, at.address, at.port)) lines.push(line);
    });
    if (bad.length > 0) {
        const shown = bad.length > 5 ? `${bad.slice(0, 5).join(", ")} and ${bad.length - 5} more` : bad.join(", ");
        return problem(
            `(${where}) is not a known_hosts file: ${bad.length > 1 ? `lines ${shown} are not known_hosts lines` : `line ${shown} is not a known_hosts line`} (host, key type, base64 key)`,
        );
    }
    if (pins === 0) return problem(`(${where}) is empty: it pins no host key, and an unpinned host is never trusted`);
    if (lines.length === 0) return problem(`(${where}) pins no key for ${at.address} port ${at.port}, and an unpinned host is never trusted`);
    return { problems: [], lines };
}

const knownHostsLine = /^(?:[^\s#-][^\s]*\s+)?(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+[A-Za-z0-9+/]+={0,3}(?:\s+[^\s]*)?$/;
/** A file's line may end in a comment of several words, as ssh-keygen and people write them. */
const knownHostsFileLine = /^(?:[^\s#-][^\s]*\s+)?(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+[A-Za-z0-9+/]+={0,3}(?:\s+.*)?$/;
const keyTypeFirst = /^(?:ssh-|ecdsa-|sk-)/;

/**
 * True when a known_hosts line applies to the host as ssh looks it up
 * (`address`, or `[address]:port` off port 22): a bare "<type> <key>" line, a
 * plain or wildcard pattern, or a hashed name (|1|salt|HMAC-SHA1), with
 * negated patterns ("!name") ruling a line out, as sshd's match_hostname does.
 */
export function namesHost(line: string, address: string, port: number): boolean {
    const first = line.split(/\s+/)[0];
    if (keyTypeFirst.test(first)) return true;
    const name = port === 22 ? address.toLowerCase() : `[${address.toLowerCase()}]:${port}`;
    if (first.startsWith("|1|")) {
        const [, , salt, hash] = first.split("|");
        if (!salt || !hash) return false;
        return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
    }
    let matched = false;
    for (const pattern of first.toLowerCase().split(",")) {
        const negated = pattern.startsWith("!");
        const glob = negated ? pattern.slice(1) : pattern;
        const re = new RegExp(
            `^${glob
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, ".*")
                .replace(/\?/g, ".")}$`,
        );
        if (!re.test(name)) continue;
        if (negated) return false;
        matched = true;
    }
    return matched;
}

/** Pinned host keys: known_hosts lines, each "[host[:port]] <key type> <base64 key>", nothing that ssh could read as an option. */
function readKnownHosts(r: SpecReader, value: unknown, path: string): string[] | undefined {
    if (value === undefined || value === null) return undefined;
    const lines = typeof value === "string" ? value.split("\n") : Array.isArray(value) ? value : undefined;
    const fix = 'paste the lines `ssh-keyscan -p <port> <address>` prints, e.g. "ssh-ed25519 AAAAC3Nza..."';
    // A private key pasted here is one problem about the whole value (described, never shown), not one per line of it.
    if (typeof value === "string" && describeSecret(value) !== undefined) {
        r.report(path, value, "is not known_hosts lines (host, key type, base64 key)", fix);
        return undefined;
    }
    if (!lines) {
        r.report(path, value, "must be known_hosts lines (a text or a list of texts)", fix);
        return undefined;
    }
    const keyLine = knownHostsLine;
    const out: string[] = [];
    lines.forEach((line, i) => {
        const text = typeof line === "string" ? line.trim() : line;
        if (text === "" || (typeof text === "string" && text.startsWith("#"))) return;
        if (typeof text !== "string" || !keyLine.test(text)) {
            r.report(Array.isArray(value) ? joinPath(path, i) : path, line, "is not a known_hosts line (host, key type, base64 key)", fix);
            return;
        }
        out.push(text);
    });
    return out.length > 0 ? out : undefined;
}
