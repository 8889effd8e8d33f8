/**
 * Turns preview measurements into what a person reads: a table, how cost
 * grows with guests, whether the target is met and, if not, what dominates.
 * Pure: measurements in, lines of text out.
 */
import type { ProcessRole } from "./processTree";
import type { PreviewMeasurement } from "./previewBench";
import type { ProfileSummary } from "./cpuProfile";

/** What a full-size preview must stay under. */
export interface BenchTarget {
    /** Guests of the full-size pod. @default 512 */
    guests: number;
    /** Wall time, seconds. @default 10 */
    wallSeconds: number;
    /** Peak summed resident set of the whole preview, MiB. @default 1024 (1 GiB) */
    peakRssMiB: number;
}

export const defaultTarget: BenchTarget = { guests: 512, wallSeconds: 10, peakRssMiB: 1024 };

/** A straight line y = fixed + perGuest × guests, fitted by least squares. */
export interface LinearFit {
    fixed: number;
    perGuest: number;
    /** Largest |measured − fitted| / measured over the points: small means linear. */
    worstDeviation: number;
}

export function fitLine(points: { guests: number; value: number }[]): LinearFit {
    const n = points.length;
    const mx = points.reduce((s, p) => s + p.guests, 0) / n;
    const my = points.reduce((s, p) => s + p.value, 0) / n;
    const sxx = points.reduce((s, p) => s + (p.guests - mx) ** 2, 0);
    const perGuest = sxx === 0 ? 0 : points.reduce((s, p) => s + (p.guests - mx) * (p.value - my), 0) / sxx;
    const fixed = my - perGuest * mx;
    const worstDeviation = Math.max(...points.map((p) => Math.abs(p.value - (fixed + perGuest * p.guests)) / p.value));
    return { fixed, perGuest, worstDeviation };
}

