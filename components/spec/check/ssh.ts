/**
 * A host's `ssh:` section: user, address, port, the name of the secret
 * config key that holds the private key (never the key), and the pinned host
 * keys. A value that looks like key material is described, never shown.
 */
import { sshAddressProblem, sshUserProblem } from "../access";
import type { CheckedHost } from "../checked";
import { configKeyPattern } from "../names";
import { describeSecret, joinPath } from "../problems";
import type { SpecReader } from "../reader";

const sshKeys = ["user", "address", "port", "privateKeySecret", "knownHosts"] as const;

/** `uriHost`: the host part of the host's libvirt URI, when it is remote and allowed. */
export function readSsh(r: SpecReader, value: unknown, path: string, uriHost: string | undefined, host: string | undefined): CheckedHost["ssh"] {
    const spec = r.object(value, path, sshKeys, ["privateKeySecret"]);
    if (!spec) return undefined;
    let user = r.string(spec.user, joinPath(path, "user")) ?? "root";
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
    const port = spec.port === undefined ? 22 : r.integer(spec.port, joinPath(path, "port"), 1, 65535);
    const secretPath = joinPath(path, "privateKeySecret");
    const privateKeySecret = r.string(spec.privateKeySecret, secretPath);
    if (privateKeySecret !== undefined && !configKeyPattern.test(privateKeySecret)) {
        r.report(
            secretPath,
            privateKeySecret,
            "is not a config key name (the key itself never goes in the spec)",
            "name a secret config key, e.g. hostKeyLab1, set with pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519",
        );
        return undefined;
    }
    const knownHosts = readKnownHosts(r, spec.knownHosts, joinPath(path, "knownHosts"));
    if (privateKeySecret === undefined || port === undefined || user === "" || address === "") return undefined;
    return { user, address, port, privateKeySecret, ...(knownHosts ? { knownHosts } : {}) };
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
    const keyLine = /^(?:[^\s#-][^\s]*\s+)?(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+[A-Za-z0-9+/]+={0,3}(?:\s+[^\s]*)?$/;
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
