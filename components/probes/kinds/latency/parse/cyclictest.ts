/**
 * Reads cyclictest (rt-tests) results: the `--json=FILE` document and the
 * `-h` histogram printed on stdout. Both formats have traps, handled here:
 * - JSON keys `"cmdline:"` and `"rt_test_version:"` carry a trailing colon.
 * - A run with zero cycles writes `"avg": -nan`, which is not JSON.
 * - The JSON histogram is empty unless `-h` was given; it never holds overflows.
 * - rt-tests 2.7 dropped empty buckets and the `# Total:` line from the text histogram.
 * - An unknown option such as the removed `-n` prints the usage text and exits 0.
 * - The exit code says nothing about thresholds.
 */
import { buildStats, emptyStats } from "../../../stats";
import type { HistogramBucket } from "../../../types";
import type { ParseContext, ProbeResult, ProbeSeries } from "../types";
import { ProbeParseError } from "../../../parseError";

/** Reason given when cyclictest ran but recorded no cycle. */
export const CYCLICTEST_NO_MEASUREMENTS = "cyclictest printed no measurements";
/** Reason given when cyclictest printed its usage text instead of measuring. */
export const CYCLICTEST_PRINTED_USAGE = "cyclictest printed its usage text instead of measuring: it rejected an option (such as the removed -n)";

interface CyclictestJsonThread {
    histogram?: Record<string, number>;
    cycles?: number;
    min?: number;
    max?: number;
    avg?: number | null;
    cpu?: number;
}

/** True when the output is cyclictest's usage text: it then measured nothing, whatever its exit code. */
export function isCyclictestUsage(stdout: string): boolean {
    return /^cyclictest V \S+\s*$/m.test(stdout) && /^Usage:\s*$/m.test(stdout);
}

/** Reads the version from the usage banner (`cyclictest V 2.40`), or null. */
export function cyclictestVersionFromBanner(text: string): string | null {
    return /^cyclictest V (\S+)/m.exec(text)?.[1] ?? null;
}

/** Parses the document cyclictest writes with `--json=FILE`. */
export function parseCyclictestJson(text: string, ctx: ParseContext = {}): ProbeResult {
    // cyclictest prints C's "nan"/"inf" for the mean of zero cycles; JSON has no such literal.
    const sanitised = text.replace(/:\s*-?(nan|inf)\b/gi, ": null");
    let doc: Record<string, unknown>;
    try {
        doc = JSON.parse(sanitised) as Record<string, unknown>;
    } catch (err) {
        throw new ProbeParseError("cyclictest", `the --json file is not JSON (${(err as Error).message})`, text);
    }
    if (typeof doc !== "object" || doc === null || typeof doc.thread !== "object" || doc.thread === null) {
        throw new ProbeParseError("cyclictest", 'the --json file has no "thread" object', text);
    }
    const threads = doc.thread as Record<string, CyclictestJsonThread>;
    const cmdline = typeof doc["cmdline:"] === "string" ? doc["cmdline:"] : typeof doc.cmdline === "string" ? doc.cmdline : (ctx.command ?? "");
    const rangeUs = histogramFlagUs(cmdline as string);
    const series: ProbeSeries[] = Object.keys(threads)
        .sort((a, b) => Number(a) - Number(b))
        .map((id) => {
            const t = threads[id];
            const cycles = typeof t.cycles === "number" ? t.cycles : 0;
            const buckets: HistogramBucket[] = Object.entries(t.histogram ?? {}).map(([us, count]) => ({
                us: Number(us),
                count: Number(count),
            }));
            const stats =
                cycles > 0
                    ? buildStats(
                          {
                              samples: cycles,
                              minUs: numberOrNull(t.min),
                              avgUs: numberOrNull(t.avg),
                              maxUs: numberOrNull(t.max),
                          },
                          buckets,
                          rangeUs,
                      )
                    : emptyStats();
            const cpu = typeof t.cpu === "number" ? t.cpu : null;
            return { kind: "timer" as const, cpu, label: threadLabel(Number(id), cpu), stats };
        });
    // The keys carry a trailing colon in rt-tests 2.x; accept the plain spelling too in case it is fixed.
    const version = stringOrNull(doc["rt_test_version:"]) ?? stringOrNull(doc["rt_test_version"]) ?? ctx.version ?? null;
    const command = stringOrNull(doc["cmdline:"]) ?? stringOrNull(doc["cmdline"]) ?? ctx.command ?? null;
    return {
        probe: "cyclictest",
        version,
        command,
        series,
        noSamples: series.some((s) => s.stats.samples > 0) ? null : CYCLICTEST_NO_MEASUREMENTS,
    };
}

