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
import { buildStats, emptyStats } from "../stats";
import type { ParseContext, ProbeResult, ProbeSeries, SeriesKind } from "../types";
import { ProbeParseError, stripAnsi } from "./errors";

/** Reason given when timerlat printed a histogram without any CPU column. */
export const TIMERLAT_NO_SAMPLES = "rtla timerlat recorded no samples";

export function parseTimerlatHist(text: string, ctx: ParseContext = {}): ProbeResult {
    const lines = stripAnsi(text).split(/\r?\n/);
    const headerAt = lines.findIndex((l) => /^Index(\s|$)/.test(l));
    if (headerAt < 0) throw new ProbeParseError("rtla timerlat", 'no "Index" header line (did rtla start measuring?)', text);
    // -n switches the whole report to nanoseconds; the kit compares microseconds.
    const scale = lines.some((l) => /^# Time unit is nanoseconds/.test(l)) ? 1 / 1000 : 1;
    const columns = lines[headerAt].trim().split(/\s+/).slice(1);

    const rows: number[][] = [];
    const summary = new Map<string, (number | null)[]>();
    for (const line of lines.slice(headerAt + 1)) {
        const row = /^(\d+)\s+(.*)$/.exec(line);
        if (row) {
            rows.push([Number(row[1]), ...row[2].trim().split(/\s+/).map(Number)]);
            continue;
        }
        const field = /^(over|count|min|avg|max):(.*)$/.exec(line);
        if (field) {
            const values = field[2].trim() === "" ? [] : field[2].trim().split(/\s+/);
            summary.set(
                field[1],
                values.map((v) => (/^\d+$/.test(v) ? Number(v) : null)),
            );
        }
    }
    if (columns.length === 0) {
        return { probe: "timerlat", version: ctx.version ?? null, command: ctx.command ?? null, series: [], noSamples: TIMERLAT_NO_SAMPLES };
    }
    const counts = summary.get("count");
    if (!counts) throw new ProbeParseError("rtla timerlat", 'no "count:" summary row (output cut short, or run with --no-summary?)', text);

    const series: ProbeSeries[] = columns.map((name, i) => {
        const m = /^(IRQ|Thr|Usr)-(\d+)$/.exec(name);
        if (!m) throw new ProbeParseError("rtla timerlat", `unknown column "${name}" in the Index header`, text);
        const kind: SeriesKind = m[1] === "IRQ" ? "irq" : "thread";
        const cpu = Number(m[2]);
        const samples = counts[i] ?? 0;
        const over = summary.get("over")?.[i] ?? 0;
        const at = (key: string) => {
            const v = summary.get(key)?.[i];
            return v === null || v === undefined ? null : v * scale;
        };
        const buckets = rows.map((r) => ({ us: r[0] * scale, count: r[1 + i] ?? 0 }));
        const stats = samples > 0 ? buildStats({ samples, minUs: at("min"), avgUs: at("avg"), maxUs: at("max") }, buckets) : emptyStats();
        // buildStats counts the gap between count and the buckets as overflow; the tool says how many exactly.
        if (samples > 0 && stats.histogram.length > 0) stats.overflow = over;
        return { kind, cpu, label: name, stats };
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
