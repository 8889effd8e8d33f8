/**
 * The Operations of the nfvkit provider's ProbeSuite: after deploy, run the
 * probe pipeline (pipeline.ts: every kind the stack names), write the
 * reports, and fail the operation (so `pulumi up` fails) when the gate
 * enforces and a target was missed. Any change of its inputs (a guest
 * replaced, a target or setting changed) runs it again.
 */
import type * as provider from "@pulumi/pulumi/provider";
import * as path from "node:path";
import { writeToStderr } from "../progress";
import { sameAccess } from "../host/access/currentAccess";
import { revealSecrets } from "../host/access/inputs";
import type { HostTarget } from "../host/access/target";
import type { OperationContext } from "../types/operations";
import type { ProbeSuiteInputs } from "./inputs";
import { onInterrupt } from "./interruption";
import { runProbePipeline } from "./pipeline";
import type { ResultFiles } from "./resultsWriter";
import { applyGate, type Check } from "./verdict";

export type { ProbeSuiteInputs } from "./inputs";

export interface ProbeSuiteOutputs extends ProbeSuiteInputs {
    pass: boolean;
    failures: string[];
    checks: Pick<Check, "guest" | "probe" | "name" | "statistic" | "measuredUs" | "pass">[];
    files: ResultFiles;
    suiteSeconds: number;
}

const INPUT_KEYS: (keyof ProbeSuiteInputs)[] = ["guests", "guestIds", "config", "targets", "gate", "resultsDir", "title", "notes", "hosts", "kinds"];

export async function check(_olds: ProbeSuiteInputs, news: ProbeSuiteInputs): Promise<provider.CheckResult> {
    return { inputs: news };
}

export async function diff(_id: string, olds: ProbeSuiteOutputs, news: ProbeSuiteInputs): Promise<provider.DiffResult> {
    // A host's new access (a rotated key, a re-pinned host) is no reason to measure again: an update records it.
    // A list holding a secret (a host's key) may come from the state as one secret as a whole: compared opened, in memory.
    const [was, is] = [revealSecrets(olds), revealSecrets(news)];
    const replaces = INPUT_KEYS.filter((k) => JSON.stringify(withoutAccess(was[k])) !== JSON.stringify(withoutAccess(is[k])));
    const accessChanged = ["guests", "hosts"].some((k) => !sameAccessLists(was[k as "guests"], is[k as "guests"]));
    return { changes: replaces.length > 0 || accessChanged, replaces };
}

/** The new access of the pod's hosts, recorded for `npm run probe` (which reads it from the state); nothing is run. */
export async function update(_id: string, olds: ProbeSuiteOutputs, news: ProbeSuiteInputs): Promise<provider.UpdateResult> {
    return { outs: { ...olds, guests: news.guests, hosts: news.hosts } };
}

/** The value with every `access` field taken out, to compare what the probes measure. */
function withoutAccess(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(withoutAccess);
    if (v && typeof v === "object")
        return Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
                .filter(([k]) => k !== "access")
                .map(([k, x]) => [k, withoutAccess(x)]),
        );
    return v;
}

function sameAccessLists(a: { access?: HostTarget }[] | undefined, b: { access?: HostTarget }[] | undefined): boolean {
    return (a ?? []).length === (b ?? []).length && (a ?? []).every((x, i) => sameAccess(x.access, b?.[i]?.access));
}

export async function create(given: ProbeSuiteInputs, ctx?: OperationContext): Promise<provider.CreateResult> {
    // Through the provider's Progress, which the engine shows on this resource's row while it runs.
    const progress = (line: string) => (ctx?.progress ? ctx.progress.say(line) : writeToStderr(`probes: ${line}`));
    // A cancelled engine signals its plugins: the run then stops and its reports keep what was measured, marked partial.
    const interruption = onInterrupt(progress);
    let outcome;
    try {
        // The provider runs in the project folder (the engine starts plugins there).
        outcome = await runProbePipeline(given, { log: progress, signal: interruption.signal });
    } finally {
        interruption.dispose();
    }
    const files = relativeFiles(outcome.files);
    try {
        applyGate(outcome.verdict, outcome.partial?.reason);
    } catch (err) {
        (err as Error).message += `\nReports: ${files.markdown}, ${files.json}, ${files.junit}, ${files.html}`;
        throw err;
    }
    const { verdict } = outcome;
    const checks = verdict.checks.map(({ guest, probe, name, statistic, measuredUs, pass }) => ({ guest, probe, name, statistic, measuredUs, pass }));
    return {
        id: `probes-${Date.now()}`,
        // The inputs as given, secrets still wrapped: the state must not hold the key in the clear.
        outs: { ...given, pass: verdict.pass, failures: verdict.failures, checks, files, suiteSeconds: outcome.seconds },
    };
}

/** A probe run is a record, not a thing on a host: what the state holds is the truth. */
export async function read(id: string, props: ProbeSuiteOutputs): Promise<provider.ReadResult> {
    return { id, props };
}

export async function deleteSuite(): Promise<void> {
    // Nothing to remove on a host: the reports stay for people to read.
}
export { deleteSuite as delete };

/** Report paths as the state keeps them: relative to the project folder, so any checkout finds them. */
function relativeFiles(files: ResultFiles): ResultFiles {
    const rel = (file: string) => (path.isAbsolute(file) && file.startsWith(process.cwd() + path.sep) ? path.relative(process.cwd(), file) : file);
    return {
        ...files,
        json: rel(files.json),
        markdown: rel(files.markdown),
        junit: rel(files.junit),
        html: rel(files.html),
        history: rel(files.history),
        histograms: files.histograms.map(rel),
    };
}
