/**
 * libvirt URIs for a host target. libvirt's qemu+ssh transport starts its own
 * ssh; `command=` points it at our wrapper, so virsh gets the same pinned host
 * keys, ssh-agent and shared connection as every other command to that host.
 */
import type { SshFiles } from "./ssh";
import type { ResolvedSshTarget } from "./target";

/** The URI of this machine's system daemon: it can pin and lock memory. */
export const LOCAL_LIBVIRT_URI = "qemu:///system";

/** True for a libvirt URI of this machine: its system daemon, or libvirt's test driver (previews and benches, where nothing connects). */
export function isLocalLibvirtUri(uri: string): boolean {
    return uri === LOCAL_LIBVIRT_URI || /^test:\/\/\//.test(uri);
}

/**
 * `qemu+ssh://user@host:port/system?...`: known_hosts names our pinned keys,
 * no_verify=0 keeps host-key checking on, no_tty=1 because nobody can answer a
 * prompt. No keyfile: there is no key file, the wrapper's config names the agent.
 */
export function libvirtSshUri(t: ResolvedSshTarget, files: Pick<SshFiles, "knownHostsFile" | "sshWrapper">, driver = "qemu", pathPart = "/system"): string {
    const host = t.host.includes(":") ? `[${t.host}]` : t.host;
    const params = new URLSearchParams({
        command: files.sshWrapper,
        known_hosts: files.knownHostsFile,
        no_verify: "0",
        no_tty: "1",
    });
    return `${driver}+ssh://${t.user}@${host}:${t.port}${pathPart}?${params.toString()}`;
}
