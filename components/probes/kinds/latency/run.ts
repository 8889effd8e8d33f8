/**
 * Runs the probe suite inside guests through the guest agent and parses what
 * the tools print. Guests are probed at the same time (each owns its CPUs, as
 * in production); the probes of one guest run one after another, so they do
 * not disturb each other. A tool that fails or measures nothing yields a
 * result with `noSamples` set, which the verdict turns into a failure.
 */
import { startHostLoad } from "./hostLoad";
import type { GuestShell, ProbeGuest } from "../../inputs";
import {
    cyclictestCommand,
    displayCommand,
    oslatCommand,
    osnoiseCommand,
    osnoiseHistCommand,
    parseToolVersion,
    timerlatCommand,
    versionCommand,
    type ProbeConfig,
} from "./commands";
import { histogramRange } from "./histogramRange";
import { parseCyclictestRun, parseOslatText, parseOsnoiseHist, parseOsnoiseTop, parseTimerlatHist } from "./parse";
import { expectedSampleCount, mergeStats } from "../../stats";
import type { LatencySettings } from "./config";
import type { Targets } from "../../targets";
import type { GuestProbeResult, ProbeKind, ProbeResult, ProbeRun, SuiteRun } from "./types";

export type { ProbeGuest, GuestShell } from "../../inputs";
export type { ProbeRun, SuiteRun } from "./types";

const JSON_MARK = "@@nfvkit-json@@";

/** How long runs report and stop. */
export interface LongRunOptions {
    /**
     * Aborting it ends the suite early: the tools running in the guests are
     * sent SIGINT (each then prints what it measured so far), nothing new is
     * started, and every result measured so far is kept, marked partial.
     * The abort reason (a string, e.g. `interrupted by SIGINT`) is recorded.
     */
    signal?: AbortSignal;
    /**
     * Longest single tool run, s: a longer probe runs as consecutive chunks of
     * at most this, merged into one result, with an interim line after each.
     * @default 40: a chunk's wall time adds the tools' start-up and report (rtla's set-up, cyclictest printing its
     * 1 s range: 8 s under TCG, 18 s at load 17 on the 2-CPU CI host), and the interim result must come within a minute.
     */
    chunkSec?: number;
    /** Seconds between "still measuring" lines while a chunk runs. @default 30 */
    heartbeatSec?: number;
}

/** The chunk lengths of a probe of `durationSec`: as even as whole seconds allow, none above `chunkSec`. */
export function chunkDurations(durationSec: number, chunkSec = DEFAULT_CHUNK_SEC): number[] {
    const n = Math.max(1, Math.ceil(durationSec / chunkSec));
    const base = Math.floor(durationSec / n);
    return Array.from({ length: n }, (_, i) => base + (i < durationSec - base * n ? 1 : 0));
}

/** See LongRunOptions.chunkSec. */
export const DEFAULT_CHUNK_SEC = 40;

/** Runs every configured probe in every guest that has real-time vCPUs. */
export async function runProbeSuite(
    guests: ProbeGuest[],
    config: LatencySettings,
    targets: Targets,
    shell: GuestShell,
    log: (line: string) => void = () => undefined,
    opts: LongRunOptions = {},
): Promise<SuiteRun> {
    const started = Date.now();
    const notes: string[] = [];
    const runs: ProbeRun[] = [];
    const probed = guests.filter((g) => {
        if (g.rtVcpus.length === 0) notes.push(`${g.guest} has no real-time vCPU: not probed`);
        return g.rtVcpus.length > 0;
    });
    const hostLoad = config.load === "host" ? startHostLoad(probed, config, notes, log) : [];
    try {
        const perGuest = await Promise.all(
            probed.map(async (g) => {
                const results: GuestProbeResult[] = [];
                for (const probe of config.probes) {
                    if (opts.signal?.aborted) break;
                    if (probe === "oslat" && g.housekeepingVcpus.length === 0) {
                        // oslat spins at FIFO priority: with no other vCPU it starves the guest agent we talk through.
                        notes.push(`${g.guest}: oslat skipped, the guest has no housekeeping vCPU to keep its agent alive`);
                        continue;
                    }
                    log(`${g.guest}: ${probe} for ${config.durationSec} s on vCPU ${g.rtVcpus.join(",")}`);
                    const result = await runChunkedProbe(g, probe, config, targets, shell, notes, runs, log, opts);
                    if (result) results.push({ guest: g.guest, result });
                }
                return results;
            }),
        );
        const results = perGuest.flat();
        const run: SuiteRun = { results, runs, notes, seconds: (Date.now() - started) / 1000 };
        if (opts.signal?.aborted) {
            const reason = abortReason(opts.signal);
            const skipped = probed.length * config.probes.length - results.length;
            run.partial = { reason, measured: results.length, skipped };
            notes.push(`partial run, ${reason}: ${results.length} probe run(s) kept as measured so far${skipped > 0 ? `, ${skipped} not run` : ""}`);
        }
        return run;
    } finally {
        // Also when a probe throws: the load must not outlive the suite.
        await Promise.all(hostLoad.map((load) => load.kill()));
    }
}

