/**
 * Figures derived from histograms: percentiles, merged histograms, the
 * summary a parser returns. Kept apart from the parsers so every tool's
 * histogram is read the same way.
 */
import type { HistogramBucket, LatencyStats } from "./types";

/** Stats that mean "nothing was measured". */
export function emptyStats(): LatencyStats {
    return { samples: 0, minUs: null, avgUs: null, maxUs: null, p99Us: null, p999Us: null, histogram: [], overflow: 0, rangeUs: null };
}

/** Sorts buckets, drops empty ones and sums duplicates. */
export function normaliseHistogram(buckets: Iterable<HistogramBucket>): HistogramBucket[] {
    const byUs = new Map<number, number>();
    for (const b of buckets) {
        if (b.count > 0) byUs.set(b.us, (byUs.get(b.us) ?? 0) + b.count);
    }
    return [...byUs.entries()].sort((a, b) => a[0] - b[0]).map(([us, count]) => ({ us, count }));
}

/** A percentile as far as a histogram knows it. */
export type Percentile = { kind: "value"; us: number } | { kind: "beyond-range" } | { kind: "unknown" };

/**
 * Nearest-rank percentile over a histogram plus overflows.
 * Overflow samples sit above every bucket; a rank that lands among them is
 * `beyond-range`: the histogram only says it is above its range. It is never
 * the max, which is one sample, not the percentile (issue 10: cyclictest
 * printed `p99 13230 µs` = max when 465 of 8680 samples overflowed).
 */
export function percentile(histogram: HistogramBucket[], overflow: number, fraction: number): Percentile {
    const inRange = histogram.reduce((sum, b) => sum + b.count, 0);
    const total = inRange + overflow;
    if (total === 0 || histogram.length === 0) return { kind: "unknown" };
    const rank = Math.max(1, Math.ceil(fraction * total));
    let seen = 0;
    for (const b of histogram) {
        seen += b.count;
        if (seen >= rank) return { kind: "value", us: b.us };
    }
    return { kind: "beyond-range" };
}

/** `percentile` as a number for the stats fields: null when unknown or beyond the range. */
export function percentileUs(histogram: HistogramBucket[], overflow: number, fraction: number): number | null {
    const p = percentile(histogram, overflow, fraction);
    return p.kind === "value" ? p.us : null;
}

/**
 * Upper edge of a histogram's range: `declaredUs` when the command says it
 * (cyclictest -h, rtla -E × -b), else one bucket width past the last printed
 * bucket, a true lower bound for every overflow.
 */
export function histogramRangeUs(histogram: HistogramBucket[], declaredUs?: number): number | null {
    if (histogram.length === 0) return null;
    const last = histogram[histogram.length - 1].us;
    if (declaredUs !== undefined && declaredUs > last) return declaredUs;
    let width = Infinity;
    for (let i = 1; i < histogram.length; i++) width = Math.min(width, histogram[i].us - histogram[i - 1].us);
    return last + (Number.isFinite(width) && width > 0 ? width : 1);
}

/** The percentile fields of LatencyStats, from a histogram and its overflows. */
export function percentileFields(histogram: HistogramBucket[], overflow: number, declaredRangeUs?: number) {
    const p99 = percentile(histogram, overflow, 0.99);
    const p999 = percentile(histogram, overflow, 0.999);
    return {
        p99Us: p99.kind === "value" ? p99.us : null,
        p999Us: p999.kind === "value" ? p999.us : null,
        p99BeyondRange: p99.kind === "beyond-range",
        p999BeyondRange: p999.kind === "beyond-range",
        rangeUs: histogramRangeUs(histogram, declaredRangeUs),
    };
}

