/**
 * The latency kind's words: what a parser returns and what its verdict and
 * report read. Plain data only, so results can be written to JSON and read
 * back unchanged.
 */
import type { LatencyStats } from "../../types";

/** The latency tools the kit runs inside guests. */
export type ProbeKind = "cyclictest" | "oslat" | "timerlat" | "osnoise";

/**
 * What one series of samples measured.
 * - `timer`: cyclictest wake-up latency of one thread.
 * - `loop`: oslat busy-loop stall lengths on one CPU.
 * - `irq` / `thread`: rtla timerlat latency at the timer IRQ handler / at the woken thread.
 * - `single-noise`: rtla osnoise, the longest single interruption.
 * - `period-noise`: rtla osnoise, the noise summed over one period (1 ms by default).
 */
export type SeriesKind = "timer" | "loop" | "irq" | "thread" | "single-noise" | "period-noise";

/** One measured series: one thread or CPU of one tool run. */
export interface ProbeSeries {
    kind: SeriesKind;
    /** CPU the series ran on, as the tool reported it; null when the tool does not say. */
    cpu: number | null;
    /** Short label for reports, e.g. `thread 0 (cpu 1)` or `IRQ-001`. */
    label: string;
    stats: LatencyStats;
}

/** What a parser extracted from one tool run. */
export interface ProbeResult {
    probe: ProbeKind;
    /** Tool version, e.g. `2.40` for rt-tests or `6.1` for rtla; null when the output does not carry it. */
    version: string | null;
    /** Command line that produced the output, as the tool recorded it or as the caller passed it. */
    command: string | null;
    series: ProbeSeries[];
    /**
     * Why nothing was measured, e.g. `cyclictest printed no measurements`; null when samples exist.
     * The verdict turns a non-null value into a failure, never a pass.
     */
    noSamples: string | null;
    /** Set when the run was cut short (interrupted): the figures cover only what was measured. */
    partial?: PartialRun;
}

/** A run that ended before its planned duration; its figures are what was measured until then. */
export interface PartialRun {
    /** Why it ended early, e.g. `interrupted by SIGINT`. */
    reason: string;
    /** Seconds measured (whole chunks, plus the interrupted one up to the interruption). */
    measuredSec: number;
    /** Seconds planned. */
    plannedSec: number;
}

/** Context a caller knows about a run but the output may not carry. */
export interface ParseContext {
    /** Command line that was run; fills `ProbeResult.command` when the output lacks one. */
    command?: string;
    /** Tool version read separately (see `versionCommand`); fills `ProbeResult.version`. */
    version?: string;
}

/** One guest's result for one probe, the unit the verdict judges. */
export interface GuestProbeResult {
    /** Guest (domain) name, e.g. `vnf-a`. */
    guest: string;
    result: ProbeResult;
}

/** One tool run, for the record. */
export interface ProbeRun {
    guest: string;
    probe: ProbeKind;
    command: string;
    exitCode: number;
    seconds: number;
}

export interface SuiteRun {
    results: GuestProbeResult[];
    runs: ProbeRun[];
    /** Things a reader of the results must know (unprobed guests, load not applied...). */
    notes: string[];
    /** Wall time of the whole suite, seconds. */
    seconds: number;
    /** Set when the suite was interrupted: the results are what was measured until then (each marked `partial`). */
    partial?: { reason: string; measured: number; skipped: number };
}

/** What the latency kind measured: the verdict's `latency` section. */
export interface LatencySection extends SuiteRun {
    /** The factor beyond which the cross-checks disagree (see crossCheck.ts). */
    crossCheckFactor: number;
    /** The baseline compared with, when the stack names one. */
    baseline?: { source: string; regressionFactor: number };
}
