/**
 * libvirt URIs for a host target. libvirt's qemu+ssh transport starts its own
 * ssh; `command=` points it at our wrapper, so virsh gets the same pinned host
 * keys, ssh-agent and shared connection as every other command to that host.
 */
import * as path from "node:path";
import type { SshFiles } from "./ssh";
import { SSH_DIR_PREFIX } from "./sshDir";
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

/** A libvirt connection URI (driver, optional transport, "://"), as virsh takes after -c or as a migration's destination. */
const libvirtUriShape = /^(?:qemu|test|lxc|xen|libxl|vbox|bhyve|ch|vz|openvz|esx|hyperv)(?:\+[a-z0-9]+)?:\/\//i;

/**
 * Why virsh must not be given this libvirt URI, or undefined when it may: this
 * machine's daemon (no host part: qemu:///system, test:///...), or a qemu+ssh
 * URI made by an SSH HostAccess (libvirtSshUri), whose ssh is the kit's
 * wrapper in one of its private folders with host-key checking on. Any other
 * URI with a host part (qemu+ssh://host/system as a spec writes it,
 * qemu+tcp://, qemu+libssh2://, qemu+ext://) would make libvirt reach the host
 * with the user's own ssh setup (~/.ssh/config, known_hosts, keys) or with no
 * authentication of the host at all.
 */
export function unpinnedLibvirtUri(uri: string): string | undefined {
    const m = /^([a-z]+)(?:\+([a-z0-9]+))?:\/\/([^/?#]*)/i.exec(uri);
    if (!m) return undefined;
    const [, , transport, authority] = m;
    if (authority === "" && (transport === undefined || transport === "unix")) return undefined;
    if (transport === "ssh") {
        const query = new URLSearchParams(uri.includes("?") ? uri.slice(uri.indexOf("?") + 1) : "");
        const command = query.get("command") ?? "";
        const ours = path.basename(command) === "ssh" && path.basename(path.dirname(command)).startsWith(SSH_DIR_PREFIX);
        if (ours && query.get("no_verify") === "0") return undefined;
        return "starts libvirt's own ssh, which would read your ~/.ssh/config, known_hosts and keys instead of the host's pinned access";
    }
    return `reaches a remote host over libvirt's ${transport ?? "default"} transport, not through the host's pinned SSH access`;
}

/** The first libvirt URI among virsh's connection URI and its arguments (a migration's destination) that is not pinned, with why. */
export function unpinnedVirshUri(uri: string, args: readonly string[]): { uri: string; reason: string } | undefined {
    for (const u of [uri, ...args.filter((a) => libvirtUriShape.test(a))]) {
        const reason = unpinnedLibvirtUri(u);
        if (reason !== undefined) return { uri: u, reason };
    }
    return undefined;
}
