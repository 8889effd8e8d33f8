/** SSH access per pod host from a stack's config: used by the Pulumi program and by `npm run probe` (through loadStack). */
import { libvirtUriLogin } from "../../spec/access";
import type { SshTarget } from "./target";

/**
 * SSH access per host name, from the spec's `ssh:` blocks, the secret config
 * keys they name, and the pinned lines the loader read from each host's
 * `knownHostsFile` (`pinsFromFiles`, by host name). Tolerant: a host whose
 * block is incomplete or contradictory is left out here, and the one
 * validation reports why.
 */
export function sshTargets(
    spec: unknown,
    config: Record<string, unknown>,
    configNamespace: string,
    pinsFromFiles: Record<string, string[]> = {},
): Record<string, SshTarget> {
    const hosts = (spec as { hosts?: unknown } | undefined)?.hosts;
    const targets: Record<string, SshTarget> = {};
    for (const host of Array.isArray(hosts) ? hosts : []) {
        const h = host as {
            name?: unknown;
            uri?: unknown;
            ssh?: {
                user?: unknown;
                address?: unknown;
                port?: unknown;
                privateKeySecret?: unknown;
                agent?: unknown;
                knownHosts?: unknown;
                knownHostsFile?: unknown;
            };
        };
        const s = h?.ssh;
        if (typeof h?.name !== "string" || !s) continue;
        const agent = s.agent === true;
        // One way to log in: the stack's secret or the user's agent, never both.
        if (agent === (s.privateKeySecret !== undefined)) continue;
        const key = agent ? undefined : config[`${configNamespace}:${s.privateKeySecret}`];
        if (!agent && typeof key !== "string") continue;
        const pins = s.knownHostsFile !== undefined ? (s.knownHosts === undefined ? pinsFromFiles[h.name] : undefined) : s.knownHosts;
        if (pins === undefined) continue;
        // As the spec check defaults them: ssh:'s values, else what a qemu+ssh uri writes, else root and 22.
        const uri = typeof h.uri === "string" ? libvirtUriLogin(h.uri) : {};
        const address = typeof s.address === "string" ? s.address : uri.host;
        if (!address) continue;
        targets[h.name] = {
            kind: "ssh",
            name: h.name,
            host: address,
            user: typeof s.user === "string" ? s.user : (uri.user ?? "root"),
            port: typeof s.port === "number" ? s.port : (uri.port ?? 22),
            ...(agent ? { agent: true } : { privateKey: key as string }),
            knownHosts: Array.isArray(pins) ? pins.map(String) : String(pins),
        };
    }
    return targets;
}

/** The hosts whose `ssh.knownHostsFile` the loader must read: host name, index, the name as written, address and port. */
export function knownHostsFiles(spec: unknown): { host: string; index: number; file: string; address: string; port: number }[] {
    const hosts = (spec as { hosts?: unknown } | undefined)?.hosts;
    if (!Array.isArray(hosts)) return [];
    return hosts.flatMap((host, index) => {
        const h = host as { name?: unknown; uri?: unknown; ssh?: { address?: unknown; port?: unknown; knownHosts?: unknown; knownHostsFile?: unknown } } | null;
        const s = h?.ssh;
        if (typeof h?.name !== "string" || typeof s?.knownHostsFile !== "string" || s.knownHostsFile.trim() === "" || s.knownHosts !== undefined) return [];
        // As the spec check defaults it: the host part of a remote uri, else the host's name.
        const uri = typeof h.uri === "string" ? libvirtUriLogin(h.uri) : {};
        const address = typeof s.address === "string" ? s.address : (uri.host ?? h.name);
        return [{ host: h.name, index, file: s.knownHostsFile, address, port: typeof s.port === "number" ? s.port : (uri.port ?? 22) }];
    });
}