/**
 * Parses the histogram cyclictest prints on stdout with `-h US` (or `-H US`,
 * whose extra summary column is ignored). Handles both the rt-tests 2.4
 * layout (every bucket, `# Total:` line) and the 2.7 one (non-empty buckets
 * only, no `# Total:`).
 */
export function parseCyclictestHistogram(text: string, ctx: ParseContext = {}): ProbeResult {
    const version = cyclictestVersionFromBanner(text) ?? ctx.version ?? null;
    if (isCyclictestUsage(text)) {
        return { probe: "cyclictest", version, command: ctx.command ?? null, series: [], noSamples: CYCLICTEST_PRINTED_USAGE };
    }
    const lines = text.split(/\r?\n/);
    const start = lines.findIndex((l) => l.trim() === "# Histogram");
    if (start < 0) throw new ProbeParseError("cyclictest", 'no "# Histogram" line (was -h given?)', text);

    const rows: number[][] = [];
    const footer = new Map<string, number[]>();
    for (const line of lines.slice(start + 1)) {
        const bucket = /^(\d+)\s+(.*)$/.exec(line);
        if (bucket) {
            rows.push([Number(bucket[1]), ...numbers(bucket[2])]);
            continue;
        }
        const field = /^#\s*(Total|Min Latencies|Avg Latencies|Max Latencies|Histogram Overflows):(.*)$/.exec(line);
        if (field) footer.set(field[1], numbers(field[2]));
    }
    const mins = footer.get("Min Latencies");
    const avgs = footer.get("Avg Latencies");
    const maxes = footer.get("Max Latencies");
    if (!mins || !avgs || !maxes) {
        throw new ProbeParseError("cyclictest", 'the histogram has no "# Min/Avg/Max Latencies" footer (output cut short?)', text);
    }
    const threads = mins.length;
    const overflows = footer.get("Histogram Overflows") ?? [];
    const series: ProbeSeries[] = [];
    for (let t = 0; t < threads; t++) {
        const buckets = rows.map((r) => ({ us: r[0], count: r[1 + t] ?? 0 }));
        const overflow = overflows[t] ?? 0;
        const samples = buckets.reduce((n, b) => n + b.count, 0) + overflow;
        // 2.4 prints every bucket of the -h range, so the last row ends the range; 2.7 omits empty ones (then the command says it).
        const rangeUs = histogramFlagUs(ctx.command ?? "") ?? (rows.length > 0 ? rows[rows.length - 1][0] + 1 : undefined);
        const stats = samples > 0 ? buildStats({ samples, minUs: mins[t], avgUs: avgs[t] ?? null, maxUs: maxes[t] ?? null }, buckets, rangeUs) : emptyStats();
        series.push({ kind: "timer", cpu: null, label: threadLabel(t, null), stats });
    }
    return {
        probe: "cyclictest",
        version,
        command: ctx.command ?? null,
        series,
        noSamples: series.some((s) => s.stats.samples > 0) ? null : CYCLICTEST_NO_MEASUREMENTS,
    };
}

/** Output of one cyclictest run as the runner collects it. */
export interface CyclictestRunOutput {
    /** Everything cyclictest printed on stdout. */
    stdout: string;
    /** Content of the `--json` file, or undefined when the file was not written. */
    json?: string;
}

/**
 * Reads a run the way the kit runs it (`--json` plus `-h`): the usage trap
 * first, then the JSON file (exact mean, CPU numbers), then the stdout
 * histogram (which also counts overflows the JSON leaves out).
 */
export function parseCyclictestRun(run: CyclictestRunOutput, ctx: ParseContext = {}): ProbeResult {
    if (isCyclictestUsage(run.stdout)) return parseCyclictestHistogram(run.stdout, ctx);
    if (run.json === undefined || run.json.trim() === "") return parseCyclictestHistogram(run.stdout, ctx);
    return parseCyclictestJson(run.json, ctx);
}

function threadLabel(thread: number, cpu: number | null): string {
    return cpu === null ? `thread ${thread}` : `thread ${thread} (cpu ${cpu})`;
}

function numbers(text: string): number[] {
    // "# Thread 0: ... # 00544 others" never reaches here; footer values are plain integers.
    return text
        .trim()
        .split(/\s+/)
        .filter((s) => /^\d+$/.test(s))
        .map(Number);
}

function numberOrNull(v: unknown): number | null {
    return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function stringOrNull(v: unknown): string | null {
    return typeof v === "string" ? v : null;
}

/** The histogram range cyclictest was given (`-h N`, `-hN`, `--histogram=N`), µs; undefined when absent. */
export function histogramFlagUs(command: string): number | undefined {
    const m = /(?:^|\s)(?:-h\s*|--histogram[=\s])(\d+)(?=\s|$)/.exec(command);
    return m ? Number(m[1]) : undefined;
}