function abortReason(signal: AbortSignal): string {
    return typeof signal.reason === "string" ? signal.reason : "interrupted";
}

/** The tools' process names in a guest, for SIGINT on an interruption. */
const TOOL_PROCESSES: Record<ProbeKind, string> = { cyclictest: "cyclictest", oslat: "oslat", timerlat: "rtla", osnoise: "rtla" };

/**
 * One probe for its whole duration, in chunks (see LongRunOptions), merged
 * into one result. An interim line after each chunk, a "still measuring"
 * line in between; on an abort, the chunk in flight is ended with SIGINT in
 * the guest (the tools print their figures on it) and kept, and the result is
 * marked partial. Returns null when the abort came before anything ran.
 */
async function runChunkedProbe(
    g: ProbeGuest,
    probe: ProbeKind,
    config: LatencySettings,
    targets: Targets,
    shell: GuestShell,
    notes: string[],
    runs: ProbeRun[],
    log: (line: string) => void,
    opts: LongRunOptions,
): Promise<ProbeResult | null> {
    const chunks = chunkDurations(config.durationSec, opts.chunkSec);
    let merged: ProbeResult | null = null;
    let measuredSec = 0;
    let partial: string | null = null;
    for (const [i, sec] of chunks.entries()) {
        if (opts.signal?.aborted) {
            partial = abortReason(opts.signal);
            break;
        }
        const what = chunks.length > 1 ? `${probe} chunk ${i + 1}/${chunks.length} (${sec} s)` : probe;
        const chunkStarted = Date.now();
        const heartbeat = setInterval(
            () =>
                log(
                    `${g.guest}: ${what} measuring, ${Math.round((Date.now() - chunkStarted) / 1000)} s in; ${measuredSec} of ${config.durationSec} s done` +
                        (merged ? `: ${interimFigures(merged)}` : ""),
                ),
            (opts.heartbeatSec ?? 30) * 1000,
        );
        // On an abort the tool is asked to stop and print: what it measured is kept.
        const interrupt = () => void shell(g, `kill -INT $(pidof ${TOOL_PROCESSES[probe]}) 2>/dev/null; true`, 30_000).catch(() => undefined);
        opts.signal?.addEventListener("abort", interrupt, { once: true });
        let chunk: { result: ProbeResult; runs: ProbeRun[] };
        try {
            chunk = await runOneProbe(g, probe, { ...config, durationSec: sec }, targets, shell, notes, opts.signal);
        } finally {
            clearInterval(heartbeat);
            opts.signal?.removeEventListener("abort", interrupt);
        }
        runs.push(...chunk.runs);
        let result = chunk.result;
        if (opts.signal?.aborted) {
            partial = abortReason(opts.signal);
            // Cut short: how many samples it should have given is not known, so no shortfall is claimed.
            const cutAt = Math.min(sec, (Date.now() - chunkStarted) / 1000);
            measuredSec += Math.round(cutAt);
            result = withExpectedSamples(result, sec, null);
        } else measuredSec += sec;
        if (chunks.length > 1 && result.noSamples !== null) notes.push(`${g.guest}: ${what} measured nothing: ${result.noSamples}`);
        merged = merged === null ? result : mergeResults(merged, result);
        log(
            `${g.guest}: ${what} done in ${((Date.now() - chunkStarted) / 1000).toFixed(1)} s (exit ${chunk.runs.map((r) => r.exitCode).join(",")})` +
                `${chunks.length > 1 || partial ? `; so far ${measuredSec} of ${config.durationSec} s: ${interimFigures(merged)}` : ""}`,
        );
        if (partial) break;
    }
    if (merged === null) return null;
    return partial ? { ...merged, partial: { reason: partial, measuredSec, plannedSec: config.durationSec } } : merged;
}

