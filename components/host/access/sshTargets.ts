/** SSH access per pod host from a stack's config: used by the Pulumi program and by `npm run probe`. */
import { libvirtUriHost } from "../../spec/access";
import type { SshTarget } from "./target";

/**
 * SSH access per host name, from the spec's `ssh:` blocks and the secret
 * config keys they name. Tolerant: a host whose block is incomplete is left
 * out here, and the one validation reports why.
 */
export function sshTargets(spec: unknown, config: Record<string, unknown>, configNamespace: string): Record<string, SshTarget> {
    const hosts = (spec as { hosts?: unknown } | undefined)?.hosts;
    const targets: Record<string, SshTarget> = {};
    for (const host of Array.isArray(hosts) ? hosts : []) {
        const h = host as {
            name?: unknown;
            uri?: unknown;
            ssh?: { user?: unknown; address?: unknown; port?: unknown; privateKeySecret?: unknown; knownHosts?: unknown };
        };
        const s = h?.ssh;
        if (typeof h?.name !== "string" || !s || typeof s.privateKeySecret !== "string" || s.knownHosts === undefined) continue;
        const key = config[`${configNamespace}:${s.privateKeySecret}`];
        const uriHost = typeof h.uri === "string" ? libvirtUriHost(h.uri) : undefined;
        const address = typeof s.address === "string" ? s.address : uriHost;
        if (typeof key !== "string" || !address) continue;
        targets[h.name] = {
            kind: "ssh",
            name: h.name,
            host: address,
            user: typeof s.user === "string" ? s.user : "root",
            port: typeof s.port === "number" ? s.port : 22,
            privateKey: key,
            knownHosts: Array.isArray(s.knownHosts) ? s.knownHosts.map(String) : String(s.knownHosts),
        };
    }
    return targets;
}
