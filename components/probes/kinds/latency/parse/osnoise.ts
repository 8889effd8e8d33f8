/**
 * Reads `rtla osnoise top` output. The osnoise tracer runs a busy thread per
 * CPU for `runtime` µs of every `period` µs and accounts every interruption.
 * Per CPU, `Max Single` is the longest single interruption (the seed's
 * "maximum vCPU pre-emption period") and `Max Noise` is the largest noise
 * summed over one period: with `-p 1000` that is the cumulative pre-emption
 * in a 1 ms window.
 *
 * Layout (rtla 6.1, osnoise_top.c): a title line, `duration: ... | time is in
 * us`, the column header, one row per CPU:
 * `CPU #periods runtime noise %avail maxnoise maxsingle hw nmi irq softirq thread`.
 * rtla 6.1 prints colour escapes even without a terminal, and without `-q`
 * it redraws the screen (`ESC c`) every second; the last frame is the result.
 */
import { emptyStats } from "../../../stats";
import type { LatencyStats } from "../../../types";
import type { ParseContext, ProbeResult, ProbeSeries } from "../types";
import { ProbeParseError, stripAnsi } from "../../../parseError";
import { readRtlaHist, rtlaDeclaredRangeUs } from "./rtlaHist";
import { columnStats } from "./timerlat";

/** Reason given when osnoise printed its header but no CPU row. */
export const OSNOISE_NO_SAMPLES = "rtla osnoise recorded no periods";

/** One CPU row of the osnoise top table. */
export interface OsnoiseCpuRow {
    cpu: number;
    /** Periods completed. */
    periods: number;
    /** Busy-loop time, µs, summed over periods. */
    runtimeUs: number;
    /** Noise, µs, summed over periods. */
    noiseUs: number;
    /** Largest noise within one period, µs. */
    maxNoiseUs: number;
    /** Longest single interruption, µs. */
    maxSingleUs: number;
}

export function parseOsnoiseTop(text: string, ctx: ParseContext = {}): ProbeResult {
    const frames = text.split("\x1bc");
    const frame = stripAnsi(frames[frames.length - 1]);
    const lines = frame.split(/\r?\n/);
    const headerAt = lines.findIndex((l) => /^CPU Period\s+Runtime\s+Noise/.test(l));
    if (headerAt < 0) throw new ProbeParseError("rtla osnoise", 'no "CPU Period Runtime Noise" header (did rtla start measuring?)', text);
    const rows: OsnoiseCpuRow[] = [];
    for (const line of lines.slice(headerAt + 1)) {
        const m = /^\s*(\d+)\s+#(\d+)\s+(\d+)\s+(\d+)\s+\d+\.\d+\s+(\d+)\s+(\d+)\b/.exec(line);
        if (!m) continue;
        rows.push({
            cpu: Number(m[1]),
            periods: Number(m[2]),
            runtimeUs: Number(m[3]),
            noiseUs: Number(m[4]),
            maxNoiseUs: Number(m[5]),
            maxSingleUs: Number(m[6]),
        });
    }
    const series: ProbeSeries[] = [];
    for (const r of rows) {
        series.push({ kind: "single-noise", cpu: r.cpu, label: `cpu ${r.cpu} single`, stats: rowStats(r.periods, null, r.maxSingleUs) });
        series.push({
            kind: "period-noise",
            cpu: r.cpu,
            label: `cpu ${r.cpu} per period`,
            stats: rowStats(r.periods, r.periods > 0 ? r.noiseUs / r.periods : null, r.maxNoiseUs),
        });
    }
    return {
        probe: "osnoise",
        version: ctx.version ?? null,
        command: ctx.command ?? null,
        series,
        noSamples: rows.some((r) => r.periods > 0) ? null : OSNOISE_NO_SAMPLES,
    };
}

/** osnoise top prints no histogram; samples are the periods measured. */
function rowStats(periods: number, avgUs: number | null, maxUs: number): LatencyStats {
    if (periods <= 0) return emptyStats();
    return { samples: periods, minUs: null, avgUs, maxUs, p99Us: null, p999Us: null, histogram: [], overflow: 0 };
}

/**
 * Reads `rtla osnoise hist` output: per CPU, a histogram of single noises
 * (each interruption of the busy thread longer than the threshold), with
 * count, min, avg and max. It gives the distribution `osnoise top` cannot;
 * the largest noise per period exists only in `top`, so the two are read
 * apart and both series kinds keep their meaning.
 *
 * Layout (rtla 6.1, osnoise_hist.c): the rtla histogram table (see
 * rtlaHist.ts) with one `CPU-NNN` column per CPU.
 */
export function parseOsnoiseHist(text: string, ctx: ParseContext = {}): ProbeResult {
    const { columns, rows, summary } = readRtlaHist(text, "rtla osnoise");
    if (columns.length > 0 && !summary.has("count")) {
        throw new ProbeParseError("rtla osnoise", 'no "count:" summary row (output cut short, or run with --no-summary?)', text);
    }
    const series: ProbeSeries[] = columns.map((name, i) => {
        const m = /^CPU-(\d+)$/.exec(name);
        if (!m) throw new ProbeParseError("rtla osnoise", `unknown column "${name}" in the Index header`, text);
        const cpu = Number(m[1]);
        return { kind: "single-noise", cpu, label: `cpu ${cpu} single (hist)`, stats: columnStats(rows, summary, i, rtlaDeclaredRangeUs(ctx.command)) };
    });
    return {
        probe: "osnoise",
        version: ctx.version ?? null,
        command: ctx.command ?? null,
        series,
        noSamples: series.some((s) => s.stats.samples > 0) ? null : OSNOISE_HIST_NO_SAMPLES,
    };
}

/** Reason given when osnoise hist counted no noise on any CPU. */
export const OSNOISE_HIST_NO_SAMPLES = "rtla osnoise hist recorded no noise";
