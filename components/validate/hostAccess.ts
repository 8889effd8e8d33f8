/**
 * What a stack must say for the kit to reach its hosts: the SSH key each
 * host's access names, kept as a secret config value (unless the host logs
 * in with the user's ssh-agent), and pinned access for every remote host of
 * the pod. One rule of which hosts those are
 * (`accessNeed`), which the stack's validation reads from the raw spec and
 * TestPod from the plan, so both ask for the same hosts. Pure.
 */
import { checkLibvirtUri } from "../spec/access";
import { configKeyPattern } from "../spec/names";
import { joinPath, type SpecProblem } from "../spec/problems";
import { configNamespace } from "./stackFile";

/** What the kit does on a host, as far as reaching it goes. */
export interface HostWork {
    /** Guests run there: the guest image is copied there, their console logs, shm files and hugepages are handled there. */
    guests: boolean;
    /** A migration moves a guest there: its hugepage pool and the guest's pins are handled there, even with no guest of its own. */
    migrationDestination: boolean;
    /** `manage: true`: its kernel and tuning are the kit's. */
    managed: boolean;
}

/**
 * Why the kit must reach a host over SSH, in words for a problem, or
 * undefined: this machine's libvirt (or the test driver). Every remote host
 * needs it, whatever the pod does there: discovery reads its topology,
 * accelerator, kernel and memory locking before planning, and the kit never
 * reaches a remote host through this machine's ssh setup (the user's
 * ~/.ssh/config, known_hosts or keys), so `ssh:` with pinned keys is the only
 * way in. The work named only sharpens the words.
 */
export function accessNeed(uri: string, work: HostWork): string | undefined {
    const checked = checkLibvirtUri(uri);
    if (!checked.ok || !checked.target.remote) return undefined;
    if (work.guests) return "has guests, so the kit copies the guest image there and works on its files over SSH";
    if (work.migrationDestination) return "is a migration destination, so the kit makes room in its hugepage pool and checks the guest's pins there over SSH";
    if (work.managed) return "is managed by the kit (manage: true), which installs its kernel and tunes it over SSH";
    return "is named by the pod, so the kit reads its topology, accelerator, kernel and memory locking there over SSH before planning";
}

/** The fix of a remote host without pinned access: both ways to log in, each with pinned host keys. */
export const ACCESS_FIX =
    "add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }, or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts";

/** The hosts the stack's migration probe moves guests to, read from the raw probe settings (so they count even when the settings have other problems). */
export function migrationDestinations(probes: unknown): string[] {
    const migration = (probes as { migration?: unknown } | null | undefined)?.migration;
    if (!Array.isArray(migration)) return [];
    return migration.map((m) => (m as { to?: unknown } | null)?.to).filter((to): to is string => typeof to === "string");
}

/**
 * Every remote host of the pod needs `ssh:` access with pinned host keys,
 * whether it runs guests, is only a migration destination, or is only named.
 * Read from the raw spec, so it is said even when the pod has other problems,
 * and before any host is reached (the loader connects to nothing while one of
 * these is open). A managed host without ssh has its own problem
 * (hosts[i].manage, from the spec check), so it is not counted twice here.
 */
export function remoteHostsWithoutAccess(spec: unknown, podPath: string, destinations: readonly string[] = []): SpecProblem[] {
    const hosts = (spec as { hosts?: unknown } | null | undefined)?.hosts;
    const rawGuests = (spec as { guests?: unknown } | null | undefined)?.guests;
    const guests = Array.isArray(rawGuests) ? rawGuests : [];
    if (!Array.isArray(hosts)) return [];
    const problems: SpecProblem[] = [];
    hosts.forEach((h, i) => {
        const host = h as { name?: unknown; uri?: unknown; manage?: unknown; ssh?: { knownHosts?: unknown; knownHostsFile?: unknown } } | null;
        if (typeof host?.name !== "string" || typeof host.uri !== "string") return;
        const hasGuest = guests.some((g) => {
            const on = (g as { host?: unknown } | null)?.host;
            return on === host.name || (on === undefined && hosts.length === 1);
        });
        const why = accessNeed(host.uri, { guests: hasGuest, migrationDestination: destinations.includes(host.name), managed: host.manage === true });
        if (why === undefined) return;
        const at = joinPath(joinPath(podPath, "hosts"), i);
        if (host.ssh === undefined || host.ssh === null) {
            if (host.manage === true) return;
            problems.push({
                path: `${at}.ssh`,
                value: undefined,
                reason: `is needed: host ${host.name} is remote (${host.uri}) and ${why}`,
                fix: ACCESS_FIX,
            });
        } else if (typeof host.ssh === "object" && host.ssh.knownHosts === undefined && host.ssh.knownHostsFile === undefined) {
            problems.push({
                path: `${at}.ssh.knownHosts`,
                value: undefined,
                reason: `is needed: the kit connects to host ${host.name} over SSH and never trusts a host key it was not given`,
                fix: "add the lines `ssh-keyscan -p <port> <address>` prints, after checking them out of band (or name a file that holds them: knownHostsFile)",
            });
        }
    });
    return problems;
}

/** A host's `ssh.privateKeySecret`, read tolerantly from the raw spec: the host's name and index, and the config key name it gives. */
export interface SshKeyName {
    host: string | undefined;
    index: number;
    /** The config key's name, without the namespace; only well-formed names (the pod check reports the rest). */
    key: string;
}

/** The SSH key names the pod's hosts give, in host order. */
export function sshKeyNames(spec: unknown): SshKeyName[] {
    const hosts = (spec as { hosts?: unknown } | null | undefined)?.hosts;
    if (!Array.isArray(hosts)) return [];
    return hosts.flatMap((h, index) => {
        const host = h as { name?: unknown; ssh?: { privateKeySecret?: unknown } } | null;
        const key = host?.ssh?.privateKeySecret;
        if (typeof key !== "string" || !configKeyPattern.test(key)) return [];
        return [{ host: typeof host?.name === "string" ? host.name : undefined, index, key }];
    });
}

/** A host's SSH key must be a secret stack config value: set, and encrypted. Read from the raw spec, so it is reported even when the spec has other problems. */
export function sshKeyProblems(spec: unknown, config: Record<string, unknown>, secret: ReadonlySet<string>, podPath: string): SpecProblem[] {
    const problems: SpecProblem[] = [];
    for (const { index, key } of sshKeyNames(spec)) {
        const full = `${configNamespace}:${key}`;
        const path = `${joinPath(joinPath(podPath, "hosts"), index)}.ssh.privateKeySecret`;
        // The name matched configKeyPattern, so it is safe to print in a command.
        const fix = `pulumi config set --secret ${key} < ~/.ssh/id_ed25519`;
        if (config[full] === undefined) problems.push({ path, value: key, reason: `names ${full}, which is not set`, fix });
        else if (!secret.has(full)) problems.push({ path, value: key, reason: `names ${full}, which holds a private key in plain text`, fix });
    }
    return problems;
}
