/**
 * How wide the tools' histograms are. The range follows what is measured
 * (issue 10): under TCG latencies reach 10–100 ms and a host stall can pass
 * 900 ms, so the tools' defaults (cyclictest `-h 1000`, rtla's 1 µs × 256
 * buckets) put most of a TCG run in "over", where no percentile can be read.
 * One setting, `probes.histogramRangeUs`, gives the upper edge; each tool's
 * arguments are derived from it within the tool's own limits. Pure.
 */

/**
 * The default range: 1 s. It holds every stall seen on the TCG CI machine
 * (clean runs up to ~100 ms, a 300 ms known-answer disturbance, once a 953 ms
 * host stall) and is cyclictest's own ceiling. On hardware, where figures are
 * microseconds, the wider range costs only memory in the guest: empty buckets
 * are never printed.
 */
export const DEFAULT_HISTOGRAM_RANGE_US = 1_000_000;

/** cyclictest's HIST_MAX (rt-tests 2.x): a larger `-h` is cut to it without a word, so the kit refuses it. */
export const CYCLICTEST_HIST_MAX_US = 1_000_000;

/** The smallest range worth a histogram: the seed's largest target (20 µs) needs room above it. */
export const MIN_HISTOGRAM_RANGE_US = 1000;

/**
 * The most buckets the kit asks rtla for. rtla 6.1 keeps one counter per
 * bucket per CPU and context in user space (`-E` accepts up to 9999998);
 * 100,000 keeps that under 1 MB per measured CPU, and gives 10 µs buckets
 * over the default 1 s (1 µs buckets up to a 100 ms range).
 */
export const RTLA_MAX_ENTRIES = 100_000;
/** rtla 6.1: "Entries must be > 10". */
export const RTLA_MIN_ENTRIES = 11;
/** rtla 6.1: "Bucket size needs to be > 0 and <= 1000000". */
export const RTLA_MAX_BUCKET_US = 1_000_000;

/** Each tool's histogram arguments for one range. */
export interface HistogramRange {
    /** The range asked for, µs. */
    rangeUs: number;
    /** cyclictest `-h`: 1 µs buckets up to this. */
    cyclictestUs: number;
    /** rtla `-b`: bucket width, µs. */
    rtlaBucketUs: number;
    /** rtla `-E`: number of buckets; rtlaBucketUs × rtlaEntries ≥ rangeUs. */
    rtlaEntries: number;
}

/** Why a range cannot be used, in words for a validation message; null when it can. */
export function histogramRangeProblem(rangeUs: unknown): string | null {
    if (typeof rangeUs !== "number" || !Number.isInteger(rangeUs)) return "must be a whole number of µs";
    if (rangeUs < MIN_HISTOGRAM_RANGE_US) return `must be at least ${MIN_HISTOGRAM_RANGE_US} µs (room above the 20 µs targets)`;
    if (rangeUs > CYCLICTEST_HIST_MAX_US) return `must be at most ${CYCLICTEST_HIST_MAX_US} µs (cyclictest cuts a larger -h to that without saying so)`;
    return null;
}

/** The tools' arguments for `rangeUs`; throws on a range `histogramRangeProblem` refuses. */
export function histogramRange(rangeUs: number = DEFAULT_HISTOGRAM_RANGE_US): HistogramRange {
    const problem = histogramRangeProblem(rangeUs);
    if (problem) throw new RangeError(`histogram range ${rangeUs}: ${problem}`);
    const rtlaBucketUs = Math.min(RTLA_MAX_BUCKET_US, Math.max(1, Math.ceil(rangeUs / RTLA_MAX_ENTRIES)));
    const rtlaEntries = Math.max(RTLA_MIN_ENTRIES, Math.ceil(rangeUs / rtlaBucketUs));
    return { rangeUs, cyclictestUs: rangeUs, rtlaBucketUs, rtlaEntries };
}
