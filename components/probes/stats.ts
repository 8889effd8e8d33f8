/**
 * Figures derived from histograms: percentiles, merged histograms, the
 * summary a parser returns. Kept apart from the parsers so every tool's
 * histogram is read the same way.
 */
import type { HistogramBucket, LatencyStats } from "./types";

/** Stats that mean "nothing was measured". */
export function emptyStats(): LatencyStats {
    return { samples: 0, minUs: null, avgUs: null, maxUs: null, p99Us: null, p999Us: null, histogram: [], overflow: 0 };
}

/** Sorts buckets, drops empty ones and sums duplicates. */
export function normaliseHistogram(buckets: Iterable<HistogramBucket>): HistogramBucket[] {
    const byUs = new Map<number, number>();
    for (const b of buckets) {
        if (b.count > 0) byUs.set(b.us, (byUs.get(b.us) ?? 0) + b.count);
    }
    return [...byUs.entries()].sort((a, b) => a[0] - b[0]).map(([us, count]) => ({ us, count }));
}

/**
 * Nearest-rank percentile over a histogram plus overflows.
 * Overflow samples sit above every bucket; a rank that lands there returns
 * `maxUs` (or null when the max is unknown), because the histogram cannot say more.
 */
export function percentileUs(histogram: HistogramBucket[], overflow: number, fraction: number, maxUs: number | null): number | null {
    const inRange = histogram.reduce((sum, b) => sum + b.count, 0);
    const total = inRange + overflow;
    if (total === 0 || histogram.length === 0) return null;
    const rank = Math.max(1, Math.ceil(fraction * total));
    let seen = 0;
    for (const b of histogram) {
        seen += b.count;
        if (seen >= rank) return b.us;
    }
    return maxUs;
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
export function buildStats(reported: ReportedFigures, buckets: Iterable<HistogramBucket>): LatencyStats {
    if (reported.samples <= 0) return emptyStats();
    const histogram = normaliseHistogram(buckets);
    const inRange = histogram.reduce((sum, b) => sum + b.count, 0);
    const overflow = histogram.length > 0 ? Math.max(0, reported.samples - inRange) : 0;
    return {
        samples: reported.samples,
        minUs: reported.minUs,
        avgUs: reported.avgUs,
        maxUs: reported.maxUs,
        p99Us: percentileUs(histogram, overflow, 0.99, reported.maxUs),
        p999Us: percentileUs(histogram, overflow, 0.999, reported.maxUs),
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
        p99Us: percentileUs(histogram, overflow, 0.99, maxUs),
        p999Us: percentileUs(histogram, overflow, 0.999, maxUs),
        histogram,
        overflow,
    };
}
