/**
 * How a provider resource names the host it acts on: an `access` input that
 * is a HostTarget (absent: this machine, whose libvirt the resource's `uri`
 * names). The SSH private key in it is a Pulumi secret, which reaches the
 * provider wrapped in the engine's secret envelope; it is unwrapped here and
 * nowhere else.
 */
import { problemError } from "../../spec/problems";
import { hostAccess } from "./factory";
import type { HostTarget } from "./target";
import type { HostAccess } from "./types";

/** The engine's marker of a secret value in provider inputs (the Pulumi SDK's `specialSigKey` / `specialSecretSig`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/**
 * The value with every secret envelope opened, in memory: the provider's
 * (`value`) and a stack export's (`plaintext`, the value as JSON, which
 * `pulumi stack export --show-secrets` writes). An export's `ciphertext`
 * cannot be opened here: it is refused, with the fix.
 */
export function revealSecrets<T>(value: T): T {
    if (Array.isArray(value)) return value.map(revealSecrets) as T;
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG_KEY] === SECRET_SIG) {
            if (typeof record.plaintext === "string") return revealSecrets(JSON.parse(record.plaintext)) as T;
            if ("value" in record) return revealSecrets(record.value) as T;
            throw problemError("stack export", "", undefined, "holds encrypted secrets", "export it with --show-secrets");
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, revealSecrets(v)])) as T;
    }
    return value;
}

/**
 * The HostAccess of a resource's `access` input. Without one, the resource
 * acts on this machine, whose libvirt `uri` names (qemu:///system, or the test
 * driver); a remote `uri` without access is refused, never reached with the
 * user's own ssh setup.
 */
export function accessOf(access: HostTarget | undefined, uri?: string): HostAccess {
    return hostAccess(access ? revealSecrets(access) : { kind: "local", ...(uri !== undefined ? { libvirtUri: uri } : {}) });
}
