/**
 * The exact command lines the runner executes inside a guest, as argv
 * arrays (no shell, so nothing needs quoting). Written for the tools in
 * Debian bookworm: rt-tests 2.4 (cyclictest, oslat) and rtla 6.1.
 *
 * Choices, each for a reason:
 * - cyclictest gets `--json=FILE` (supported since rt-tests 2.0) for the exact
 *   mean and CPU numbers, plus `-h` because the JSON histogram is empty
 *   without it. Never `-n`: it was removed, and 2.4 answers it with its usage
 *   text and exit status 0, measuring nothing.
 * - `-q` everywhere: only the final summary, no screen redraws.
 * - rtla timerlat runs as `hist` (a histogram and per-CPU min/avg/max in one
 *   report); rtla osnoise as `top` (the only mode that reports the largest
 *   noise per period, i.e. the cumulative pre-emption per window) and then as
 *   `hist` (the only mode with a distribution of single noises).
 * - Every histogram's range comes from one setting (histogramRange.ts), 1 s
 *   by default, because TCG's stalls overflow the tools' own defaults.
 */
import { problemError, type ProblemListError } from "../../../spec/problems";
import { CpuSet } from "../../../spec/units";
import { DEFAULT_HISTOGRAM_RANGE_US, histogramRange } from "./histogramRange";
import type { ProbeKind } from "./types";

/** What every probe needs to know. */
export interface ProbeConfig {
    /** CPUs to measure, as a Linux CPU list ("1", "1-3", "1,3"). Usually the guest's isolated vCPUs. */
    cpus: string;
    /** Measurement length in whole seconds. @default none: the caller picks; the kit's defaults live with the runner. */
    durationSec: number;
    /** SCHED_FIFO priority of the measuring threads, 1-99. @default 95 in the runner: above kernel threads, below migration/watchdog. */
    priority: number;
    /** Wake-up period in µs for cyclictest (`-i`) and timerlat (`-p`). @default 1000 in the runner, cyclictest's own default. */
    intervalUs: number;
    /**
     * A CPU outside `cpus` for the tools' main (reporting) thread, so it does
     * not disturb a measured CPU. @default unset: the tools' own choice (oslat: CPU 0).
     */
    housekeepingCpu?: number;
}

/** A probe config a tool would reject or misread: the kit's one bad-input error, "probe config has 1 problem: ...". */
function probeConfigProblem(field: string, value: unknown, reason: string, fix: string): ProblemListError {
    return problemError("probe config", field, value, reason, fix);
}

/** Expands a CPU list ("1-3,5") into CPU numbers; throws a ProblemListError on bad syntax. */
export function expandCpuList(list: string, field = "cpus"): number[] {
    const parsed = CpuSet.tryParse(list, field);
    if (!parsed.ok) throw probeConfigProblem(field, list, "is not a CPU list", 'write a CPU list such as "1", "1-3" or "1,3-4"');
    if (parsed.value.cpus.length === 0) throw probeConfigProblem(field, list, "names no CPU", 'name at least one CPU, e.g. "1"');
    return [...parsed.value.cpus];
}

function check(cfg: ProbeConfig): number[] {
    const cpus = expandCpuList(cfg.cpus);
    if (!Number.isInteger(cfg.durationSec) || cfg.durationSec < 1) {
        throw probeConfigProblem("durationSec", cfg.durationSec, "must be a whole number of seconds ≥ 1", "give e.g. 60");
    }
    if (!Number.isInteger(cfg.priority) || cfg.priority < 1 || cfg.priority > 99) {
        throw probeConfigProblem("priority", cfg.priority, "is not a SCHED_FIFO priority", "give a SCHED_FIFO priority from 1 to 99, e.g. 95");
    }
    if (!Number.isInteger(cfg.intervalUs) || cfg.intervalUs < 50) {
        throw probeConfigProblem("intervalUs", cfg.intervalUs, "is shorter than 50 µs or not whole", "give a period in µs of at least 50, e.g. 1000");
    }
    if (cfg.housekeepingCpu !== undefined && (!Number.isInteger(cfg.housekeepingCpu) || cpus.includes(cfg.housekeepingCpu))) {
        throw probeConfigProblem(
            "housekeepingCpu",
            cfg.housekeepingCpu,
            "is one of the measured CPUs, or not a CPU number",
            `pick a CPU outside the measured ones (${cfg.cpus})`,
        );
    }
    return cpus;
}

