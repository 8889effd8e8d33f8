/**
 * The verdict of a probe run: every kind's judged figures as checks of one
 * shape, plus one section per kind that ran (what it measured, for the
 * reports). Pure: it never throws for a failed target; `applyGate` decides
 * whether a failed verdict stops `pulumi up` (or makes `npm run probe` exit 1).
 *
 * Failure messages have one shape, `<what> on <place>: <stat> <measured> <unit>
 * <broken relation> target <target>`, whatever the kind, e.g.
 *   timer latency on vnf-a: max 8032 µs > target 15 µs
 *   cumulative preemption in 1 ms on vnf-a: max 25 µs ≥ target < 20 µs
 *   migration downtime of vnf (lab-1 → lab-2): 83 ms > target 10 ms
 * A "≤" target is written as its bare value; any other operator is spelled out.
 */
import type { MetricChange } from "./baseline";
import type { VerdictSections } from "./kinds/registry";
import type { Bound, Operator } from "./targets";

/** enforce: a failed verdict fails the deployment. report: it is only reported. */
export type Gate = "enforce" | "report";

/**
 * A judged figure's id, `<target group>.<figure>`: `timer.maxUs`, `interVm.mpps`,
 * `migration.totalMs`... Each kind names its own (see its verdict.ts); the
 * baseline compares figures with the same id.
 */
export type MetricId = string;

/** One judged figure. */
export interface Check {
    /** The place: the guest measured (the inter-VM probe: the consumer; migration: the guest moved). */
    guest: string;
    /** The tool (cyclictest, oslat, timerlat, osnoise) or the kind (`interVm`, `migration`) that measured it. */
    probe: string;
    metric: MetricId;
    /** What the figure is, in words: `timer latency`, `interrupt latency`, ... */
    name: string;
    /** Which statistic is compared (`total` and `ratio`: counts and ratios, e.g. bad packets, guest-to-host rate). */
    statistic: "avg" | "max" | "total" | "ratio";
    /** The figure, in `target.unit` (µs for latencies; the name is historical); null when nothing was measured. */
    measuredUs: number | null;
    /** Series or place that gave the figure, e.g. `thread 0 (cpu 1)`; null without samples. */
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
    /** Every kind's checks, in the pipeline's order. */
    checks: Check[];
    /** Distinct failure messages, in check order. */
    failures: string[];
    /** What a reader must know beside pass/fail: disagreeing cross-checks, missing samples, guests not probed. */
    notes: string[];
    /** What each kind measured, by kind name (kinds/registry.ts), for the reports. */
    sections: VerdictSections;
    /**
     * Why the pipeline stopped before it probed (an enforced host gate): the
     * gate fails with this message, whatever `gate` says.
     */
    stopped?: string;
}

/** What a kind's judge gives the verdict. */
export interface KindVerdict {
    checks: Check[];
    notes: string[];
    /** Set when the pipeline must stop here (see Verdict.stopped). */
    stop?: string;
}

/** One verdict from the kinds' parts, in the order given. */
export function composeVerdict(gate: Gate, parts: { name: string; section: unknown; judged: KindVerdict }[]): Verdict {
    const checks = parts.flatMap((p) => p.judged.checks);
    const failures = [...new Set(checks.filter((c) => !c.pass).map((c) => c.message as string))];
    const stopped = parts.find((p) => p.judged.stop)?.judged.stop;
    return {
        pass: failures.length === 0 && stopped === undefined,
        gate,
        checks,
        failures,
        notes: parts.flatMap((p) => p.judged.notes),
        sections: Object.fromEntries(parts.map((p) => [p.name, p.section])) as VerdictSections,
        ...(stopped !== undefined ? { stopped } : {}),
    };
}

/**
 * The verdict when it fails the stack: thrown by `applyGate`, carrying the
 * verdict for reports. Not an error of the kit nor of the input but the
 * outcome a gate exists for, so it is neither a problem list nor a command
 * failure; its first line (`probe gate failed: N of M checks missed their
 * target`) is what users and CI read.
 */
export class GateError extends Error {
    readonly verdict: Verdict;
    /** Set when the run was cut short (SIGINT, SIGTERM, the engine's cancel): why. */
    readonly cut?: string;
    constructor(verdict: Verdict, cut?: string) {
        const failed = verdict.checks.filter((c) => !c.pass).length;
        super(
            cut !== undefined
                ? `probe suite ${cut}: the reports hold what was measured until then, marked partial`
                : (verdict.stopped ??
                      `probe gate failed: ${failed} of ${verdict.checks.length} checks missed their target\n` +
                          verdict.failures.map((f) => `  - ${f}`).join("\n") +
                          `\nSet gate: "report" in the stack config to deploy anyway and only report.`),
        );
        this.name = "GateError";
        this.verdict = verdict;
        this.cut = cut;
    }
}

/**
 * Throws `GateError` when the verdict failed and the gate enforces, when the
 * pipeline stopped at an enforced host gate, or when the run was cut short
 * (`cut`: why; a partial run never passes, whatever the gate); with gate
 * "report" a missed target never throws.
 */
export function applyGate(verdict: Verdict, cut?: string): void {
    if (cut !== undefined || verdict.stopped !== undefined || (verdict.gate === "enforce" && !verdict.pass)) throw new GateError(verdict, cut);
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

/** Integers as they are; fractions to at most two decimals, or three significant digits when two decimals would read 0 (a 0.001 ms target is not "0 ms"). */
export function formatNumber(n: number): string {
    if (Number.isInteger(n)) return String(n);
    const rounded = Math.round(n * 100) / 100;
    return rounded === 0 ? String(Number(n.toPrecision(3))) : String(rounded);
}

export function unitSymbol(unit: Bound["unit"]): string {
    // A ratio has no unit: "≥ 0.5", not "≥ 0.5 ratio".
    return unit === "us" ? "µs" : unit === "ratio" ? "" : unit;
}
