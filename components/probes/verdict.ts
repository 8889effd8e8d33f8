/**
 * Judges parsed probe results against the targets: one check per guest ×
 * probe × metric, each with the measured figure, the target and its
 * operator. Pure: it never throws for a failed target; `applyGate` decides
 * whether a failed verdict stops `pulumi up`.
 *
 * Failure messages have one shape, `<what> on <guest>: <stat> <measured> <unit>
 * <broken relation> target <target>`, e.g.
 *   timer latency on vnf-a: max 8032 µs > target 15 µs
 *   cumulative preemption in 1 ms on vnf-a: max 25 µs ≥ target < 20 µs
 * A "≤" target is written as its bare value; any other operator is spelled out.
 */
import { compareWithBaseline, DEFAULT_REGRESSION_FACTOR, describeChange, type Baseline, type MetricChange } from "./baseline";
import { crossChecks, DEFAULT_CROSS_CHECK_FACTOR, shortfallNotes, type CrossCheck } from "./crossCheck";
import type { Bound, Operator, Targets } from "./targets";
import { satisfies } from "./targets";
import type { GuestProbeResult, InterVmResult, MigrationResult, ProbeKind, SeriesKind } from "./types";

/** enforce: a failed verdict fails the deployment. report: it is only reported. */
export type Gate = "enforce" | "report";

/** The figures the kit judges. */
export type MetricId =
    | "timer.avgUs"
    | "timer.maxUs"
    | "interrupt.maxUs"
    | "preemption.maxSingleUs"
    | "preemption.perWindowUs"
    // The inter-VM probe (interVmVerdict.ts): rate, bad packets, guest-to-host ratio.
    | "interVm.mpps"
    | "interVm.badPackets"
    | "interVm.hostRatio"
    // The live-migration probe (migrationVerdict.ts).
    | "migration.totalMs"
    | "migration.downtimeMs"
    | "migration.networkDowntimeMs"
    | "migration.pins";

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

/** One judged figure. */
export interface Check {
    guest: string;
    /** The tool, or `interVm` for the inter-VM probe (whose figures are not latencies: see `target.unit`). */
    probe: ProbeKind | "interVm" | "migration";
    metric: MetricId;
    /** What the figure is, in words: `timer latency`, `interrupt latency`, ... */
    name: string;
    /** Which statistic is compared (`total` and `ratio`: the inter-VM probe's bad packets and guest-to-host ratio). */
    statistic: "avg" | "max" | "total" | "ratio";
    /** Worst figure over the probe's CPUs/threads, µs (inter-VM checks: in `target.unit`); null when nothing was measured. */
    measuredUs: number | null;
    /** Series that gave the worst figure, e.g. `thread 0 (cpu 1)`; null without samples. */
    where: string | null;
    target: Bound;
    pass: boolean;
    /** Failure message (see the module comment); null when the check passed. */
    message: string | null;
    /** Samples behind the figure (the series it came from); null without samples. */
    samples?: number | null;
    /** The change against the baseline, when one was given and has this figure. */
    change?: MetricChange | null;
}