export interface CyclictestOptions {
    /** Path in the guest for `--json`; the runner reads it back after the run. */
    jsonFile: string;
    /**
     * Histogram range in µs (`-h`, 1 µs buckets); slower samples count as overflows.
     * @default 1000000 (DEFAULT_HISTOGRAM_RANGE_US): TCG's stalls reach 10–1000 ms; empty buckets are not kept (the runner drops them from the text, the JSON never has them).
     */
    histogramUs?: number;
    /**
     * Where cyclictest writes its text histogram (`--histfile`). @default unset: on stdout.
     * The runner passes /dev/null: the JSON holds the same buckets (non-empty ones only),
     * while the text has one row per µs of the range (a million for 1 s, seconds to write under TCG).
     */
    histFile?: string;
}

/** cyclictest: one FIFO thread per measured CPU, memory locked, histogram and JSON. */
export function cyclictestCommand(cfg: ProbeConfig, opts: CyclictestOptions): string[] {
    const cpus = check(cfg);
    const hist = opts.histogramUs ?? DEFAULT_HISTOGRAM_RANGE_US;
    if (!Number.isInteger(hist) || hist < 1)
        throw probeConfigProblem("histogramUs", hist, "is not a whole number of µs ≥ 1", "give a whole number of µs, e.g. 1000");
    const argv = [
        "cyclictest",
        "-m",
        "-p",
        String(cfg.priority),
        "--policy=fifo",
        "-a",
        cfg.cpus,
        "-t",
        String(cpus.length),
        "-i",
        String(cfg.intervalUs),
        "-D",
        String(cfg.durationSec),
        "-q",
        "-h",
        String(hist),
        `--json=${opts.jsonFile}`,
    ];
    if (opts.histFile !== undefined) argv.push(`--histfile=${opts.histFile}`);
    if (cfg.housekeepingCpu !== undefined) argv.push(`--mainaffinity=${cfg.housekeepingCpu}`);
    return argv;
}

export interface OslatOptions {
    /** Path in the guest for `--json`; omit to parse the text report instead. */
    jsonFile?: string;
}

/** oslat: busy loops on the measured CPUs at FIFO priority. */
export function oslatCommand(cfg: ProbeConfig, opts: OslatOptions = {}): string[] {
    check(cfg);
    const argv = ["oslat", "-c", cfg.cpus, "-D", String(cfg.durationSec), "-f", String(cfg.priority), "-q"];
    if (cfg.housekeepingCpu !== undefined) argv.push("-C", String(cfg.housekeepingCpu));
    if (opts.jsonFile !== undefined) argv.push(`--json=${opts.jsonFile}`);
    return argv;
}

/** rtla timerlat hist: IRQ and thread latency histograms, timer threads at FIFO priority. */
export interface RtlaHistOptions {
    /** Histogram bucket width, µs (`-b`). @default from histogramRange(): 10 µs over the default 1 s. */
    bucketUs?: number;
    /** Number of buckets (`-E`); the range is bucketUs × entries. @default from histogramRange(): 100000. */
    entries?: number;
}

/** rtla's `-b`/`-E` after rtla 6.1's own limits, so a bad setting is named before a guest is asked. */
function rtlaHistArgs(opts: RtlaHistOptions): string[] {
    const range = histogramRange();
    const bucket = opts.bucketUs ?? range.rtlaBucketUs;
    const entries = opts.entries ?? range.rtlaEntries;
    // rtla 6.1's own limits ("Bucket size needs to be > 0 and <= 1000000", "Entries must be > 10 and < 9999999").
    if (!Number.isInteger(bucket) || bucket < 1 || bucket > 1_000_000) {
        throw probeConfigProblem("bucketUs", bucket, "is outside rtla's bucket sizes", "give 1 to 1000000 µs, e.g. 10");
    }
    if (!Number.isInteger(entries) || entries <= 10 || entries >= 9_999_999) {
        throw probeConfigProblem("entries", entries, "is outside rtla's bucket counts", "give 11 to 9999998 buckets, e.g. 100000");
    }
    return ["-b", String(bucket), "-E", String(entries)];
}