function table(header: string[], rows: string[][]): string[] {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** The measurements as a table, one row per preview. */
export function formatMeasurements(rows: PreviewMeasurement[]): string[] {
    const cpu = (m: PreviewMeasurement, role: ProcessRole) => m.usage.roles[role].cpuSeconds.toFixed(1);
    return table(
        ["stack", "hosts", "guests", "links", "resources", "wall s", "CPU s", "peak MiB", "largest MiB", "program CPU s", "engine CPU s", "providers CPU s"],
        rows.map((m) => [
            m.stack,
            String(m.hosts),
            String(m.guests),
            String(m.links),
            String(m.toCreate),
            m.wallSeconds.toFixed(1),
            m.cpuSeconds.toFixed(1),
            m.peakTreeRssMiB.toFixed(0),
            m.peakProcessRssMiB === undefined ? "-" : m.peakProcessRssMiB.toFixed(0),
            cpu(m, "program"),
            cpu(m, "engine"),
            cpu(m, "nfvkit provider"),
        ]),
    );
}

/** How time and memory grow with guests, from the sized runs (not the baseline). */
export function formatGrowth(rows: PreviewMeasurement[]): string[] {
    if (rows.length < 2) return ["growth: needs at least two sizes"];
    const time = fitLine(rows.map((m) => ({ guests: m.guests, value: m.wallSeconds })));
    const memory = fitLine(rows.map((m) => ({ guests: m.guests, value: m.peakTreeRssMiB })));
    const linear = (f: LinearFit) => (f.worstDeviation <= 0.1 ? "linear" : f.worstDeviation <= 0.25 ? "roughly linear" : "not linear");
    return [
        `wall time ≈ ${time.fixed.toFixed(1)} s + ${(time.perGuest * 1000).toFixed(1)} ms × guests (${linear(time)}: points within ${(time.worstDeviation * 100).toFixed(0)}% of the line)`,
        `peak memory ≈ ${memory.fixed.toFixed(0)} MiB + ${(memory.perGuest * 1024).toFixed(0)} KiB × guests (${linear(memory)}: points within ${(memory.worstDeviation * 100).toFixed(0)}% of the line)`,
    ];
}

/** Whether the full-size run meets the target, and if not what dominates its cost. */
export function formatVerdict(rows: PreviewMeasurement[], target: BenchTarget): { met: boolean | undefined; lines: string[] } {
    const full = rows.find((m) => m.guests === target.guests);
    if (!full)
        return {
            met: undefined,
            lines: [`target: no run at ${target.guests} guests, so the target (${target.wallSeconds} s, ${target.peakRssMiB} MiB) was not checked`],
        };
    const timeOk = full.wallSeconds <= target.wallSeconds;
    const memoryOk = full.peakTreeRssMiB <= target.peakRssMiB;
    const lines = [
        `target at ${target.guests} guests: wall ${full.wallSeconds.toFixed(1)} s (target ${target.wallSeconds} s) ${timeOk ? "MET" : "MISSED"}; ` +
            `peak memory ${full.peakTreeRssMiB.toFixed(0)} MiB (target ${target.peakRssMiB} MiB) ${memoryOk ? "MET" : "MISSED"}`,
    ];
    if (!timeOk || !memoryOk) {
        const roles = Object.entries(full.usage.roles) as [ProcessRole, { peakRssKiB: number; cpuSeconds: number }][];
        const byCpu = [...roles].sort((a, b) => b[1].cpuSeconds - a[1].cpuSeconds).filter(([, u]) => u.cpuSeconds > 0);
        const byMemory = [...roles].sort((a, b) => b[1].peakRssKiB - a[1].peakRssKiB).filter(([, u]) => u.peakRssKiB > 0);
        lines.push(`what dominates: CPU ${byCpu.map(([r, u]) => `${r} ${u.cpuSeconds.toFixed(1)} s`).join(", ")}`);
        lines.push(`                memory ${byMemory.map(([r, u]) => `${r} ${(u.peakRssKiB / 1024).toFixed(0)} MiB`).join(", ")}`);
    }
    return { met: timeOk && memoryOk, lines };
}

/** A CPU profile summary, for the report when the target is missed. */
export function formatProfile(title: string, summary: ProfileSummary): string[] {
    const pct = (ms: number) => `${((ms / summary.totalMs) * 100).toFixed(0)}%`.padStart(4);
    return [
        `${title}: ${(summary.totalMs / 1000).toFixed(1)} s profiled`,
        "  by where the code lives (self time):",
        ...summary.byArea.map((e) => `    ${pct(e.ms)}  ${(e.ms / 1000).toFixed(2)} s  ${e.what}`),
        "  inclusive time of known parts of the work (a sample may count in several):",
        ...summary.watched.map((e) => `    ${pct(e.ms)}  ${(e.ms / 1000).toFixed(2)} s  ${e.what}`),
        "  hottest functions (self time):",
        ...summary.bySelf.map((e) => `    ${pct(e.ms)}  ${(e.ms / 1000).toFixed(2)} s  ${e.what}`),
    ];
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One side-by-side comparison: the kit's runs against a baseline's, as medians and a ratio. */
export interface Comparison {
    what: string;
    kit: number[];
    baselineName: string;
    baseline: number[];
    /** The ratio kit / baseline must stay at or under this. */
    target?: number;
}

/** The comparisons as a table of medians and ratios, with each target MET or MISSED. */
export function formatComparisons(rows: Comparison[]): string[] {
    const runs = (v: number[]) => v.map((x) => x.toFixed(1)).join(", ");
    return table(
        ["comparison", "kit s (runs)", "kit median", "baseline", "baseline s (runs)", "baseline median", "ratio", "target"],
        rows.map((r) => {
            const ratio = median(r.kit) / median(r.baseline);
            return [
                r.what,
                runs(r.kit),
                median(r.kit).toFixed(1),
                r.baselineName,
                runs(r.baseline),
                median(r.baseline).toFixed(1),
                `${ratio.toFixed(2)}x`,
                r.target === undefined ? "-" : `≤ ${r.target.toFixed(2)}x ${ratio <= r.target ? "MET" : "MISSED"}`,
            ];
        }),
    );
}

/** Where an `up` spends its time: each step's median start, wall time and longest single subject over the runs. */
export function formatBreakdown(runs: { what: string; subjects: number; startsAt: number; wall: number; longest: number }[][]): string[] {
    const steps = new Map<string, { subjects: number; startsAt: number[]; wall: number[]; longest: number[] }>();
    for (const run of runs) {
        for (const s of run) {
            const e = steps.get(s.what) ?? { subjects: s.subjects, startsAt: [], wall: [], longest: [] };
            e.startsAt.push(s.startsAt);
            e.wall.push(s.wall);
            e.longest.push(s.longest);
            steps.set(s.what, e);
        }
    }
    const rows = [...steps.entries()].sort((a, b) => median(a[1].startsAt) - median(b[1].startsAt));
    return table(
        ["step (median over runs)", "subjects", "starts at s", "wall s", "longest one s"],
        rows.map(([what, e]) => [what, String(e.subjects), median(e.startsAt).toFixed(2), median(e.wall).toFixed(2), median(e.longest).toFixed(2)]),
    );
}