/** One line of figures for the progress log: each series kind's worst max and its samples. */
export function interimFigures(result: ProbeResult): string {
    if (result.noSamples !== null) return `no samples (${result.noSamples})`;
    const kinds = [...new Set(result.series.map((s) => s.kind))];
    return kinds
        .map((kind) => {
            const stats = mergeStats(result.series.filter((s) => s.kind === kind).map((s) => s.stats));
            return `${kind} max ${stats.maxUs ?? "n/a"} µs over ${stats.samples} samples`;
        })
        .join(", ");
}

/**
 * Two runs of the same probe as one: series with the same label are merged
 * (summed histograms, worst max, sample-weighted mean); the first run's
 * version and command stand for both.
 */
export function mergeResults(a: ProbeResult, b: ProbeResult): ProbeResult {
    if (a.noSamples !== null) return b.noSamples !== null ? a : b;
    if (b.noSamples !== null) return a;
    const labels = [...new Set([...a.series, ...b.series].map((s) => s.label))];
    const series = labels.map((label) => {
        const both = [...a.series, ...b.series].filter((s) => s.label === label);
        return { ...both[0], stats: mergeStats(both.map((s) => s.stats)) };
    });
    return { ...a, series };
}

/** One tool run (for osnoise two: top, then hist), parsed. */
async function runOneProbe(
    g: ProbeGuest,
    probe: ProbeKind,
    config: LatencySettings,
    targets: Targets,
    shell: GuestShell,
    notes: string[],
    signal?: AbortSignal,
): Promise<{ result: ProbeResult; runs: ProbeRun[] }> {
    if (probe !== "osnoise") {
        const { result, run } = await runTool(g, probe, "main", config, targets, shell, notes);
        return { result, runs: [run] };
    }
    // osnoise top has the noise per period (the per-window target) and no histogram; hist has the distribution of
    // single noises and no per-period figure. Both run, one after the other (one osnoise tracer at a time).
    const top = await runTool(g, probe, "main", config, targets, shell, notes);
    // Interrupted during top: what top measured is kept, hist never starts.
    if (signal?.aborted) return { result: top.result, runs: [top.run] };
    const hist = await runTool(g, probe, "hist", config, targets, shell, notes);
    if (hist.result.noSamples !== null) notes.push(`${g.guest}: rtla osnoise hist measured nothing: ${hist.result.noSamples}`);
    const result: ProbeResult =
        top.result.noSamples !== null
            ? top.result
            : {
                  ...top.result,
                  // Both command lines, so a reader knows where each series came from.
                  command: `${top.run.command}; ${hist.run.command}`,
                  series: [...top.result.series, ...(hist.result.noSamples === null ? hist.result.series : [])],
              };
    return { result, runs: [top.run, hist.run] };
}

