/**
 * Cross-checks between probes that measure the same thing in two ways, and
 * sample-count checks. Pure: results in, notes out. A disagreement beyond
 * the factor is a note in the report, never a silent pass, and never a
 * failure on its own (the two tools run one after another, not together).
 *
 * - cyclictest max vs timerlat thread max, same guest and vCPU: both time a
 *   timer expiry to the woken thread running.
 * - osnoise max single noise vs oslat max, same guest and vCPU: both time
 *   the longest stretch a busy thread lost its vCPU.
 *
 * The factor (default 4, docs/probes.md): on the TCG CI machine the clean
 * maxima of consecutive runs differed by up to 3.1× (cyclictest 12.3 ms,
 * timerlat thread 4.0 ms); a probe that misses a real disturbance differs by
 * far more (a 300 ms stall against a few ms of noise is ~75×).
 */
import { sampleShortfall } from "../../stats";
import type { GuestProbeResult, ProbeKind, ProbeSeries, SeriesKind } from "./types";

export const DEFAULT_CROSS_CHECK_FACTOR = 4;

export interface CrossCheck {
    guest: string;
    cpu: number | null;
    /** e.g. `cyclictest max vs timerlat thread max`. */
    what: string;
    aUs: number;
    bUs: number;
    /** larger / smaller (≥ 1). */
    ratio: number;
    factor: number;
    agree: boolean;
    /** One line for the report. */
    note: string;
}

interface Pair {
    what: string;
    a: { probe: ProbeKind; series: SeriesKind; name: string };
    b: { probe: ProbeKind; series: SeriesKind; name: string };
}

const PAIRS: Pair[] = [
    {
        what: "timer wake-up",
        a: { probe: "cyclictest", series: "timer", name: "cyclictest max" },
        b: { probe: "timerlat", series: "thread", name: "timerlat thread max" },
    },
    {
        what: "longest preemption",
        a: { probe: "osnoise", series: "single-noise", name: "osnoise max single noise" },
        b: { probe: "oslat", series: "loop", name: "oslat max" },
    },
];

/** Ratio of two figures, larger over smaller; sub-µs figures count as 1 µs so a zero never divides. */
export function agreementRatio(aUs: number, bUs: number): number {
    const a = Math.max(aUs, 1);
    const b = Math.max(bUs, 1);
    return Math.max(a, b) / Math.min(a, b);
}

/** Every cross-check the results allow: per guest, per CPU both probes measured. */
export function crossChecks(results: GuestProbeResult[], factor = DEFAULT_CROSS_CHECK_FACTOR): CrossCheck[] {
    const out: CrossCheck[] = [];
    const guests = [...new Set(results.map((r) => r.guest))];
    for (const guest of guests) {
        for (const pair of PAIRS) {
            const a = seriesOf(results, guest, pair.a.probe, pair.a.series);
            const b = seriesOf(results, guest, pair.b.probe, pair.b.series);
            for (const sa of a) {
                const sb = b.find((s) => s.cpu === sa.cpu) ?? (a.length === 1 && b.length === 1 ? b[0] : undefined);
                if (!sb || sa.stats.maxUs === null || sb.stats.maxUs === null) continue;
                const ratio = agreementRatio(sa.stats.maxUs, sb.stats.maxUs);
                const agree = ratio <= factor;
                const where = sa.cpu === null ? "" : ` on vCPU ${sa.cpu}`;
                const figures = `${pair.a.name} ${sa.stats.maxUs} µs (${sa.stats.samples} samples) vs ${pair.b.name} ${sb.stats.maxUs} µs (${sb.stats.samples} samples)`;
                out.push({
                    guest,
                    cpu: sa.cpu,
                    what: `${pair.a.name} vs ${pair.b.name}`,
                    aUs: sa.stats.maxUs,
                    bUs: sb.stats.maxUs,
                    ratio,
                    factor,
                    agree,
                    note: `${pair.what} on ${guest}${where}: ${figures}, ratio ${ratio.toFixed(2)}${agree ? ` (within ${factor}×)` : `: DISAGREE beyond ${factor}×, one of them missed or invented a stall`}`,
                });
            }
        }
    }
    return out;
}

/** Notes for series that gave fewer samples than their duration and rate promise. */
export function shortfallNotes(results: GuestProbeResult[]): string[] {
    const notes: string[] = [];
    for (const { guest, result } of results) {
        for (const s of result.series) {
            const short = sampleShortfall(s.stats);
            if (!short) continue;
            notes.push(
                `${result.probe} on ${guest} ${s.label}: ${short.samples} of ${short.expected} expected samples (${(short.missing * 100).toFixed(1)} % missing: wake-ups or periods lost, each missing one hides its latency)`,
            );
        }
    }
    return notes;
}

function seriesOf(results: GuestProbeResult[], guest: string, probe: ProbeKind, kind: SeriesKind): ProbeSeries[] {
    return results
        .filter((r) => r.guest === guest && r.result.probe === probe && r.result.noSamples === null)
        .flatMap((r) => r.result.series.filter((s) => s.kind === kind && s.stats.samples > 0));
}
