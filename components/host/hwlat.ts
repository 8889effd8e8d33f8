/**
 * Hardware latency on an RT host: the kernel's hwlat tracer spins on one CPU
 * at a time with interrupts off and records every gap in time it cannot
 * account for (SMIs, firmware, a hypervisor below). This is what hwlatdetect
 * (rt-tests) and `rtla hwnoise` drive; the kit drives the tracer itself
 * through tracefs, because Debian bookworm's rtla (6.1) has no hwnoise and
 * hwlatdetect needs Python, which an RT host need not have.
 */
import type { HostAccess } from "./access";
import type { HostCheck } from "./readiness";
import { HostCommandError } from "./access/errors";

export interface HwlatSettings {
    /** Seconds the tracer runs. */
    seconds: number;
    /** Gaps above this (µs) are recorded, and the check passes when none is. hwlatdetect's default threshold is 10 µs. */
    targetUs: number;
}

export const DEFAULT_HWLAT: HwlatSettings = { seconds: 10, targetUs: 10 };

export interface HwlatResult {
    seconds: number;
    thresholdUs: number;
    /** Largest gap seen, µs (the larger of each sample's inner and outer gap); 0 when none crossed the threshold. */
    maxUs: number;
    /** Gaps recorded above the threshold. */
    samples: number;
}

/**
 * One shell run on the host: the tracer's settings are saved, hwlat runs for
 * the time asked (a 500 ms spin in each 1 s window, hwlatdetect's defaults),
 * then the settings go back, even when the sleep is cut short.
 */
export function hwlatScript(s: HwlatSettings): string {
    return [
        "T=/sys/kernel/tracing; [ -d $T/hwlat_detector ] || T=/sys/kernel/debug/tracing",
        "old_tracer=$(cat $T/current_tracer); old_thresh=$(cat $T/tracing_thresh); old_on=$(cat $T/tracing_on)",
        'restore() { echo 0 > $T/tracing_on; echo "$old_tracer" > $T/current_tracer; echo "$old_thresh" > $T/tracing_thresh; echo "$old_on" > $T/tracing_on; }',
        "trap restore EXIT",
        "echo 0 > $T/tracing_on; echo nop > $T/current_tracer",
        `echo ${Math.round(s.targetUs)} > $T/tracing_thresh`,
        "echo 1000000 > $T/hwlat_detector/window; echo 500000 > $T/hwlat_detector/width",
        "echo 0 > $T/tracing_max_latency; : > $T/trace",
        "echo hwlat > $T/current_tracer; echo 1 > $T/tracing_on",
        `sleep ${Math.round(s.seconds)}`,
        "echo 0 > $T/tracing_on",
        // Each sample line holds "inner/outer(us): I/O", the two spins' gaps; the largest of either is the figure.
        // (tracing_max_latency is not it: on the lab VM it read 4 with ten samples above 10 µs.)
        `awk '/inner\\/outer\\(us\\)/ { s = $0; sub(/.*inner\\/outer\\(us\\): */, "", s); split(s, g, "/"); m = g[1] + 0; if (g[2] + 0 > m) m = g[2] + 0; if (m > max) max = m; n++ } END { printf "max %d\\nsamples %d\\n", max, n }' $T/trace`,
    ].join("\n");
}

/** Reads the script's two lines; undefined when it did not print them (the tracer could not be set up). */
export function parseHwlat(stdout: string, s: HwlatSettings): HwlatResult | undefined {
    const max = /^max (\d+)/m.exec(stdout);
    const samples = /^samples (\d+)/m.exec(stdout);
    if (!max || !samples) return undefined;
    return { seconds: s.seconds, thresholdUs: s.targetUs, maxUs: Number(max[1]), samples: Number(samples[1]) };
}

/** Runs the tracer on the host; a run that gives no result fails as the command it is, with what it printed. */
export async function measureHwlat(host: HostAccess, s: HwlatSettings = DEFAULT_HWLAT): Promise<HwlatResult> {
    const argv = ["sh", "-c", hwlatScript(s)];
    const out = await host.run(argv, { timeoutMs: (s.seconds + 60) * 1000 });
    const result = parseHwlat(out.stdout, s);
    if (!result) throw new HostCommandError(host.name, argv, out.exitCode, out.stdout, out.stderr, "exit", "the hwlat tracer gave no result");
    return result;
}

/** The readiness row. Its name starts with "hwlat" so a miss is reported, never "repaired" by the next up (no setting fixes firmware). */
export function hwlatCheck(r: HwlatResult): HostCheck {
    return {
        name: `hwlat: hardware latency (${r.seconds} s with the hwlat tracer)`,
        expected: `no gap above ${r.thresholdUs} µs`,
        found: r.samples === 0 ? `none above ${r.thresholdUs} µs` : `${r.samples} gaps above ${r.thresholdUs} µs, max ${r.maxUs} µs`,
        pass: r.samples === 0,
    };
}
