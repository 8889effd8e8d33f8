/**
 * The inputs `pulumi up` recorded for a stack's ProbeSuite, read back from
 * the stack's exported state (`pulumi stack export --show-secrets`), so that
 * `npm run probe` runs the pipeline on exactly what `up` ran: the same
 * guests, hosts and their pinned access, settings, targets, gate and planned
 * migrations. The private keys in it are opened in memory only, never
 * written anywhere.
 */
import { tokens } from "../tokens";
import type { ProbeSuiteInputs } from "./inputs";

/** The engine's marker of a secret value (the Pulumi SDK's `specialSigKey` / `specialSecretSig`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** The ProbeSuite's inputs from `pulumi stack export --show-secrets` output (parsed). Throws with the fix when there is none to run. */
export function recordedProbeSuiteInputs(exported: unknown, stack: string): ProbeSuiteInputs {
    const resources = (exported as { deployment?: { resources?: { type?: string; urn?: string; inputs?: unknown }[] } })?.deployment?.resources ?? [];
    const suites = resources.filter((r) => r.type === tokens.probeSuite);
    if (suites.length === 0) {
        throw new Error(`stack ${stack} has no probe suite in its state: bring the pod up with probes enabled first (npm run up -- --stack ${stack})`);
    }
    if (suites.length > 1)
        throw new Error(`stack ${stack} has ${suites.length} probe suites (${suites.map((s) => s.urn).join(", ")}): npm run probe runs one pod's`);
    const inputs = openSecrets(suites[0].inputs) as Partial<ProbeSuiteInputs>;
    if (!Array.isArray(inputs.hosts) || typeof inputs.kinds !== "object" || inputs.kinds === null) {
        throw new Error(`stack ${stack}'s probe suite was recorded by an earlier version of the kit: run npm run up -- --stack ${stack} once, then this again`);
    }
    return inputs as ProbeSuiteInputs;
}

/** The value with every secret envelope of an export opened (`plaintext` holds the value as JSON); a `ciphertext` one means the export was not asked to show secrets. */
export function openSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(openSecrets);
    if (value && typeof value === "object") {
        const record = value as Record<string, unknown>;
        if (record[SECRET_SIG_KEY] === SECRET_SIG) {
            if (typeof record.plaintext === "string") return openSecrets(JSON.parse(record.plaintext));
            if ("value" in record) return openSecrets(record.value);
            throw new Error("the stack export holds encrypted secrets: export it with --show-secrets");
        }
        return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, openSecrets(v)]));
    }
    return value;
}