export function timerlatCommand(cfg: ProbeConfig, opts: RtlaHistOptions = {}): string[] {
    check(cfg);
    return [
        "rtla",
        "timerlat",
        "hist",
        "-c",
        cfg.cpus,
        "-d",
        String(cfg.durationSec),
        "-p",
        String(cfg.intervalUs),
        "-P",
        `f:${cfg.priority}`,
        // cyclictest also pins /dev/cpu_dma_latency to 0 while it runs; do the same so the figures compare.
        "--dma-latency",
        "0",
        ...rtlaHistArgs(opts),
    ];
}

export interface OsnoiseOptions {
    /** osnoise period = the pre-emption window, µs (`-p`). @default 1000, the seed's 1 ms window. */
    windowUs?: number;
    /** Busy time per period, µs (`-r`). @default the whole window, so no part of it goes unobserved. */
    runtimeUs?: number;
    /**
     * Run the osnoise threads at SCHED_FIFO with this priority (`-P f:N`).
     * @default unset (SCHED_OTHER). A FIFO thread busy for the whole window is
     * throttled by the kernel's RT bandwidth limit (950 ms per s by default),
     * which osnoise then reports as a 50 ms noise.
     */
    fifoPriority?: number;
}

/** rtla osnoise top with one period per window: reports the longest single noise and the largest noise per window. */
export function osnoiseCommand(cfg: ProbeConfig, opts: OsnoiseOptions = {}): string[] {
    check(cfg);
    const window = opts.windowUs ?? 1000;
    const runtime = opts.runtimeUs ?? window;
    if (!Number.isInteger(window) || window < 100)
        throw probeConfigProblem("windowUs", window, "is shorter than 100 µs or not whole", "give a window of at least 100 µs, e.g. 1000");
    if (!Number.isInteger(runtime) || runtime < 100 || runtime > window) {
        throw probeConfigProblem(
            "runtimeUs",
            runtime,
            "is outside 100 µs to the window (rtla refuses less than 100, the tracer more than the period)",
            `give 100 to ${window} µs`,
        );
    }
    const argv = ["rtla", "osnoise", "top", "-q", "-c", cfg.cpus, "-p", String(window), "-r", String(runtime), "-d", String(cfg.durationSec)];
    if (opts.fifoPriority !== undefined) argv.push("-P", `f:${opts.fifoPriority}`);
    return argv;
}

/** Options of osnoiseHistCommand. */
export interface OsnoiseHistOptions extends OsnoiseOptions, RtlaHistOptions {}

/**
 * rtla osnoise hist: the distribution of single noises per CPU, with a range
 * sized for what is measured (issue 10: the histogram range follows the
 * expected figures). The period and runtime are the top command's, so both
 * see the same busy thread.
 */
export function osnoiseHistCommand(cfg: ProbeConfig, opts: OsnoiseHistOptions = {}): string[] {
    const top = osnoiseCommand(cfg, opts);
    // top's argv with the mode swapped and -q dropped (hist prints once, at the end).
    return ["rtla", "osnoise", "hist", ...top.slice(3).filter((a) => a !== "-q"), ...rtlaHistArgs(opts)];
}

/**
 * The command that prints a tool's version, for `ParseContext.version`
 * (rtla's reports do not carry it). `rtla --help` exits 1 while printing it.
 */
export function versionCommand(probe: ProbeKind): string[] {
    switch (probe) {
        case "cyclictest":
            return ["cyclictest", "--help"];
        case "oslat":
            return ["oslat", "-v"];
        case "timerlat":
        case "osnoise":
            return ["rtla", "--help"];
    }
}

/** Reads the version from the output of `versionCommand(probe)` (stdout and stderr together); null if absent. */
export function parseToolVersion(probe: ProbeKind, output: string): string | null {
    const pattern = probe === "cyclictest" ? /^cyclictest V (\S+)/m : probe === "oslat" ? /^oslat V (\S+)/m : /^rtla version (\S+)/m;
    return pattern.exec(output)?.[1] ?? null;
}

/** Joins argv for display in reports (quotes only what a shell would split). */
export function displayCommand(argv: string[]): string {
    return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
