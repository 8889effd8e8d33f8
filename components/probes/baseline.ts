/**
 * Regression against a baseline: the JSON report of an earlier accepted run
 * (e.g. the main branch's last one), named by the stack. Each judged figure
 * is compared with the same guest × probe × metric of the baseline; a figure
 * more than `factor` times worse is a regression, which fails its check even
 * when the absolute target is still met, so a lab with loose targets still
 * catches a kernel that takes a max from 60 µs to 40 ms. Pure.
 */
import { ProblemListError } from "../spec/problems";
import type { MetricId } from "./verdict";
import type { Operator } from "./targets";
import type { ProbeKind } from "./kinds/latency/types";

/** Where a stack names its baseline. */
export const BASELINE_SETTING = "nfv-testpod:probes.baseline";

/** The worse-by factor that counts as a regression. @default 5: above the run-to-run spread of maxima on the TCG CI machine (up to ~3×). */
export const DEFAULT_REGRESSION_FACTOR = 5;

/** What the comparison needs from a baseline report's checks. */
export interface BaselineCheck {
    guest: string;
    probe: ProbeKind;
    metric: MetricId;
    measuredUs: number | null;
}

export interface Baseline {
    /** Where it came from, for the report. */
    source: string;
    checks: BaselineCheck[];
}

export interface MetricChange {
    guest: string;
    probe: ProbeKind;
    metric: MetricId;
    baselineUs: number;
    measuredUs: number;
    /** measured / baseline for upper bounds (> 1 is worse); baseline / measured for lower bounds. */
    worseBy: number;
    regressed: boolean;
}

/** Reads a baseline from the text of a `probes.json` report; throws a ProblemListError (the setting, the file, the fix) when it is not one. */
export function parseBaseline(text: string, source: string): Baseline {
    const notOne = (reason: string) =>
        new ProblemListError([{ path: BASELINE_SETTING, value: source, reason, fix: "name the probes.json of an earlier run" }], "probe settings");
    let doc: unknown;
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw notOne(`names a file that is not JSON (${(err as Error).message})`);
    }
    const d = doc as { schema?: unknown; checks?: unknown };
    if (typeof d !== "object" || d === null || typeof d.schema !== "string" || !d.schema.startsWith("nfv-testpod/probe-report@") || !Array.isArray(d.checks)) {
        throw notOne("names a file that is not a probe report (no nfv-testpod/probe-report schema and checks)");
    }
    const checks = (d.checks as Record<string, unknown>[])
        .filter((c) => typeof c.guest === "string" && typeof c.probe === "string" && typeof c.metric === "string")
        .map((c) => ({
            guest: c.guest as string,
            probe: c.probe as ProbeKind,
            metric: c.metric as MetricId,
            measuredUs: typeof c.measuredUs === "number" ? c.measuredUs : null,
        }));
    return { source, checks };
}

/** Compares one figure with its baseline; null when the baseline has no figure for it. */
export function compareWithBaseline(check: BaselineCheck & { op: Operator }, baseline: Baseline, factor = DEFAULT_REGRESSION_FACTOR): MetricChange | null {
    const before = baseline.checks.find((b) => b.guest === check.guest && b.probe === check.probe && b.metric === check.metric);
    if (!before || before.measuredUs === null || check.measuredUs === null) return null;
    const upper = check.op === "<=" || check.op === "<";
    // 1 µs floor: a baseline of 0 µs must not make every later figure an infinite regression.
    const a = Math.max(check.measuredUs, 1);
    const b = Math.max(before.measuredUs, 1);
    const worseBy = upper ? a / b : b / a;
    return {
        guest: check.guest,
        probe: check.probe,
        metric: check.metric,
        baselineUs: before.measuredUs,
        measuredUs: check.measuredUs,
        worseBy,
        regressed: worseBy > factor,
    };
}

/** `+2450 % (24.5× the baseline 12344 µs)` or `-40 % (0.6× ...)`. */
export function describeChange(c: MetricChange): string {
    const pct = ((c.measuredUs - c.baselineUs) / Math.max(c.baselineUs, 1)) * 100;
    const sign = pct >= 0 ? "+" : "";
    return `${sign}${pct.toFixed(1)} % against the baseline ${c.baselineUs} µs`;
}