/** How a percentile reads in reports: `812 µs`, `> 1000 µs (beyond the histogram range)` or `n/a`. */
export function formatPercentile(stats: LatencyStats, which: "p99" | "p999"): string {
    const value = which === "p99" ? stats.p99Us : stats.p999Us;
    const beyond = which === "p99" ? stats.p99BeyondRange : stats.p999BeyondRange;
    if (beyond) return stats.rangeUs != null ? `> ${stats.rangeUs} µs (beyond the histogram range)` : "> range";
    return value === null ? "n/a" : `${value} µs`;
}

/** Missing samples, when a run gave fewer than it should. */
export interface Shortfall {
    samples: number;
    expected: number;
    /** Missing share, 0–1. */
    missing: number;
}

/**
 * Compares the samples with `expectedSamples`. A shortfall below `tolerance`
 * (default 2 %) is start-up and rounding, not lost wake-ups.
 */
export function sampleShortfall(stats: LatencyStats, tolerance = 0.02): Shortfall | null {
    const expected = stats.expectedSamples;
    if (expected == null || expected <= 0) return null;
    const missing = (expected - stats.samples) / expected;
    return missing > tolerance ? { samples: stats.samples, expected, missing } : null;
}

/**
 * The samples a run of `durationSec` should give: one per `periodUs` per series.
 * null for a tool without a fixed rate.
 */
export function expectedSampleCount(durationSec: number, periodUs: number | null): number | null {
    if (periodUs === null || periodUs <= 0) return null;
    return Math.floor((durationSec * 1_000_000) / periodUs);
}

/** Reported figures a tool printed next to its histogram. */
export interface ReportedFigures {
    samples: number;
    minUs: number | null;
    avgUs: number | null;
    maxUs: number | null;
}

/**
 * Builds `LatencyStats` from what a tool reported and its histogram.
 * `samples` counts everything the tool measured; whatever the histogram does
 * not hold is counted as overflow.
 */
export function buildStats(reported: ReportedFigures, buckets: Iterable<HistogramBucket>, declaredRangeUs?: number): LatencyStats {
    if (reported.samples <= 0) return emptyStats();
    const histogram = normaliseHistogram(buckets);
    const inRange = histogram.reduce((sum, b) => sum + b.count, 0);
    const overflow = histogram.length > 0 ? Math.max(0, reported.samples - inRange) : 0;
    return {
        samples: reported.samples,
        minUs: reported.minUs,
        avgUs: reported.avgUs,
        maxUs: reported.maxUs,
        ...percentileFields(histogram, overflow, declaredRangeUs),
        histogram,
        overflow,
    };
}

/**
 * Merges series into one: sample-weighted mean, smallest min, largest max,
 * summed histograms. Used for one histogram per guest and probe in reports.
 */
export function mergeStats(all: LatencyStats[]): LatencyStats {
    const measured = all.filter((s) => s.samples > 0);
    if (measured.length === 0) return emptyStats();
    const samples = measured.reduce((n, s) => n + s.samples, 0);
    const pick = (f: (s: LatencyStats) => number | null, choose: (a: number, b: number) => number) =>
        measured.map(f).reduce<number | null>((acc, v) => (v === null ? acc : acc === null ? v : choose(acc, v)), null);
    const avgKnown = measured.every((s) => s.avgUs !== null);
    const avgUs = avgKnown ? measured.reduce((sum, s) => sum + (s.avgUs as number) * s.samples, 0) / samples : null;
    const maxUs = pick((s) => s.maxUs, Math.max);
    const histogram = normaliseHistogram(measured.flatMap((s) => s.histogram));
    const overflow = measured.reduce((n, s) => n + s.overflow, 0);
    return {
        samples,
        minUs: pick((s) => s.minUs, Math.min),
        avgUs,
        maxUs,
        ...percentileFields(histogram, overflow, pick((s) => s.rangeUs ?? null, Math.max) ?? undefined),
        histogram,
        overflow,
        expectedSamples: measured.every((s) => s.expectedSamples != null) ? measured.reduce((n, s) => n + (s.expectedSamples as number), 0) : null,
    };
}
