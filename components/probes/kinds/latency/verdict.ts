/**
 * Judges the latency tools' results against the targets: one check per
 * guest × tool × metric, each with the measured figure, the target and its
 * operator; the cross-checks and sample shortfalls as notes; and, with a
 * baseline, each figure's change and a regression beyond the factor as a
 * failure. Pure.
 */
import { compareWithBaseline, DEFAULT_REGRESSION_FACTOR, describeChange, type Baseline, type MetricChange } from "../../baseline";
import type { Bound, Operator, Targets } from "../../targets";
import { satisfies } from "../../targets";
import { composeVerdict, failureMessage, formatNumber, type Check, type Gate, type KindVerdict, type MetricId, type Verdict } from "../../verdict";
import { crossChecks, DEFAULT_CROSS_CHECK_FACTOR, shortfallNotes } from "./crossCheck";
import type { GuestProbeResult, LatencySection, ProbeKind, SeriesKind } from "./types";

export interface JudgeOptions {
    /** @default "enforce": a missed target fails `pulumi up`, which is what a gate is for. */
    gate?: Gate;
    /** An earlier accepted run to compare with. @default none: no change column, no regression check. */
    baseline?: Baseline;
    /** Worse-by factor against the baseline that fails a check. @default 5 (see baseline.ts). */
    regressionFactor?: number;
    /** Disagreement factor of the cross-checks. @default 4 (see crossCheck.ts). */
    crossCheckFactor?: number;
}

interface MetricRule {
    metric: MetricId;
    series: SeriesKind;
    statistic: "avg" | "max";
    name: (t: Targets) => string;
    bound: (t: Targets) => Bound;
}

/** Which figures each probe yields and which target judges them. */
export const METRIC_RULES: Record<ProbeKind, MetricRule[]> = {
    cyclictest: [
        { metric: "timer.avgUs", series: "timer", statistic: "avg", name: () => "timer latency", bound: (t) => t.timer.avgUs },
        { metric: "timer.maxUs", series: "timer", statistic: "max", name: () => "timer latency", bound: (t) => t.timer.maxUs },
    ],
    timerlat: [{ metric: "interrupt.maxUs", series: "irq", statistic: "max", name: () => "interrupt latency", bound: (t) => t.interrupt.maxUs }],
    osnoise: [
        {
            metric: "preemption.maxSingleUs",
            series: "single-noise",
            statistic: "max",
            name: () => "longest preemption",
            bound: (t) => t.preemption.maxSingleUs,
        },
        {
            metric: "preemption.perWindowUs",
            series: "period-noise",
            statistic: "max",
            name: (t) => `cumulative preemption in ${windowWords(t.preemption.windowUs)}`,
            bound: (t) => t.preemption.perWindowUs,
        },
    ],
    // oslat's worst loop stall is the longest time the vCPU was taken away: the same figure as osnoise's single noise.
    oslat: [
        {
            metric: "preemption.maxSingleUs",
            series: "loop",
            statistic: "max",
            name: () => "longest preemption (oslat)",
            bound: (t) => t.preemption.maxSingleUs,
        },
    ],
};

/** The latency checks of every result, and the notes beside them. Never throws for a missed target. */
export function judgeLatency(results: GuestProbeResult[], targets: Targets, opts: JudgeOptions = {}): KindVerdict {
    const regressionFactor = opts.regressionFactor ?? DEFAULT_REGRESSION_FACTOR;
    const checks: Check[] = [];
    for (const { guest, result } of results) {
        for (const rule of METRIC_RULES[result.probe]) {
            const name = rule.name(targets);
            const target = rule.bound(targets);
            const base = { guest, probe: result.probe, metric: rule.metric, name, statistic: rule.statistic, target };
            const measured = result.series.filter((s) => s.kind === rule.series && s.stats.samples > 0);
            if (result.noSamples !== null || measured.length === 0) {
                const reason = result.noSamples ?? `${result.probe} printed no ${rule.series} measurements`;
                checks.push({ ...base, measuredUs: null, where: null, pass: false, message: `${name} on ${guest}: no samples (${reason})` });
                continue;
            }
            let worst: { value: number; where: string; samples: number } | null = null;
            for (const s of measured) {
                const v = rule.statistic === "avg" ? s.stats.avgUs : s.stats.maxUs;
                if (v !== null && (worst === null || worse(v, worst.value, target.op))) worst = { value: v, where: s.label, samples: s.stats.samples };
            }
            if (worst === null) {
                const message = `${name} on ${guest}: no ${rule.statistic} figure (${result.probe} did not report one)`;
                checks.push({ ...base, measuredUs: null, where: null, pass: false, message });
                continue;
            }
            const inTarget = satisfies(worst.value, target);
            const change = opts.baseline
                ? compareWithBaseline(
                      { guest, probe: result.probe, metric: rule.metric, measuredUs: worst.value, op: target.op },
                      opts.baseline,
                      regressionFactor,
                  )
                : undefined;
            const regressed = change?.regressed ?? false;
            const pass = inTarget && !regressed;
            checks.push({
                ...base,
                measuredUs: worst.value,
                where: worst.where,
                pass,
                message: !inTarget
                    ? failureMessage(name, guest, rule.statistic, worst.value, target)
                    : regressed
                      ? regressionMessage(name, guest, rule.statistic, change as MetricChange, regressionFactor)
                      : null,
                samples: worst.samples,
                // Only with a baseline: null then says it has no such figure.
                ...(change !== undefined ? { change } : {}),
            });
        }
    }
    const cross = crossChecks(results, opts.crossCheckFactor ?? DEFAULT_CROSS_CHECK_FACTOR);
    const notes = [...cross.filter((c) => !c.agree).map((c) => c.note), ...shortfallNotes(results)];
    return { checks, notes };
}

/** `timer latency on vnf-a: max 305961 µs regressed 24.8× against the baseline 12344 µs (limit 5×)`. */
export function regressionMessage(name: string, guest: string, statistic: string, change: MetricChange, factor: number): string {
    return `${name} on ${guest}: ${statistic} ${formatNumber(change.measuredUs)} µs regressed ${change.worseBy.toFixed(1)}× against the baseline ${formatNumber(change.baselineUs)} µs (limit ${factor}×, ${describeChange(change)})`;
}

function windowWords(us: number): string {
    return us % 1000 === 0 ? `${us / 1000} ms` : `${us} µs`;
}

/** For an upper bound the larger figure is worse; for a lower bound (≥, >) the smaller one. */
function worse(candidate: number, current: number, op: Operator): boolean {
    return op === "<=" || op === "<" ? candidate > current : candidate < current;
}

/**
 * A verdict of the latency results alone (what `judge` gave before the
 * pipeline had kinds): the checks, and the latency section for the reports.
 */
export function judge(results: GuestProbeResult[], targets: Targets, opts: JudgeOptions = {}): Verdict {
    const section: LatencySection = {
        results,
        runs: [],
        notes: [],
        seconds: 0,
        crossCheckFactor: opts.crossCheckFactor ?? DEFAULT_CROSS_CHECK_FACTOR,
        ...(opts.baseline ? { baseline: { source: opts.baseline.source, regressionFactor: opts.regressionFactor ?? DEFAULT_REGRESSION_FACTOR } } : {}),
    };
    return composeVerdict(opts.gate ?? "enforce", [{ name: "latency", section, judged: judgeLatency(results, targets, opts) }]);
}
