/**
 * The table both rtla histograms print (rtla 6.1, timerlat_hist.c and
 * osnoise_hist.c share the layout): `# RTLA <tool> histogram`, the time unit,
 * the duration, an `Index` header naming one column per CPU (and context),
 * one row per non-empty bucket, then `over:`, `count:`, `min:`, `avg:` and
 * `max:` rows in the column order. Read once here so the two parsers cannot
 * drift apart.
 */
import { ProbeParseError, stripAnsi } from "../../../parseError";

export interface RtlaHistTable {
    /** Column names from the `Index` header, e.g. `IRQ-001`, `Thr-001`, `CPU-001`. */
    columns: string[];
    /** Bucket rows: the bucket's lower edge, µs, then one count per column. */
    rows: { us: number; counts: number[] }[];
    /** Summary rows by name (`over`, `count`, `min`, `avg`, `max`), µs for the figures; null where rtla printed none. */
    summary: Map<string, (number | null)[]>;
}

/** Reads the table; `tool` names the tool in errors (`rtla timerlat`). */
export function readRtlaHist(text: string, tool: string): RtlaHistTable {
    const lines = stripAnsi(text).split(/\r?\n/);
    const headerAt = lines.findIndex((l) => /^Index(\s|$)/.test(l));
    if (headerAt < 0) throw new ProbeParseError(tool, 'no "Index" header line (did rtla start measuring?)', text);
    // -n switches the whole report to nanoseconds; the kit compares microseconds.
    const scale = lines.some((l) => /^# Time unit is nanoseconds/.test(l)) ? 1 / 1000 : 1;
    const columns = lines[headerAt].trim().split(/\s+/).slice(1);
    const rows: RtlaHistTable["rows"] = [];
    const summary = new Map<string, (number | null)[]>();
    for (const line of lines.slice(headerAt + 1)) {
        const row = /^(\d+)\s+(.*)$/.exec(line);
        if (row) {
            rows.push({ us: Number(row[1]) * scale, counts: row[2].trim().split(/\s+/).map(Number) });
            continue;
        }
        const field = /^(over|count|min|avg|max):(.*)$/.exec(line);
        if (field) {
            const values = field[2].trim() === "" ? [] : field[2].trim().split(/\s+/);
            // Counts are not times: only the figures are scaled.
            const k = field[1] === "over" || field[1] === "count" ? 1 : scale;
            summary.set(
                field[1],
                values.map((v) => (/^\d+(\.\d+)?$/.test(v) ? Number(v) * k : null)),
            );
        }
    }
    return { columns, rows, summary };
}

/**
 * The range an rtla histogram command asked for, µs: bucket width (`-b`,
 * default 1) × entries (`-E`, default 256); undefined without a command.
 * Samples at or above it are rtla's "over".
 */
export function rtlaDeclaredRangeUs(command: string | undefined): number | undefined {
    if (!command || !/\brtla\s+\S+\s+hist\b/.test(command)) return undefined;
    const flag = (short: string, long: string) => new RegExp(`(?:^|\\s)(?:${short}|${long})[=\\s]+(\\d+)`).exec(command)?.[1];
    const bucket = Number(flag("-b", "--bucket-size") ?? 1);
    const entries = Number(flag("-E", "--entries") ?? 256);
    return bucket * entries;
}
