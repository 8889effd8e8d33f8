/**
 * Picks the implementation from the host description, and keeps one HostAccess
 * per host for the life of the process, so every caller shares one SSH
 * connection per host. The cache lives here, outside the provider modules
 * (which must keep no module-level state); a provider process loads this
 * module at run time and gets its own cache.
 */
import { createHash } from "node:crypto";
import { hostTargetProblem } from "./errors";
import { isLocalLibvirtUri, LOCAL_LIBVIRT_URI } from "./libvirtUri";
import { LocalHostAccess } from "./local";
import { SshHostAccess } from "./ssh";
import type { HostTarget } from "./target";
import type { HostAccess } from "./types";

const cache = new Map<string, HostAccess>();

/** The HostAccess for a host: this machine when no target is given. */
export function hostAccess(target: HostTarget = { kind: "local" }): HostAccess {
    const key = cacheKey(target);
    let access = cache.get(key);
    if (!access) {
        access = target.kind === "local" ? new LocalHostAccess(target.name, localUri(target)) : new SshHostAccess(target);
        cache.set(key, access);
    }
    return access;
}

/** The libvirt URI that reaches the host's system daemon: over SSH through the host's pinned, shared connection. */
export async function libvirtUri(target: HostTarget = { kind: "local" }): Promise<string> {
    return hostAccess(target).libvirtUri();
}

/** A local target's libvirt URI; a remote one is refused: a remote host is reached over SSH, never through this machine's ssh setup. */
function localUri(target: { name?: string; libvirtUri?: string }): string {
    const uri = target.libvirtUri ?? LOCAL_LIBVIRT_URI;
    if (!isLocalLibvirtUri(uri)) {
        throw hostTargetProblem(
            "libvirtUri",
            uri,
            `is not this machine's libvirt, so host ${target.name ?? "local"} cannot be reached as this machine`,
            "give the host ssh: access (privateKeySecret or agent: true, and knownHosts); the kit reaches remote hosts only through it",
        );
    }
    return uri;
}

/** Closes every cached HostAccess (connections, agents, their files); for the end of a program or a test. */
export async function closeHostAccesses(): Promise<void> {
    const all = [...cache.values()];
    cache.clear();
    await Promise.all(all.map((a) => a.close()));
}

function cacheKey(t: HostTarget): string {
    if (t.kind === "local") return `local:${t.name ?? "local"}:${t.libvirtUri ?? LOCAL_LIBVIRT_URI}`;
    // Hashed: a changed key or pin must give a new connection, and the key text must not sit in a map key.
    const secret = createHash("sha256")
        .update(JSON.stringify([t.privateKey, t.agent === true, t.knownHosts, t.connectTimeoutSec, t.controlPersistSec, t.name]))
        .digest("hex");
    return `ssh:${t.user ?? "root"}@${t.host}:${t.port ?? 22}:${secret}`;
}
