/**
 * The latency kind: cyclictest, rtla timerlat and osnoise, and oslat inside
 * each guest on its real-time vCPUs (docs/probes.md "The probes and what
 * they hold to"), in chunks with progress for long runs, cut short and kept
 * on an interruption, judged against the timer, interrupt and preemption
 * targets, cross-checked, and compared with a baseline when the stack names one.
 */
import { existsSync } from "node:fs";
import * as path from "node:path";
import { BASELINE_SETTING, parseBaseline, type Baseline, type BaselineSetting } from "../../baseline";
import { HISTORY_FILE, medianBaseline, readHistory, shownPath } from "../../history";
import { problemError } from "../../../spec/problems";
import { formatTarget } from "../../verdict";
import type { ProbeKindModule } from "../kind";
import { checkLatencySettings, LATENCY_DEFAULTS, type LatencySettings } from "./config";
import { histogramSvgs, latencyJson, latencyJunitProperties, latencyMarkdown } from "./report";
import { latencyHtml } from "./html";
import { runProbeSuite } from "./run";
import { DEFAULT_CROSS_CHECK_FACTOR } from "./crossCheck";
import type { LatencySection } from "./types";
import { judgeLatency, METRIC_RULES } from "./verdict";

/** The latency section with the baseline's checks, which only the judge reads. */
type RunSection = LatencySection & { baselineChecks?: Baseline["checks"] };

export const latency: ProbeKindModule<"latency", LatencySettings, LatencySection> = {
    name: "latency",
    defaults: LATENCY_DEFAULTS,
    check: (given, ctx) => checkLatencySettings(given, ctx.path),
    named: (config) => config.probes.length > 0,
    async run(ctx) {
        const { config } = ctx;
        ctx.log(`latency: ${config.probes.join(", ")} for ${config.durationSec} s each in ${ctx.guests.length} guest(s)`);
        const run = await runProbeSuite(ctx.guests, config, ctx.targets, ctx.shell, ctx.log, { ...ctx.longRun, signal: ctx.signal });
        const baseline = config.baseline ? await readBaseline(config.baseline, ctx.resultsDir) : undefined;
        const section: RunSection = {
            ...run,
            crossCheckFactor: DEFAULT_CROSS_CHECK_FACTOR,
            ...(baseline ? { baseline: { source: baseline.source, regressionFactor: config.regressionFactor }, baselineChecks: baseline.checks } : {}),
        };
        return section;
    },
    judge(section, ctx) {
        const { baselineChecks } = section as RunSection;
        const judged = judgeLatency(section.results, ctx.targets, {
            baseline: section.baseline && baselineChecks ? { source: section.baseline.source, checks: baselineChecks } : undefined,
            regressionFactor: ctx.config.regressionFactor,
            crossCheckFactor: section.crossCheckFactor,
        });
        return { checks: judged.checks, notes: [...section.notes, ...judged.notes] };
    },
    preview(config, targets, plan) {
        const probed = plan.guests.filter((g) => g.probe.rtVcpus.cpus.length > 0);
        return {
            summary:
                probed.length > 0 ? `${config.probes.join(", ")} on ${probed.map((g) => g.name).join(", ")}` : "no guest has an RT vCPU, nothing to measure",
            rows: probed.flatMap((g) =>
                config.probes.flatMap((probe) =>
                    METRIC_RULES[probe].map((rule) => ({
                        probe,
                        where: `${g.name} (vCPU ${[...g.probe.rtVcpus.cpus].join(",")})`,
                        metric: `${rule.name(targets)} (${rule.statistic})`,
                        target: formatTarget(rule.bound(targets)),
                    })),
                ),
            ),
        };
    },
    partial: (section) =>
        section.partial && {
            ...section.partial,
            runs: section.results
                .filter((r) => r.result.partial)
                .map((r) => `${r.guest} ${r.result.probe}: ${r.result.partial!.measuredSec} of ${r.result.partial!.plannedSec} s`),
        },
    report: {
        markdown: (section) => latencyMarkdown(section),
        json: (section) => latencyJson(section),
        charts: (_section, verdict) => histogramSvgs(verdict),
        junitProperties: latencyJunitProperties,
        html: (section, _verdict, charts) => latencyHtml(section, charts),
    },
};

/**
 * The baseline the stack names: a report, or the median of the last accepted runs of a history
 * (this stack's, in `resultsDir`, unless it names one). Relative paths are taken from the project
 * folder, where the provider and `npm run probe` run.
 */
export async function readBaseline(setting: BaselineSetting, resultsDir: string): Promise<Baseline> {
    if (typeof setting !== "string") {
        const file = setting.file ? path.resolve(setting.file) : path.join(resultsDir, HISTORY_FILE);
        // The stack's own history is missing before its first run; a history the stack names must be there.
        if (setting.file && !existsSync(file)) {
            throw problemError(
                "probe settings",
                `${BASELINE_SETTING}.file`,
                setting.file,
                "names a history that does not exist",
                "name the history.jsonl of a stack that has run its probes, or leave file out for this stack's own",
            );
        }
        const { runs } = await readHistory(file);
        return medianBaseline(runs, setting.history, shownPath(file));
    }
    const file = setting;
    const { promises: fs } = await import("node:fs");
    let text: string;
    try {
        text = await fs.readFile(path.resolve(file), "utf8");
    } catch (err) {
        throw problemError(
            "probe settings",
            BASELINE_SETTING,
            file,
            `names a file that cannot be read (${(err as Error).message})`,
            "name the probes.json of an earlier run, or remove the setting",
        );
    }
    return parseBaseline(text, file);
}
