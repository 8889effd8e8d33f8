/**
 * A host's access is a real input of every resource on that host: a new key, a
 * re-pinned host key, another user, port or address is an update (the new
 * access is stored and checked), never a new guest; and `read` and `delete`
 * reach the host with the newest access the stack's config gives, not the one
 * stored when the resource was made.
 *
 * How the provider learns the newest access, and why this way (measured with
 * engine v3.260 and read in its step generator):
 *   - Configure: the Node SDK's provider server drops Configure's arguments,
 *     and a default provider is given only the `nfvkit:*` keys, while a pod's
 *     access lives under `nfv-testpod:pod` and the secret it names.
 *   - `pulumi destroy --run-program`: the program runs, but a resource's
 *     delete still gets its old outputs ("for deletes we want to maintain the
 *     old inputs"); only providers get the fresh config. Plain refresh and
 *     destroy run no program at all.
 *   - So the kit's own commands (`npm run up`, `npm run down`) read the
 *     stack's current ssh: settings and secrets, and hand them to the engine's
 *     processes in the environment (CURRENT_ACCESS_ENV: in memory, never on
 *     disk), where the provider finds them by stack and host name. A bare
 *     `pulumi destroy` uses the access stored by the last `up`, which the
 *     rotation procedure (docs/pod-spec.md) keeps current.
 */
import { revealSecrets } from "./inputs";
import type { HostTarget, SshTarget } from "./target";

/** The environment variable that carries the stack's current SSH access to the provider plugin: `{ stack, hosts: { <host name>: SshTarget } }` as JSON. */
export const CURRENT_ACCESS_ENV = "NFVKIT_CURRENT_ACCESS";

/** What CURRENT_ACCESS_ENV holds. */
export interface CurrentAccess {
    /** The stack whose config gave it: a provider serving another stack ignores it. */
    stack: string;
    /** SSH access by the pod spec's host name (an SshTarget's `name`). */
    hosts: Record<string, SshTarget>;
}

/** The environment entry for `hosts` of `stack`; none when no host is reached over SSH. */
export function currentAccessEnv(stack: string, hosts: Record<string, SshTarget>): Record<string, string> {
    if (Object.keys(hosts).length === 0) return {};
    return { [CURRENT_ACCESS_ENV]: JSON.stringify({ stack, hosts } satisfies CurrentAccess) };
}

/** True when two `access` inputs reach the host the same way (secrets compared by their values, in memory). */
export function sameAccess(a: HostTarget | undefined, b: HostTarget | undefined): boolean {
    return sameValue(revealSecrets(a), revealSecrets(b));
}

/** Two input values compared as data: the order of an object's keys, and an absent key against `undefined`, do not count. */
export function sameValue(a: unknown, b: unknown): boolean {
    const sort = (x: unknown): unknown =>
        Array.isArray(x)
            ? x.map(sort)
            : x && typeof x === "object"
              ? Object.fromEntries(
                    Object.entries(x as Record<string, unknown>)
                        .filter(([, y]) => y !== undefined)
                        .sort(([k], [l]) => k.localeCompare(l))
                        .map(([k, y]) => [k, sort(y)]),
                )
              : x;
    return JSON.stringify(sort(a ?? null)) === JSON.stringify(sort(b ?? null));
}

/** The engine's secret envelope (the SDK's specialSigKey / specialSecretSig), so a key taken from the environment stays a secret wherever it goes. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * The access a resource of `stack` should use now: the stack's current access
 * for the same host when the environment gives one, else the stored one. Only
 * an SSH access is swapped (a local host has nothing to rotate), only for the
 * host it names, and the key is wrapped as a secret.
 */
export function newestAccess(stored: HostTarget | undefined, stack: string, env: NodeJS.ProcessEnv = process.env): HostTarget | undefined {
    const raw = env[CURRENT_ACCESS_ENV];
    // The state keeps the whole access as one secret (the program hands it over as an Output holding a secret): opened here only to read its kind and host.
    const open = revealSecrets(stored);
    if (!raw || !open || open.kind !== "ssh") return stored;
    let current: CurrentAccess;
    try {
        current = JSON.parse(raw) as CurrentAccess;
    } catch {
        return stored;
    }
    const host = open.name ?? open.host;
    const now = current.stack === stack ? current.hosts?.[host] : undefined;
    if (!now || now.kind !== "ssh") return stored;
    return now.privateKey === undefined ? now : ({ ...now, privateKey: { [SECRET_SIG_KEY]: SECRET_SIG, value: now.privateKey } } as unknown as SshTarget);
}
