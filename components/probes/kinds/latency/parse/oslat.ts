/**
 * Reads oslat (rt-tests) results, text or `--json=FILE`. oslat spins on a
 * CPU and records how long each loop took: its maximum is the longest time
 * the CPU was taken away from the spinning task. The last bucket also holds
 * every overflow ("(including overflows)"), so it is kept as a bucket.
 */
import { buildStats, emptyStats } from "../../../stats";
import type { HistogramBucket } from "../../../types";
import type { ParseContext, ProbeResult, ProbeSeries } from "../types";
import { ProbeParseError } from "../../../parseError";

/** Reason given when oslat printed no per-core results. */
export const OSLAT_NO_MEASUREMENTS = "oslat printed no measurements";

/** Parses oslat's text report (one column per measured core). */
export function parseOslatText(text: string, ctx: ParseContext = {}): ProbeResult {
    const version = /^oslat V (\S+)/m.exec(text)?.[1] ?? ctx.version ?? null;
    const values = new Map<string, string[]>();
    const buckets: { us: number; counts: number[] }[] = [];
    for (const line of text.split(/\r?\n/)) {
        const bucket = /^\s*(\d+) \(us\):\s*(.*)$/.exec(line);
        if (bucket) {
            buckets.push({ us: Number(bucket[1]), counts: integers(bucket[2]) });
            continue;
        }
        const field = /^\s*(Core|Counter Freq|Minimum|Average|Maximum|Duration):\s*(.*)$/.exec(line);
        if (field)
            values.set(
                field[1],
                field[2]
                    .replace(/\((us|sec|Mhz)\)/g, " ")
                    .trim()
                    .split(/\s+/),
            );
    }
    const cores = values.get("Core");
    if (!cores) throw new ProbeParseError("oslat", 'no "Core:" line (oslat did not finish a measurement)', text);
    const mins = values.get("Minimum") ?? [];
    const avgs = values.get("Average") ?? [];
    const maxes = values.get("Maximum") ?? [];
    const series: ProbeSeries[] = cores.map((core, i) => {
        const hist: HistogramBucket[] = buckets.map((b) => ({ us: b.us, count: b.counts[i] ?? 0 }));
        const samples = hist.reduce((n, b) => n + b.count, 0);
        const cpu = Number(core);
        const stats = samples > 0 ? buildStats({ samples, minUs: num(mins[i]), avgUs: num(avgs[i]), maxUs: num(maxes[i]) }, hist) : emptyStats();
        return { kind: "loop" as const, cpu, label: `cpu ${cpu}`, stats };
    });
    return {
        probe: "oslat",
        version,
        command: ctx.command ?? null,
        series,
        noSamples: series.some((s) => s.stats.samples > 0) ? null : OSLAT_NO_MEASUREMENTS,
    };
}

/** Parses the document oslat writes with `--json=FILE` (same trailing-colon keys as cyclictest). */
export function parseOslatJson(text: string, ctx: ParseContext = {}): ProbeResult {
    let doc: Record<string, unknown>;
    try {
        doc = JSON.parse(text.replace(/:\s*-?(nan|inf)\b/gi, ": null")) as Record<string, unknown>;
    } catch (err) {
        throw new ProbeParseError("oslat", `the --json file is not JSON (${(err as Error).message})`, text);
    }
    if (typeof doc?.thread !== "object" || doc.thread === null) {
        throw new ProbeParseError("oslat", 'the --json file has no "thread" object', text);
    }
    const threads = doc.thread as Record<string, { cpu?: number; min?: number; avg?: number; max?: number; histogram?: Record<string, number> }>;
    const series: ProbeSeries[] = Object.keys(threads)
        .sort((a, b) => Number(a) - Number(b))
        .map((id) => {
            const t = threads[id];
            const hist = Object.entries(t.histogram ?? {}).map(([us, count]) => ({ us: Number(us), count: Number(count) }));
            const samples = hist.reduce((n, b) => n + b.count, 0);
            const cpu = typeof t.cpu === "number" ? t.cpu : null;
            const stats = samples > 0 ? buildStats({ samples, minUs: num(t.min), avgUs: num(t.avg), maxUs: num(t.max) }, hist) : emptyStats();
            return { kind: "loop" as const, cpu, label: cpu === null ? `thread ${id}` : `cpu ${cpu}`, stats };
        });
    const version = (doc["rt_test_version:"] ?? doc["rt_test_version"] ?? ctx.version ?? null) as string | null;
    const command = (doc["cmdline:"] ?? doc["cmdline"] ?? ctx.command ?? null) as string | null;
    return {
        probe: "oslat",
        version,
        command,
        series,
        noSamples: series.some((s) => s.stats.samples > 0) ? null : OSLAT_NO_MEASUREMENTS,
    };
}

function integers(text: string): number[] {
    return text
        .replace("(including overflows)", " ")
        .trim()
        .split(/\s+/)
        .filter((s) => /^\d+$/.test(s))
        .map(Number);
}

function num(v: unknown): number | null {
    const n = typeof v === "number" ? v : typeof v === "string" && v !== "" ? Number(v) : NaN;
    return Number.isFinite(n) ? n : null;
}
