/**
 * How a provider resource names the host it acts on: an `access` input that
 * is a HostTarget (absent: this machine). The SSH private key in it is a
 * Pulumi secret, which reaches the provider wrapped in the engine's secret
 * envelope; it is unwrapped here and nowhere else.
 */
import { hostAccess, libvirtUri } from "./factory";
import { SshHostAccess } from "./ssh";
import type { HostTarget } from "./target";
import type { HostAccess } from "./types";

/** The engine's marker of a secret value in provider inputs (the Pulumi SDK's `specialSigKey` / `specialSecretSig`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The value with every secret envelope opened. */
export function revealSecrets<T>(value: T): T {
    if (Array.isArray(value)) return value.map(revealSecrets) as T;
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG_KEY] === SECRET_SIG) return revealSecrets(record.value) as T;
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealSecrets(v)])) as T;
    }
    return value;
}

/** The HostAccess of a resource's `access` input. */
export function accessOf(access: HostTarget | undefined): HostAccess {
    return hostAccess(access ? revealSecrets(access) : { kind: "local" });
}

/**
 * The URI virsh uses for the host: the spec's own for this machine; for an SSH
 * host, one that goes through the same pinned keys and shared connection as
 * every other command to it.
 */
export async function virshUriOf(access: HostTarget | undefined, specUri: string): Promise<string> {
    const target = access ? revealSecrets(access) : undefined;
    return target?.kind === "ssh" ? libvirtUri(target) : specUri;
}

/** The same for a HostAccess in hand: virsh to an SSH host rides on that host's connection. */
export async function virshUriFor(host: HostAccess | undefined, specUri: string): Promise<string> {
    return host instanceof SshHostAccess ? host.libvirtUri() : specUri;
}