async function runTool(
    g: ProbeGuest,
    probe: ProbeKind,
    mode: "main" | "hist",
    config: LatencySettings,
    targets: Targets,
    shell: GuestShell,
    notes: string[],
): Promise<{ result: ProbeResult; run: ProbeRun }> {
    const cfg: ProbeConfig = {
        cpus: g.rtVcpus.join(","),
        durationSec: config.durationSec,
        priority: config.priority,
        intervalUs: config.intervalUs,
        housekeepingCpu: g.housekeepingVcpus[0],
    };
    const jsonFile = `/tmp/nfvkit-${probe}.json`;
    const range = histogramRange(config.histogramRangeUs);
    const rtla = { bucketUs: range.rtlaBucketUs, entries: range.rtlaEntries };
    const argv =
        probe === "cyclictest"
            ? cyclictestCommand(cfg, { jsonFile, histogramUs: range.cyclictestUs, histFile: "/dev/null" })
            : probe === "oslat"
              ? oslatCommand(cfg)
              : probe === "timerlat"
                ? timerlatCommand(cfg, rtla)
                : mode === "hist"
                  ? osnoiseHistCommand(cfg, { windowUs: targets.preemption.windowUs, ...rtla })
                  : osnoiseCommand(cfg, { windowUs: targets.preemption.windowUs });
    const command = displayCommand(argv);
    const versionOut = await shell(g, `${displayCommand(versionCommand(probe))} 2>&1`, 30_000);
    const version = parseToolVersion(probe, versionOut.stdout) ?? undefined;

    let load = "";
    if (config.load === "guest") {
        if (g.housekeepingVcpus.length > 0) {
            const cpus = g.housekeepingVcpus.join(",");
            // The image's own CPU load (guest-images/load), one busy thread per housekeeping vCPU; it outlasts the probe and is killed after it.
            load = `nfvkit-load ${cpus} ${config.durationSec + 5} >/dev/null 2>&1 & load=$!; `;
            const note = `${g.guest}: guest load: nfvkit-load keeps vCPU ${cpus} busy while probing`;
            if (!notes.includes(note)) notes.push(note);
        } else if (!notes.some((n) => n.startsWith(`${g.guest}: guest load`))) {
            notes.push(`${g.guest}: guest load not applied, the guest has no housekeeping vCPU`);
        }
    }
    const json = probe === "cyclictest" ? `; echo ${JSON_MARK}; cat ${jsonFile} 2>/dev/null` : "";
    // A JSON file left by an earlier run must never be read as this run's figures.
    const script = `rm -f ${jsonFile}; ${load}${command} 2>&1; rc=$?${load ? "; kill $load 2>/dev/null" : ""}${json}; exit $rc`;
    const started = Date.now();
    const out = await shell(g, script, (config.durationSec + 120) * 1000);
    const seconds = (Date.now() - started) / 1000;
    const [stdout, jsonText] = out.stdout.split(`${JSON_MARK}\n`);
    const ctx = { command, version };
    let result: ProbeResult;
    const failed = (reason: string): ProbeResult => ({ probe, version: version ?? null, command, series: [], noSamples: reason });
    const head = stdout.trim().split("\n").slice(0, 3).join(" | ");
    if (out.exitCode !== 0) {
        // Exit codes never say a target was missed, but a non-zero one says the tool did not run as asked.
        return {
            result: failed(`${probe} exited ${out.exitCode}: ${head || "no output"}`),
            run: { guest: g.guest, probe, command, exitCode: out.exitCode, seconds },
        };
    }
    try {
        result =
            probe === "cyclictest"
                ? parseCyclictestRun({ stdout, json: jsonText }, ctx)
                : probe === "oslat"
                  ? parseOslatText(stdout, ctx)
                  : probe === "timerlat"
                    ? parseTimerlatHist(stdout, ctx)
                    : mode === "hist"
                      ? parseOsnoiseHist(stdout, ctx)
                      : parseOsnoiseTop(stdout, ctx);
    } catch (err) {
        // Unreadable output measures nothing; the verdict fails it and quotes the reason.
        result = failed(`${probe} printed output we cannot read: ${head || (err as Error).message}`);
    }
    // osnoise hist counts noises, which come at no fixed rate; top counts periods.
    const periodUs = probe === "osnoise" ? (mode === "hist" ? null : targets.preemption.windowUs) : probe === "oslat" ? null : config.intervalUs;
    result = withExpectedSamples(result, config.durationSec, periodUs);
    return { result, run: { guest: g.guest, probe, command, exitCode: out.exitCode, seconds } };
}

/**
 * Records how many samples each series should have given (one per period for
 * the whole duration), so a shortfall is reported rather than hidden. oslat
 * has no fixed rate (its loop count depends on the CPU), so it gets none.
 */
export function withExpectedSamples(result: ProbeResult, durationSec: number, periodUs: number | null): ProbeResult {
    const expected = expectedSampleCount(durationSec, periodUs);
    return { ...result, series: result.series.map((s) => ({ ...s, stats: { ...s.stats, expectedSamples: expected } })) };
}