export interface Verdict {
    /** True when every check passed. No checks at all is a pass: nothing was asked. */
    pass: boolean;
    gate: Gate;
    checks: Check[];
    /** Distinct failure messages, in check order. */
    failures: string[];
    /** The results judged, kept so reports can show versions, commands and histograms. */
    results: GuestProbeResult[];
    /** The inter-VM probe's runs, when it ran (added by `withInterVm`). */
    interVm?: InterVmResult[];
    /** The live-migration probe's runs, when it ran (added by `withMigration`). */
    migration?: MigrationResult[];
    /** Cross-checks between probes measuring the same thing (see crossCheck.ts). */
    crossChecks?: CrossCheck[];
    /** What a reader must know beside pass/fail: disagreeing cross-checks, missing samples. */
    notes?: string[];
    /** The baseline compared with, when there was one. */
    baseline?: { source: string; regressionFactor: number };
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

/** Judges every result. Never throws for a missed target. */
export function judge(results: GuestProbeResult[], targets: Targets, opts: JudgeOptions = {}): Verdict {
    const gate = opts.gate ?? "enforce";
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
                : null;
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
                change,
            });
        }
    }
    const failures = [...new Set(checks.filter((c) => !c.pass).map((c) => c.message as string))];
    const cross = crossChecks(results, opts.crossCheckFactor ?? DEFAULT_CROSS_CHECK_FACTOR);
    const notes = [...cross.filter((c) => !c.agree).map((c) => c.note), ...shortfallNotes(results)];
    return {
        pass: failures.length === 0,
        gate,
        checks,
        failures,
        results,
        crossChecks: cross,
        notes,
        ...(opts.baseline ? { baseline: { source: opts.baseline.source, regressionFactor } } : {}),
    };
}

/** `timer latency on vnf-a: max 305961 µs regressed 24.8× against the baseline 12344 µs (limit 5×)`. */
export function regressionMessage(name: string, guest: string, statistic: string, change: MetricChange, factor: number): string {
    return `${name} on ${guest}: ${statistic} ${formatNumber(change.measuredUs)} µs regressed ${change.worseBy.toFixed(1)}× against the baseline ${formatNumber(change.baselineUs)} µs (limit ${factor}×, ${describeChange(change)})`;
}

/** Thrown by `applyGate` when an enforced verdict failed; carries the verdict for reports. */
export class GateError extends Error {
    readonly verdict: Verdict;
    constructor(verdict: Verdict) {
        const failed = verdict.checks.filter((c) => !c.pass).length;
        super(
            `latency gate failed: ${failed} of ${verdict.checks.length} checks missed their target\n` +
                verdict.failures.map((f) => `  - ${f}`).join("\n") +
                `\nSet gate: "report" in the stack config to deploy anyway and only report.`,
        );
        this.name = "GateError";
        this.verdict = verdict;
    }
}

/** Throws `GateError` when the verdict failed and the gate enforces; with gate "report" it never throws. */
export function applyGate(verdict: Verdict): void {
    if (verdict.gate === "enforce" && !verdict.pass) throw new GateError(verdict);
}

/** The relation a failing figure has to the target, i.e. the negated operator. */
export function brokenRelation(op: Operator): string {
    return { "<=": ">", "<": "≥", ">=": "<", ">": "≤" }[op];
}

/** How a target reads in messages: `15 µs` for ≤, `< 20 µs` otherwise spelled out. */
export function formatTarget(bound: Pick<Bound, "op" | "value" | "unit">): string {
    const prefix = bound.op === "<=" ? "" : `${{ "<": "<", ">=": "≥", ">": ">" }[bound.op]} `;
    const unit = unitSymbol(bound.unit);
    return `${prefix}${formatNumber(bound.value)}${unit ? ` ${unit}` : ""}`;
}

export function failureMessage(name: string, guest: string, statistic: string, measured: number, target: Bound): string {
    return `${name} on ${guest}: ${statistic} ${formatNumber(measured)} ${unitSymbol(target.unit)} ${brokenRelation(target.op)} target ${formatTarget(target)}`;
}

/** Integers as they are; fractions to at most two decimals. */
export function formatNumber(n: number): string {
    return Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100);
}

export function unitSymbol(unit: Bound["unit"]): string {
    // A ratio has no unit: "≥ 0.5", not "≥ 0.5 ratio".
    return unit === "us" ? "µs" : unit === "ratio" ? "" : unit;
}

function windowWords(us: number): string {
    return us % 1000 === 0 ? `${us / 1000} ms` : `${us} µs`;
}

/** For an upper bound the larger figure is worse; for a lower bound (≥, >) the smaller one. */
function worse(candidate: number, current: number, op: Operator): boolean {
    return op === "<=" || op === "<" ? candidate > current : candidate < current;
}
