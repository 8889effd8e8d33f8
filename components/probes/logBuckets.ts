/**
 * Log-width buckets built from a tool's fine histogram, for drawing. Under
 * TCG one run spans 50 µs to 300 ms: on a linear axis every bar but the
 * last few sits in the first pixel. Re-bucketing on a log scale keeps each
 * decade equally wide; counts are exact (each fine bucket goes whole into the
 * log bucket holding its lower edge). Pure.
 */
import type { HistogramBucket } from "./types";

/** One log bucket: `count` samples with a value in [`fromUs`, `toUs`). */
export interface LogBucket {
    fromUs: number;
    toUs: number;
    count: number;
}

/**
 * Re-buckets `histogram` into `perDecade` buckets per decade, starting at
 * 1 µs; samples below 1 µs go into one [0, 1) bucket. Only non-empty buckets
 * are returned, in ascending order.
 */
export function logBuckets(histogram: HistogramBucket[], perDecade = 10): LogBucket[] {
    const byIndex = new Map<number, number>();
    for (const b of histogram) {
        if (b.count <= 0) continue;
        // -1 is the [0, 1) bucket; the small epsilon keeps exact powers of ten in their own bucket despite rounding.
        const i = b.us < 1 ? -1 : Math.floor(Math.log10(b.us) * perDecade + 1e-9);
        byIndex.set(i, (byIndex.get(i) ?? 0) + b.count);
    }
    const edge = (i: number) => (i < 0 ? 0 : 10 ** (i / perDecade));
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([i, count]) => ({ fromUs: i < 0 ? 0 : edge(i), toUs: i < 0 ? 1 : edge(i + 1), count }));
}

/** True when a histogram spans more than `decades` decades, so a linear axis would hide its lower part. */
export function needsLogAxis(histogram: HistogramBucket[], decades = 2): boolean {
    const filled = histogram.filter((b) => b.count > 0);
    if (filled.length < 2) return false;
    const low = Math.max(1, filled[0].us);
    return filled[filled.length - 1].us / low > 10 ** decades;
}
