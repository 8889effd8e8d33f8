/**
 * The latency kind in the reports: its Markdown sections (cross-checks,
 * percentiles per series, tool versions and commands), its keys in
 * probes.json (every run's series with histograms, the cross-checks, the
 * baseline, the tool runs), the tool versions and commands as JUnit suite
 * properties, and one SVG histogram per guest × tool (timerlat: IRQ and
 * thread apart).
 */
import { histogramSvg } from "../../reports/svg";
import { formatPercentile, mergeStats } from "../../stats";
import { formatNumber, type Verdict } from "../../verdict";
import { crossChecks } from "./crossCheck";
import type { LatencySection, ProbeKind, ProbeResult, SeriesKind } from "./types";
import { METRIC_RULES } from "./verdict";

export function latencyMarkdown(section: LatencySection): string {
    const out: string[] = [];
    if (section.baseline) {
        out.push("", `Baseline: ${cell(section.baseline.source)}; a figure worse by more than ${section.baseline.regressionFactor}× fails its check.`);
    }
    const cross = crossChecks(section.results, section.crossCheckFactor);
    if (cross.length > 0) out.push("", "### Cross-checks", "", ...cross.map((c) => `- ${c.agree ? "✅" : "⚠️"} ${c.note}`));
    out.push("", "### Percentiles", "", "| Guest | Probe | Series | Samples | Expected | p99 | p99.9 | Max |", "|---|---|---|---|---|---|---|---|");
    for (const { guest, result } of section.results) {
        for (const s of result.series) {
            out.push(
                `| ${cell(guest)} | ${result.probe} | ${cell(s.label)} | ${s.stats.samples} | ${s.stats.expectedSamples ?? "—"} | ${cell(formatPercentile(s.stats, "p99"))} | ${cell(formatPercentile(s.stats, "p999"))} | ${s.stats.maxUs === null ? "n/a" : `${formatNumber(s.stats.maxUs)} µs`} |`,
            );
        }
    }
    out.push("", "### Tools", "", "| Guest | Probe | Version | Command |", "|---|---|---|---|");
    for (const { guest, result } of section.results) {
        out.push(`| ${cell(guest)} | ${result.probe} | ${cell(result.version ?? "unknown")} | ${result.command ? code(result.command) : "unknown"} |`);
    }
    return out.join("\n") + "\n";
}

/** Its keys in probes.json: `runs` (every run's series with histograms), `crossChecks`, `baseline`, `toolRuns`. */
export function latencyJson(section: LatencySection): Record<string, unknown> {
    return {
        runs: section.results.map(({ guest, result }) => ({
            guest,
            probe: result.probe,
            version: result.version,
            command: result.command,
            noSamples: result.noSamples,
            // An interrupted run: its figures cover only what was measured.
            ...(result.partial ? { partial: result.partial } : {}),
            series: result.series,
        })),
        crossChecks: crossChecks(section.results, section.crossCheckFactor),
        ...(section.baseline ? { baseline: { source: section.baseline.source, regressionFactor: section.baseline.regressionFactor } } : {}),
        toolRuns: section.runs,
    };
}

/** A guest's tool versions and command lines, for its JUnit test suite. */
export function latencyJunitProperties(section: LatencySection, guest: string): { name: string; value: string }[] {
    return section.results
        .filter((r) => r.guest === guest)
        .flatMap(({ result }) => [
            { name: `${result.probe}.version`, value: result.version ?? "unknown" },
            { name: `${result.probe}.command`, value: result.command ?? "unknown" },
        ]);
}

/** Which series each probe's charts show, and how they are titled: timerlat's IRQ and thread latencies apart. */
const CHART_SERIES: Record<ProbeKind, { series: SeriesKind; what: string; suffix: string }[]> = {
    cyclictest: [{ series: "timer", what: "timer latency", suffix: "" }],
    timerlat: [
        { series: "irq", what: "interrupt latency (timerlat IRQ)", suffix: "" },
        { series: "thread", what: "thread latency (timerlat thread)", suffix: "-thread" },
    ],
    oslat: [{ series: "loop", what: "busy-loop stalls", suffix: "" }],
    osnoise: [{ series: "single-noise", what: "single preemptions", suffix: "" }],
};

/** A chart ready to be written: the caller picks the directory. */
export interface HistogramFile {
    guest: string;
    probe: ProbeKind;
    /** Safe file name, e.g. `vnf-a-cyclictest.svg`. */
    fileName: string;
    svg: string;
}

/** One chart per guest × probe in the verdict, all CPUs of the probe merged. */
export function histogramSvgs(verdict: Verdict): HistogramFile[] {
    return (verdict.sections.latency?.results ?? []).flatMap(({ guest, result }) =>
        CHART_SERIES[result.probe].map((pick) => chartFor(verdict, guest, result, pick)),
    );
}

function chartFor(verdict: Verdict, guest: string, result: ProbeResult, pick: { series: SeriesKind; what: string; suffix: string }): HistogramFile {
    {
        const picked = result.series.filter((s) => s.kind === pick.series);
        // osnoise: the hist run's series carry the distribution; top's count periods, not noises, and have no buckets.
        const withBuckets = picked.filter((s) => s.stats.histogram.length > 0);
        const stats = mergeStats((withBuckets.length > 0 ? withBuckets : picked).map((s) => s.stats));
        // The max-based rule is the one a histogram can show; the timerlat thread has no target of its own.
        const rule = METRIC_RULES[result.probe].find((r) => r.statistic === "max" && r.series === pick.series);
        // The timerlat thread times what cyclictest times (timer expiry to the woken thread running, see crossCheck.ts):
        // its chart shows the timer latency target, when the verdict has one.
        const check =
            verdict.checks.find((c) => c.guest === guest && c.probe === result.probe && c.metric === rule?.metric) ??
            (pick.series === "thread" ? verdict.checks.find((c) => c.guest === guest && c.metric === "timer.maxUs") : undefined);
        const emptyNote = result.noSamples ?? (result.probe === "osnoise" ? "rtla osnoise top records no histogram, and osnoise hist gave none" : undefined);
        const partial = result.partial ? ` (partial: ${result.partial.measuredSec} of ${result.partial.plannedSec} s, ${result.partial.reason})` : "";
        return {
            guest,
            probe: result.probe,
            fileName: `${guest}-${result.probe}${pick.suffix}.svg`.replace(/[^A-Za-z0-9._-]/g, "_"),
            svg: histogramSvg({ title: `${result.probe} ${pick.what} on ${guest}${partial}`, stats, target: check?.target, emptyNote }),
        };
    }
}

/** Pipes would end the table cell; line breaks would end the row. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A code span that survives backticks inside the command. */
function code(text: string): string {
    const body = cell(text);
    const fence = body.includes("`") ? "``" : "`";
    return `${fence}${fence === "``" ? " " : ""}${body}${fence === "``" ? " " : ""}${fence}`;
}
