/**
 * The ProbeSuite dynamic resource's work: run the suite after deploy, judge
 * it, write the reports, and fail the operation (so `pulumi up` fails) when
 * the gate enforces and a target was missed. Any change of its inputs (a
 * guest replaced, a target or setting changed) runs the suite again.
 * Loaded by providerShell; no module-level state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { guestShell } from "../libvirt/guestAgent";
import { writeResults, type ResultFiles } from "./resultsWriter";
import { runProbeSuite, type ProbeGuest } from "./runner";
import type { ProbeSuiteConfig } from "./suiteConfig";
import type { Targets } from "./targets";
import { applyGate, judge, type Check, type Gate } from "./verdict";

export interface ProbeSuiteInputs {
    /** Names results and reports, e.g. the stack. */
    title: string;
    guests: ProbeGuest[];
    /** Domain UUIDs of the guests: a replaced guest is probed again. */
    guestIds: string[];
    config: ProbeSuiteConfig;
    targets: Targets;
    gate: Gate;
    /** Directory the reports are written to (on the machine running pulumi). */
    resultsDir: string;
    /** Notes carried into the reports, e.g. "TCG: ..." per host. */
    notes: string[];
    /** Failed host readiness checks, one line each (see host/readiness.ts). */
    hostUnready: string[];
}

export interface ProbeSuiteOutputs extends ProbeSuiteInputs {
    pass: boolean;
    failures: string[];
    checks: Pick<Check, "guest" | "probe" | "name" | "statistic" | "measuredUs" | "pass">[];
    files: ResultFiles;
    suiteSeconds: number;
}

export async function check(_olds: ProbeSuiteInputs, news: ProbeSuiteInputs): Promise<pulumi.dynamic.CheckResult> {
    return { inputs: news };
}

export async function diff(_id: string, olds: ProbeSuiteOutputs, news: ProbeSuiteInputs): Promise<pulumi.dynamic.DiffResult> {
    const keys: (keyof ProbeSuiteInputs)[] = ["guests", "guestIds", "config", "targets", "gate", "resultsDir", "title", "notes", "hostUnready"];
    const replaces = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: replaces.length > 0, replaces };
}

export async function create(inputs: ProbeSuiteInputs): Promise<pulumi.dynamic.CreateResult<ProbeSuiteOutputs>> {
    const hostUnready = inputs.hostUnready ?? [];
    if (inputs.config.hostGate === "enforce" && hostUnready.length > 0) {
        throw new Error(`host readiness gate failed:\n${hostUnready.map((l) => `  - ${l}`).join("\n")}\nSet probes.hostGate: report to probe anyway.`);
    }
    const run = await runProbeSuite(
        inputs.guests,
        inputs.config,
        inputs.targets,
        (g, script, timeoutMs) => guestShell(g.uri, g.domain, script, timeoutMs),
        progress,
    );
    const verdict = judge(run.results, inputs.targets, { gate: inputs.gate });
    const files = await writeResults(inputs.resultsDir, verdict, run, { title: inputs.title, notes: [...inputs.notes, ...hostUnready, ...run.notes] });
    try {
        applyGate(verdict);
    } catch (err) {
        (err as Error).message += `\nReports: ${files.markdown}, ${files.json}, ${files.junit}`;
        throw err;
    }
    const checks = verdict.checks.map(({ guest, probe, name, statistic, measuredUs, pass }) => ({ guest, probe, name, statistic, measuredUs, pass }));
    return {
        id: `probes-${Date.now()}`,
        outs: { ...inputs, pass: verdict.pass, failures: verdict.failures, checks, files, suiteSeconds: run.seconds },
    };
}

export async function deleteSuite(): Promise<void> {
    // Nothing to remove on a host: the reports stay for people to read.
}
export { deleteSuite as delete };

/** Progress on the provider's stderr, which the engine shows while the step runs. */
function progress(line: string): void {
    process.stderr.write(`probes: ${line}\n`);
}
