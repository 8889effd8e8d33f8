/**
 * The probe settings as stack config gives them (`nfv-testpod:probes`,
 * `nfv-testpod:gate`), with defaults and all-at-once errors that name the
 * YAML path. Each kind reads its own keys (kinds/<kind>/, listed in
 * kinds/registry.ts); this adds `enabled`, refuses keys no kind reads, and
 * hands every kind the pod, so shape and cross-reference problems come out
 * in one pass. Pure.
 */
import { closestMatch } from "../spec/names";
import { ProblemListError, type SpecProblem } from "../spec/problems";
import type { ProbePodView } from "./kinds/podView";
import { PROBE_KINDS, type KindSettings } from "./kinds/registry";
import type { Gate } from "./verdict";

export type { LoadKind } from "./kinds/latency/config";
export { DEFAULT_INTER_VM_BURST } from "./kinds/interVm/config";

/** How the suite runs: `enabled`, and each kind's settings (see their `defaults`); every field has a default. */
export type ProbeSuiteConfig = {
    /**
     * Run the suite after deploy at all.
     * @default true: the gate is the point of a test pod.
     */
    enabled: boolean;
} & KindSettings;

export const DEFAULT_PROBE_SUITE: Readonly<ProbeSuiteConfig> = Object.freeze(
    Object.assign({ enabled: true }, ...PROBE_KINDS.map((k) => k.defaults)) as ProbeSuiteConfig,
);

/** Merges stack config over the defaults. Throws one ProblemListError ("probe settings") listing every problem. */
export function resolveProbeSuiteConfig(raw: unknown, path = "nfv-testpod:probes", pod?: ProbePodView): ProbeSuiteConfig {
    const checked = checkProbeSuiteConfig(raw, path, pod);
    if (!checked.config) throw new ProblemListError(checked.problems, "probe settings");
    return checked.config;
}

/**
 * As `resolveProbeSuiteConfig`, without throwing: the settings when there is
 * no problem, and every problem. With `pod`, each kind also checks its
 * settings against it (guests, hosts, links, placements), in the same pass.
 */
export function checkProbeSuiteConfig(raw: unknown, path = "nfv-testpod:probes", pod?: ProbePodView): { config?: ProbeSuiteConfig; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
        problems.push({ path, value: raw, reason: "must be a mapping", fix: 'write e.g. "durationSec: 10" under it' });
        return { problems };
    }
    const given = (raw ?? {}) as Record<string, unknown>;
    const known = ["enabled", ...PROBE_KINDS.flatMap((k) => Object.keys(k.defaults))];
    for (const key of Object.keys(given)) {
        if (known.includes(key)) continue;
        const guess = closestMatch(key, known);
        problems.push({
            path: `${path}.${key}`,
            value: given[key],
            reason: "is not a probe setting",
            fix: guess ? `did you mean "${guess}"?` : `use one of ${known.join(", ")}`,
        });
    }
    const resolved: Record<string, unknown> = { enabled: true };
    if (given.enabled !== undefined) {
        if (typeof given.enabled === "boolean") resolved.enabled = given.enabled;
        else problems.push({ path: `${path}.enabled`, value: given.enabled, reason: "must be true or false", fix: "write true or false (without quotes)" });
    }
    // In the registry's order: a kind may take a default from one before it (the inter-VM duration from the latency probes').
    for (const kind of PROBE_KINDS) {
        const checked = kind.check(given, { path, resolved: resolved as Partial<ProbeSuiteConfig>, pod });
        problems.push(...checked.problems);
        Object.assign(resolved, checked.settings);
    }
    return problems.length > 0 ? { problems } : { config: resolved as unknown as ProbeSuiteConfig, problems };
}

/** `nfv-testpod:gate`: enforce (a missed target fails `pulumi up`) or report. */
export function resolveGate(raw: unknown, path = "nfv-testpod:gate"): Gate {
    const checked = checkGate(raw, path);
    if (!checked.gate) throw new ProblemListError(checked.problems, "probe settings");
    return checked.gate;
}

/** As `resolveGate`, without throwing. */
export function checkGate(raw: unknown, path = "nfv-testpod:gate"): { gate?: Gate; problems: SpecProblem[] } {
    if (raw === undefined || raw === null) return { gate: "enforce", problems: [] };
    if (raw === "enforce" || raw === "report") return { gate: raw, problems: [] };
    return { problems: [{ path, value: raw, reason: "is not a gate", fix: 'write "enforce" (a missed target fails pulumi up) or "report"' }] };
}
