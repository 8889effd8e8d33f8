/**
 * The part of `npm run probe` after the stack is read: run the suite with
 * progress on the console, stop cleanly on SIGINT/SIGTERM (what was measured
 * is kept, marked partial), judge, write the reports. Kept apart from the
 * stack reading so the interruption path can be exercised against any guest.
 */
import { guestShell } from "../../components/libvirt/guestAgent";
import { onInterrupt } from "../../components/probes/interruption";
import { writeResults, type ResultFiles } from "../../components/probes/resultsWriter";
import { runProbeSuite, type LongRunOptions, type ProbeGuest } from "../../components/probes/runner";
import { readBaseline } from "../../components/probes/suiteOperations";
import type { ProbeSuiteConfig } from "../../components/probes/suiteConfig";
import type { Targets } from "../../components/probes/targets";
import { judge, type Gate, type Verdict } from "../../components/probes/verdict";

export interface ProbeRunRequest {
    title: string;
    guests: ProbeGuest[];
    suite: ProbeSuiteConfig;
    targets: Targets;
    gate: Gate;
    /** Where the reports go. */
    resultsDir: string;
    notes: string[];
    /** Chunking and heartbeat; the signal is the run's own. */
    longRun?: Omit<LongRunOptions, "signal">;
    /**
     * Probes that run after the latency suite and add to its verdict (the
     * live-migration probe): they move guests, so they come last, and not at
     * all when the run was interrupted.
     */
    after?: (verdict: Verdict, log: (line: string) => void) => Promise<Verdict>;
}

export interface ProbeRunOutcome {
    verdict: Verdict;
    files: ResultFiles;
    /** 130 / 143 when interrupted by SIGINT / SIGTERM, else 1 for an enforced failed gate, else 0. */
    exitCode: number;
}

/** Every console line carries the time, so a reader of a long run's log sees when each figure came. */
export function stamped(line: string): void {
    console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
}

export async function probeAndReport(req: ProbeRunRequest): Promise<ProbeRunOutcome> {
    const interruption = onInterrupt(stamped);
    try {
        stamped(`probing ${req.guests.length} guest(s) of ${req.title}: ${req.suite.probes.join(", ")}, ${req.suite.durationSec} s each`);
        const run = await runProbeSuite(
            req.guests,
            req.suite,
            req.targets,
            (g, script, timeoutMs) => guestShell(g.uri, g.domain, script, timeoutMs),
            (line) => stamped(`  ${line}`),
            { ...req.longRun, signal: interruption.signal },
        );
        const baseline = req.suite.baseline ? await readBaseline(req.suite.baseline) : undefined;
        let verdict = judge(run.results, req.targets, { gate: req.gate, baseline, regressionFactor: req.suite.regressionFactor });
        if (req.after && !run.partial) verdict = await req.after(verdict, (line) => stamped(`  ${line}`));
        const files = await writeResults(req.resultsDir, verdict, run, { title: req.title, notes: [...req.notes, ...run.notes] });
        if (run.partial) stamped(`PARTIAL RUN (${run.partial.reason}): the reports hold what was measured until then`);
        console.log(`\n${verdict.pass ? "all targets met" : verdict.failures.map((f) => `missed: ${f}`).join("\n")}`);
        console.log(`\nreports: ${files.markdown}\n         ${files.json}\n         ${files.junit}\n         ${files.histograms.join("\n         ")}`);
        const exitCode = interruption.exitCode() ?? (req.gate === "enforce" && !verdict.pass ? 1 : 0);
        return { verdict, files, exitCode };
    } finally {
        interruption.dispose();
    }
}
