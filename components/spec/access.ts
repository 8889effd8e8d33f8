/**
 * How the kit reaches a host: the libvirt URIs and SSH user, address and port
 * it accepts. Each is an allow-list grammar, not a deny-list: these values end
 * up as arguments of virsh and ssh and in commands printed for people to
 * paste, so anything outside plain host names, users and ports is refused
 * (an address starting with "-" would be an ssh option; "$(...)" would run).
 */

/** A DNS name or IPv4 address: letters, digits, "." and "-", not starting or ending with "-" or ".". */
const hostName = "[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?";
/** An IPv6 address (hex digits and at least one ":"); URIs put it in brackets. */
const ipv6Bare = "[0-9A-Fa-f.]{0,40}:[0-9A-Fa-f:.]{1,40}";
const ipv6 = `\\[${ipv6Bare}\\]`;
/** A login name as useradd accepts it by default: no "-" first, so it is never an option. */
const userName = "[a-z_][a-z0-9_.-]{0,31}";

const sshAddressPattern = new RegExp(`^(?:${hostName}|${ipv6Bare})$`);
const sshUserPattern = new RegExp(`^${userName}$`);
const uriPattern = new RegExp(
    `^qemu(?:(\\+ssh)://(?:(${userName})@)?(${hostName}|${ipv6})(?::(\\d{1,5}))?|(\\+tcp)://(${hostName}|${ipv6})(?::(\\d{1,5}))?|://)/system$`,
);

/** What a libvirt URI the kit accepts says. */
export interface LibvirtTarget {
    /** False for qemu:///system, the daemon on the machine running the kit. */
    remote: boolean;
    /** Host part of a remote URI, without user, port or brackets. */
    host?: string;
    /** The login user a qemu+ssh URI names (`qemu+ssh://user@host/system`), when it names one. */
    user?: string;
    /** The port a qemu+ssh URI names, when it names one. */
    port?: number;
    /** The same host however it is written (user and the default port left out), to find one host declared twice. */
    identity: string;
}

export type UriCheck = { ok: true; target: LibvirtTarget } | { ok: false; reason: string; fix: string };

const uriFix = 'write "qemu:///system" (this machine), "qemu+ssh://[user@]host[:port]/system" or "qemu+tcp://host[:port]/system"';

/** Checks a libvirt URI against the kit's allow-list: qemu:///system, qemu+ssh://[user@]host[:port]/system, qemu+tcp://host[:port]/system. */
export function checkLibvirtUri(uri: string): UriCheck {
    if (uri === "qemu:///session" || /^qemu(\+\w+)?:\/\/[^/]*\/session$/.test(uri)) {
        return {
            ok: false,
            reason: "is a session daemon, which cannot pin vCPUs, lock memory or use hugepages",
            fix: 'use the system daemon: "qemu:///system" (or qemu+ssh://host/system)',
        };
    }
    // libvirt's built-in test driver: a host that exists only for previews and benches
    // (with declared topology and accel nothing connects); one per path, so many can be declared.
    if (/^test:\/\/\/default(?:\/[A-Za-z0-9_.-]+)?$/.test(uri)) return { ok: true, target: { remote: false, identity: uri } };
    const m = uriPattern.exec(uri);
    if (!m) return { ok: false, reason: "is not a libvirt URI the kit accepts", fix: uriFix };
    const port = m[4] ?? m[7];
    if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return { ok: false, reason: `has port ${port}, outside 1-65535`, fix: uriFix };
    if (m[1] === undefined && m[5] === undefined) return { ok: true, target: { remote: false, identity: "qemu:///system" } };
    const transport = m[1] ?? m[5];
    const host = (m[3] ?? m[6]).replace(/^\[|\]$/g, "").toLowerCase();
    const defaultPort = transport === "+ssh" ? "22" : "16509";
    const identity = `qemu${transport}://${host}:${port ?? defaultPort}/system`;
    // What a qemu+ssh URI says about the login is what libvirt's own ssh would use: the kit's ssh takes it too.
    const login = transport === "+ssh" ? { ...(m[2] !== undefined ? { user: m[2] } : {}), ...(port !== undefined ? { port: Number(port) } : {}) } : {};
    return { ok: true, target: { remote: true, host, identity, ...login } };
}

/** The host, user and port a remote libvirt URI names (the user and port only where a qemu+ssh URI writes them). */
export function libvirtUriLogin(uri: string): { host?: string; user?: string; port?: number } {
    const checked = checkLibvirtUri(uri);
    return checked.ok ? { host: checked.target.host, user: checked.target.user, port: checked.target.port } : {};
}

/** The host a remote libvirt URI names (no user, port or brackets); undefined for this machine's, or a URI the kit does not accept. */
export function libvirtUriHost(uri: string): string | undefined {
    const checked = checkLibvirtUri(uri);
    return checked.ok ? checked.target.host : undefined;
}

/** Why an SSH user cannot be used, or undefined when it can. */
export function sshUserProblem(user: string): { reason: string; fix: string } | undefined {
    if (sshUserPattern.test(user)) return undefined;
    return {
        reason: user.startsWith("-") ? "starts with -, which ssh would take as an option" : "is not a login name",
        fix: 'write a login name: lower-case letters, digits, "_", "." and "-", not starting with "-", e.g. root',
    };
}

/** Why an SSH address cannot be used, or undefined when it can. */
export function sshAddressProblem(address: string): { reason: string; fix: string } | undefined {
    if (sshAddressPattern.test(address)) return undefined;
    return {
        reason: address.startsWith("-") ? "starts with -, which ssh would take as an option" : "is not a host name or IP address",
        fix: 'write a DNS name or an IP address, e.g. "lab-1.example.net" or "192.0.2.10"',
    };
}
