/**
 * The shared words of the probe pipeline's statistics: histograms and the
 * summary of one series of samples, which the stats, the baseline, the
 * histogram charts and every kind that measures latencies read. Plain data
 * only, so results can be written to JSON and read back unchanged.
 */

/** One histogram bucket: `count` samples fell in [`us`, `us` + bucket width). */
export interface HistogramBucket {
    /** Lower edge of the bucket in microseconds. */
    us: number;
    /** Samples in the bucket. */
    count: number;
}

/** Summary of one series. Every figure is in microseconds. */
export interface LatencyStats {
    /** Samples measured, overflows included. 0 means nothing was measured. */
    samples: number;
    /** Smallest sample; null when the tool did not report it or there were no samples. */
    minUs: number | null;
    /** Mean sample; null when unknown or no samples. */
    avgUs: number | null;
    /** Largest sample; null when unknown or no samples. */
    maxUs: number | null;
    /**
     * 99th percentile (nearest rank) computed from the histogram; null without a histogram,
     * and null when the rank falls among the overflows: then `p99BeyondRange` is true and the
     * percentile is only known to be above `rangeUs`. It is never taken to be the max.
     */
    p99Us: number | null;
    /** 99.9th percentile, computed like `p99Us`. */
    p999Us: number | null;
    /** True when the 99th percentile falls beyond the histogram's range (reported as `> range`). */
    p99BeyondRange?: boolean;
    /** True when the 99.9th percentile falls beyond the histogram's range. */
    p999BeyondRange?: boolean;
    /** Upper edge of the histogram's range, µs (samples at or above it are overflows); null without a histogram. */
    rangeUs?: number | null;
    /**
     * Samples the run should have given: duration / interval for cyclictest and timerlat,
     * duration / period for osnoise; null when the tool has no fixed rate (oslat) or it is unknown.
     */
    expectedSamples?: number | null;
    /** Non-empty buckets in ascending order; empty when the tool printed no histogram. */
    histogram: HistogramBucket[];
    /** Samples beyond the histogram's last bucket (counted in `samples`, not in `histogram`). */
    overflow: number;
}
