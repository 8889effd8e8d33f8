/**
 * The part of `npm run probe` after the stack's recorded inputs are read:
 * the probe pipeline (components/probes/pipeline.ts, the one `pulumi up`'s
 * ProbeSuite runs) with progress on the console, every line stamped with
 * the time; SIGINT/SIGTERM stop it cleanly (what was measured is kept,
 * marked partial); the same gate decides the exit code. Kept apart from the
 * stack reading so the interruption path can be exercised against any guest.
 */
import * as path from "node:path";
import { compareRuns, formatComparison, resolveRunRef, runFromHistory, type RunFigures } from "../../components/probes/compare";
import { readHistory } from "../../components/probes/history";
import type { ProbeSuiteInputs } from "../../components/probes/inputs";
import { onInterrupt } from "../../components/probes/interruption";
import { runProbePipeline, type PipelineEnv } from "../../components/probes/pipeline";
import type { ResultFiles } from "../../components/probes/resultsWriter";
import { applyGate, type Verdict } from "../../components/probes/verdict";

export interface ProbeRunOutcome {
    verdict: Verdict;
    files: ResultFiles;
    /** 130 / 143 when interrupted by SIGINT / SIGTERM, else 1 when the gate failed (as `pulumi up` would), else 0. */
    exitCode: number;
}

/** Every console line carries the time, so a reader of a long run's log sees when each figure came. */
export function stamped(line: string): void {
    console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

export interface ProbeRunOptions {
    /** `--compare <run or file>`: print this run's changes against that run (compare.ts). */
    compare?: string;
}

export async function probeAndReport(
    inputs: ProbeSuiteInputs,
    env: Pick<PipelineEnv, "longRun" | "projectDir"> = {},
    opts: ProbeRunOptions = {},
): Promise<ProbeRunOutcome> {
    const projectDir = env.projectDir ?? process.cwd();
    const historyFile = path.resolve(projectDir, inputs.resultsDir, "history.jsonl");
    // The run compared with is found before probing: a name that matches nothing fails now, not after the probes.
    const before: RunFigures | undefined = opts.compare !== undefined ? await resolveRunRef(opts.compare, historyFile, projectDir) : undefined;
    const interruption = onInterrupt(stamped);
    try {
        stamped(`probing ${inputs.guests.length} guest(s) of ${inputs.title}`);
        const outcome = await runProbePipeline(inputs, { ...env, log: (line) => stamped(`  ${line}`), signal: interruption.signal });
        const { verdict, files } = outcome;
        if (outcome.partial) stamped(`PARTIAL RUN (${outcome.partial.reason}): the reports hold what was measured until then`);
        console.log(`\n${verdict.pass ? "all targets met" : verdict.failures.map((f) => `missed: ${f}`).join("\n")}`);
        let gateFailed = false;
        try {
            applyGate(verdict);
        } catch (err) {
            gateFailed = true;
            console.log(`\n${(err as Error).message}`);
        }
        console.log(
            `\nreports: ${files.markdown}\n         ${files.html}\n         ${files.json}\n         ${files.junit}\n         ${files.history}\n         ${files.histograms.join("\n         ")}`,
        );
        if (before) {
            const { runs } = await readHistory(files.history);
            const after = runFromHistory(runs[runs.length - 1]);
            console.log(`\n${formatComparison(before, { ...after, label: `this ${after.label}` }, compareRuns(before, after))}`);
        }
        return { verdict, files, exitCode: interruption.exitCode() ?? (gateFailed ? 1 : 0) };
    } finally {
        interruption.dispose();
    }
}
