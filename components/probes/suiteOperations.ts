/**
 * The ProbeSuite dynamic resource's work: run the suite after deploy, judge
 * it, write the reports, and fail the operation (so `pulumi up` fails) when
 * the gate enforces and a target was missed. Any change of its inputs (a
 * guest replaced, a target or setting changed) runs the suite again.
 * The Operations of the nfvkit provider's ProbeSuite.
 */
import type * as provider from "@pulumi/pulumi/provider";
import * as path from "node:path";
import { revealSecrets, virshUriOf } from "../host/access";
import { guestShell } from "../libvirt/guestAgent";
import { parseBaseline, type Baseline } from "./baseline";
import { writeResults, type ResultFiles } from "./resultsWriter";
import { runInterVm, type InterVmLinkView } from "./interVmRunner";
import { onInterrupt } from "./interruption";
import { withInterVm } from "./interVmVerdict";
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
    /**
     * Directory the reports are written to, on the machine running pulumi.
     * Relative paths are taken from the project folder, so the state names no checkout.
     */
    resultsDir: string;
    /** Notes carried into the reports, e.g. "TCG: ..." per host. */
    notes: string[];
    /** Failed host readiness checks, one line each (see host/readiness.ts). */
    hostUnready: string[];
    /** The pod's links as the inter-VM probe sees them (placement, backing file). @default [] */
    links?: InterVmLinkView[];
    /** Host path of nfvkit-ring from the guest image, for the inter-VM probe's host limit. */
    ringTool?: string;
}

export interface ProbeSuiteOutputs extends ProbeSuiteInputs {
    pass: boolean;
    failures: string[];
    checks: Pick<Check, "guest" | "probe" | "name" | "statistic" | "measuredUs" | "pass">[];
    files: ResultFiles;
    suiteSeconds: number;
}

export async function check(_olds: ProbeSuiteInputs, news: ProbeSuiteInputs): Promise<provider.CheckResult> {
    return { inputs: news };
}

export async function diff(_id: string, olds: ProbeSuiteOutputs, news: ProbeSuiteInputs): Promise<provider.DiffResult> {
    const keys: (keyof ProbeSuiteInputs)[] = [
        "guests",
        "guestIds",
        "config",
        "targets",
        "gate",
        "resultsDir",
        "title",
        "notes",
        "hostUnready",
        "links",
        "ringTool",
    ];
    const replaces = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes: replaces.length > 0, replaces };
}

export async function create(given: ProbeSuiteInputs): Promise<provider.CreateResult> {
    // A pod with an SSH host hands its guests list over as one secret (an element carries the host's private key): open it.
    const inputs = revealSecrets(given);
    const hostUnready = inputs.hostUnready ?? [];
    if (inputs.config.hostGate === "enforce" && hostUnready.length > 0) {
        throw new Error(`host readiness gate failed:\n${hostUnready.map((l) => `  - ${l}`).join("\n")}\nSet probes.hostGate: report to probe anyway.`);
    }
    // A cancelled engine signals its plugins: the run then stops and its reports keep what was measured, marked partial.
    const interruption = onInterrupt(progress);
    let run;
    try {
        run = await runProbeSuite(
            inputs.guests,
            inputs.config,
            inputs.targets,
            async (g, script, timeoutMs) => guestShell(await virshUriOf(g.access, g.uri), g.domain, script, timeoutMs),
            progress,
            { signal: interruption.signal },
        );
    } finally {
        interruption.dispose();
    }
    // The inter-VM probe after the latency probes: both use the guests' real-time vCPUs.
    const interVm = await runInterVm(run.partial ? [] : (inputs.config.interVm ?? []), inputs.guests, inputs.links ?? [], {
        priority: inputs.config.priority,
        ringTool: inputs.ringTool,
        shell: (g, script, timeoutMs) => guestShell(g.uri, g.domain, script, timeoutMs),
        log: progress,
    });
    run.notes.push(...interVm.flatMap((r) => r.notes));
    const baseline = inputs.config.baseline ? await readBaseline(inputs.config.baseline) : undefined;
    const verdict = withInterVm(
        judge(run.results, inputs.targets, { gate: inputs.gate, baseline, regressionFactor: inputs.config.regressionFactor }),
        interVm,
        inputs.targets,
    );
    // The provider runs in the project folder (the engine starts plugins there).
    const files = relativeFiles(
        await writeResults(path.resolve(inputs.resultsDir), verdict, run, { title: inputs.title, notes: [...inputs.notes, ...hostUnready, ...run.notes] }),
    );
    if (run.partial) {
        throw new Error(`probe suite ${run.partial.reason}: the reports hold what was measured until then, marked partial: ${files.markdown}, ${files.json}`);
    }
    try {
        applyGate(verdict);
    } catch (err) {
        (err as Error).message += `\nReports: ${files.markdown}, ${files.json}, ${files.junit}`;
        throw err;
    }
    const checks = verdict.checks.map(({ guest, probe, name, statistic, measuredUs, pass }) => ({ guest, probe, name, statistic, measuredUs, pass }));
    return {
        id: `probes-${Date.now()}`,
        // The inputs as given, secrets still wrapped: the state must not hold the key in the clear.
        outs: { ...given, pass: verdict.pass, failures: verdict.failures, checks, files, suiteSeconds: run.seconds },
    };
}

/** The baseline report the stack names; relative paths are taken from the project folder, where the provider runs. */
export async function readBaseline(file: string): Promise<Baseline> {
    const { promises: fs } = await import("node:fs");
    let text: string;
    try {
        text = await fs.readFile(path.resolve(file), "utf8");
    } catch (err) {
        throw new Error(
            `probes.baseline ${file} cannot be read (${(err as Error).message}). Fix: name the probes.json of an earlier run, or remove the setting.`,
        );
    }
    return parseBaseline(text, file);
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
    return { ...files, json: rel(files.json), markdown: rel(files.markdown), junit: rel(files.junit), histograms: files.histograms.map(rel) };
}

/** Progress on the provider's stderr, which the engine shows while the step runs. */
function progress(line: string): void {
    process.stderr.write(`probes: ${line}\n`);
}
