/**
 * The inputs `pulumi up` recorded for a stack's ProbeSuite, read back from
 * the stack's exported state (`pulumi stack export --show-secrets`), so that
 * `npm run probe` runs the pipeline on exactly what `up` ran: the same
 * guests, hosts and their pinned access, settings, targets, gate and planned
 * migrations. The private keys in it are opened in memory only, never
 * written anywhere.
 */
import { revealSecrets } from "../host/access/inputs";
import { problemError } from "../spec/problems";
import { tokens } from "../tokens";
import type { ProbeSuiteInputs } from "./inputs";

/**
 * The ProbeSuite's inputs from `pulumi stack export --show-secrets` output
 * (parsed). A stack with none to run is a ProblemListError at `--stack`, with
 * the fix.
 */
export function recordedProbeSuiteInputs(exported: unknown, stack: string): ProbeSuiteInputs {
    const refuse = (reason: string, fix: string) => problemError(`stack ${stack}`, "--stack", stack, reason, fix);
    const resources = (exported as { deployment?: { resources?: { type?: string; urn?: string; inputs?: unknown }[] } })?.deployment?.resources ?? [];
    const suites = resources.filter((r) => r.type === tokens.probeSuite);
    if (suites.length === 0) throw refuse("has no probe suite in its state", `bring the pod up with probes enabled first (npm run up -- --stack ${stack})`);
    if (suites.length > 1)
        throw refuse(
            `has ${suites.length} probe suites (${suites.map((s) => s.urn).join(", ")})`,
            "npm run probe runs one pod's: keep one pod with probes in the stack",
        );
    const inputs = revealSecrets(suites[0].inputs) as Partial<ProbeSuiteInputs>;
    if (!Array.isArray(inputs.hosts) || typeof inputs.kinds !== "object" || inputs.kinds === null) {
        throw refuse("has a probe suite recorded by an earlier version of the kit", `run npm run up -- --stack ${stack} once, then this again`);
    }
    return inputs as ProbeSuiteInputs;
}
