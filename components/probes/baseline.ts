/**
 * Regression against a baseline: the JSON report of an earlier accepted run
 * (e.g. the main branch's last one), named by the stack. Each judged figure
 * is compared with the same guest × probe × metric of the baseline; a figure
 * more than `factor` times worse is a regression, which fails its check even
 * when the absolute target is still met, so a lab with loose targets still
 * catches a kernel that takes a max from 60 µs to 40 ms. Pure.
 */
import { closestMatch } from "../spec/names";
import { ProblemListError, type SpecProblem } from "../spec/problems";
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

/**
 * `probes.baseline` as a stack gives it: the probes.json of one earlier
 * accepted run, or `{ history: N }`, the median of each figure over the last
 * N accepted runs of a history.jsonl (history.ts `medianBaseline`): the
 * stack's own (`results/<stack>/history.jsonl`) unless `file` names another.
 */
export type BaselineSetting = string | { history: number; file?: string };

/** Most runs a median baseline may take: a year of nightly runs. */
export const MAX_BASELINE_RUNS = 366;

/** Checks a `baseline` value; every problem at once, each at its YAML path (`path` is the setting's own). Never throws. */
export function checkBaselineSetting(value: unknown, path: string): { setting: BaselineSetting | null; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    if (value === undefined || value === null) return { setting: null, problems };
    if (typeof value === "string" && value.trim() !== "") return { setting: value, problems };
    const example = "write a probes.json path (e.g. results/main/probes.json), or { history: 5 } for the median of the last 5 accepted runs";
    if (typeof value !== "object" || Array.isArray(value)) {
        problems.push({ path, value, reason: "is neither a file path nor { history: N }", fix: example });
        return { setting: null, problems };
    }
    const fields = value as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
        if (key === "history" || key === "file") continue;
        const guess = closestMatch(key, ["history", "file"]);
        problems.push({
            path: `${path}.${key}`,
            value: fields[key],
            reason: "is not a baseline setting",
            fix: guess ? `did you mean "${guess}"?` : "use history or file",
        });
    }
    const n = fields.history;
    if (n === undefined)
        problems.push({ path: `${path}.history`, value: n, reason: "is missing", fix: "write how many accepted runs the median takes, e.g. history: 5" });
    else if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_BASELINE_RUNS) {
        problems.push({ path: `${path}.history`, value: n, reason: `must be a whole number from 1 to ${MAX_BASELINE_RUNS}`, fix: "write e.g. 5" });
    }
    const file = fields.file;
    if (file !== undefined && (typeof file !== "string" || file.trim() === "")) {
        problems.push({
            path: `${path}.file`,
            value: file,
            reason: "is not a file path",
            fix: "write e.g. results/main/history.jsonl, or leave it out for this stack's own",
        });
    }
    if (problems.length > 0) return { setting: null, problems };
    return { setting: { history: n as number, ...(typeof file === "string" ? { file } : {}) }, problems };
}
