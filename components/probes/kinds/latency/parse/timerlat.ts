/**
 * Reads `rtla timerlat hist` output. timerlat arms a periodic timer per CPU
 * and records two latencies per wake-up: at the timer IRQ handler (`IRQ-NNN`
 * columns: timer expiry to guest interrupt handler, the seed's "interrupt
 * latency") and at the woken kernel thread (`Thr-NNN`).
 *
 * Layout (rtla 6.1, timerlat_hist.c): `# RTLA timerlat histogram`, the time
 * unit, the duration, an `Index` header naming one column per CPU and
 * context, one row per non-empty bucket, then `over:`, `count:`, `min:`,
 * `avg:` and `max:` rows in the same column order.
 */
import { buildStats, emptyStats, percentileFields } from "../../../stats";
import type { LatencyStats } from "../../../types";
import type { ParseContext, ProbeResult, ProbeSeries, SeriesKind } from "../types";
import { ProbeParseError } from "../../../parseError";
import { readRtlaHist, rtlaDeclaredRangeUs, type RtlaHistTable } from "./rtlaHist";

/** Reason given when timerlat printed a histogram without any CPU column. */
export const TIMERLAT_NO_SAMPLES = "rtla timerlat recorded no samples";

export function parseTimerlatHist(text: string, ctx: ParseContext = {}): ProbeResult {
    const { columns, rows, summary } = readRtlaHist(text, "rtla timerlat");
    if (columns.length === 0) {
        return { probe: "timerlat", version: ctx.version ?? null, command: ctx.command ?? null, series: [], noSamples: TIMERLAT_NO_SAMPLES };
    }
    const counts = summary.get("count");
    if (!counts) throw new ProbeParseError("rtla timerlat", 'no "count:" summary row (output cut short, or run with --no-summary?)', text);

    const series: ProbeSeries[] = columns.map((name, i) => {
        const m = /^(IRQ|Thr|Usr)-(\d+)$/.exec(name);
        if (!m) throw new ProbeParseError("rtla timerlat", `unknown column "${name}" in the Index header`, text);
        const kind: SeriesKind = m[1] === "IRQ" ? "irq" : "thread";
        return { kind, cpu: Number(m[2]), label: name, stats: columnStats(rows, summary, i, rtlaDeclaredRangeUs(ctx.command)) };
    });
    const irq = series.filter((s) => s.kind === "irq");
    return {
        probe: "timerlat",
        version: ctx.version ?? null,
        command: ctx.command ?? null,
        series,
        noSamples: irq.some((s) => s.stats.samples > 0) ? null : TIMERLAT_NO_SAMPLES,
    };
}

/** One column of an rtla histogram as stats: the summary's figures, the buckets, and rtla's own overflow count. */
export function columnStats(rows: RtlaHistTable["rows"], summary: RtlaHistTable["summary"], i: number, declaredRangeUs?: number): LatencyStats {
    const samples = summary.get("count")?.[i] ?? 0;
    const at = (key: string) => summary.get(key)?.[i] ?? null;
    const buckets = rows.map((r) => ({ us: r.us, count: r.counts[i] ?? 0 }));
    const stats = samples > 0 ? buildStats({ samples, minUs: at("min"), avgUs: at("avg"), maxUs: at("max") }, buckets, declaredRangeUs) : emptyStats();
    // buildStats counts the gap between count and the buckets as overflow; the tool says how many exactly.
    if (samples > 0 && stats.histogram.length > 0) {
        stats.overflow = summary.get("over")?.[i] ?? 0;
        // Percentiles again with rtla's own overflow count, which is what the table holds.
        Object.assign(stats, percentileFields(stats.histogram, stats.overflow, declaredRangeUs));
    }
    return stats;
}
