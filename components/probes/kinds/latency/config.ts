/**
 * The latency probes' settings under `nfv-testpod:probes`: which tools, how
 * long, at which priority and period, under which load, against which
 * baseline, with which histogram range. Defaults, and every problem at once
 * with its YAML path. Pure.
 */
import { closestMatch } from "../../../spec/names";
import type { SpecProblem } from "../../../spec/problems";
import { checkBaselineSetting, type BaselineSetting } from "../../baseline";
import { DEFAULT_HISTOGRAM_RANGE_US, histogramRangeProblem } from "./histogramRange";
import type { ProbeKind } from "./types";

export type LoadKind = "none" | "guest" | "host";

export interface LatencySettings {
    /**
     * Which probes, in the order they run in each guest.
     * @default ["cyclictest", "timerlat", "osnoise", "oslat"]: timer, interrupt and preemption targets, and oslat as a cross-check that needs no tracer.
     */
    probes: ProbeKind[];
    /**
     * Seconds each probe measures.
     * @default 60: long enough to catch periodic host noise (timers, RCU, writeback); lab stacks run hours.
     */
    durationSec: number;
    /**
     * SCHED_FIFO priority of the measuring threads.
     * @default 95: above the guest's kernel threads, below its migration and watchdog threads.
     */
    priority: number;
    /**
     * Wake-up period of cyclictest and timerlat, µs.
     * @default 1000: cyclictest's own default and the seed's 1 ms window.
     */
    intervalUs: number;
    /**
     * Load while measuring: `none`; `guest` keeps the guest's housekeeping vCPUs busy with the
     * image's nfvkit-load (guests without one run unloaded, said in the results); `host` runs
     * stress-ng on the host's housekeeping CPUs.
     * @default "none": a quiet baseline first; add load to see how isolation holds.
     */
    load: LoadKind;
    /**
     * Results JSON of an earlier accepted run (e.g. the main branch's last
     * `results/<stack>/probes.json`), relative to the project folder, or
     * `{ history: N }`: each figure's median over the last N accepted runs of
     * the stack's history.jsonl (`file:` names another). The verdict shows
     * each figure's change against it.
     * @default null: no baseline, no regression check.
     */
    baseline: BaselineSetting | null;
    /**
     * A figure worse than the baseline's by more than this factor fails its
     * check (and so an enforced gate) even inside the absolute target.
     * @default 5: above the ~3× run-to-run spread of maxima on the TCG CI machine; a 60 µs → 40 ms regression is ~670×.
     */
    regressionFactor: number;
    /**
     * Upper edge of every probe's histogram, µs (cyclictest `-h`, rtla `-b` × `-E`, see histogramRange.ts).
     * Samples above it are counted as overflows and percentiles among them read `> range`.
     * @default 1000000 (1 s): TCG's stalls reach 10–1000 ms; on hardware the unused buckets cost only guest memory.
     */
    histogramRangeUs: number;
}

export const LATENCY_DEFAULTS: Readonly<LatencySettings> = Object.freeze({
    probes: ["cyclictest", "timerlat", "osnoise", "oslat"] as ProbeKind[],
    durationSec: 60,
    priority: 95,
    intervalUs: 1000,
    load: "none" as LoadKind,
    baseline: null as BaselineSetting | null,
    regressionFactor: 5,
    histogramRangeUs: DEFAULT_HISTOGRAM_RANGE_US,
});

export const LATENCY_TOOLS: ProbeKind[] = ["cyclictest", "oslat", "timerlat", "osnoise"];

/** Reads the latency keys of the probe settings mapping; `path` is the mapping's YAML path. */
export function checkLatencySettings(given: Record<string, unknown>, path: string): { settings: LatencySettings; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    const report = (key: string, value: unknown, reason: string, fix: string) => problems.push({ path: `${path}.${key}`, value, reason, fix });
    const cfg: LatencySettings = { ...LATENCY_DEFAULTS, probes: [...LATENCY_DEFAULTS.probes] };
    if (given.probes !== undefined) {
        const list = given.probes;
        if (!Array.isArray(list)) report("probes", list, "must be a list of probes", `write e.g. [${LATENCY_TOOLS.join(", ")}]`);
        else {
            const bad = list.findIndex((p) => !LATENCY_TOOLS.includes(p as ProbeKind));
            const repeated = list.findIndex((p, i) => list.indexOf(p) !== i);
            if (bad >= 0) {
                const guess = typeof list[bad] === "string" ? closestMatch(list[bad] as string, LATENCY_TOOLS) : undefined;
                report(`probes[${bad}]`, list[bad], "is not a probe", guess ? `did you mean "${guess}"?` : `use one of ${LATENCY_TOOLS.join(", ")}`);
            } else if (repeated >= 0) report(`probes[${repeated}]`, list[repeated], "repeats a probe", "list each probe once");
            else cfg.probes = list as ProbeKind[];
        }
    }
    const integer = (key: "durationSec" | "priority" | "intervalUs", min: number, max: number, example: number) => {
        const v = given[key];
        if (v === undefined) return;
        if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) cfg[key] = v;
        else report(key, v, `must be a whole number from ${min} to ${max}`, `write e.g. ${example}`);
    };
    integer("durationSec", 1, 86_400, 60);
    integer("priority", 1, 99, 95);
    integer("intervalUs", 50, 10_000_000, 1000);
    if (given.load !== undefined) {
        if (given.load === "none" || given.load === "guest" || given.load === "host") cfg.load = given.load;
        else report("load", given.load, "is not a load", 'write "none", "guest" or "host"');
    }
    const baseline = checkBaselineSetting(given.baseline, `${path}.baseline`);
    problems.push(...baseline.problems);
    cfg.baseline = baseline.setting;
    if (given.regressionFactor !== undefined) {
        const f = given.regressionFactor;
        if (typeof f === "number" && Number.isFinite(f) && f > 1) cfg.regressionFactor = f;
        else report("regressionFactor", f, "must be a number above 1", "write e.g. 5");
    }
    if (given.histogramRangeUs !== undefined) {
        const problem = histogramRangeProblem(given.histogramRangeUs);
        if (problem === null) cfg.histogramRangeUs = given.histogramRangeUs as number;
        else report("histogramRangeUs", given.histogramRangeUs, problem, `write e.g. ${DEFAULT_HISTOGRAM_RANGE_US} (1 s) or 100000 (100 ms)`);
    }
    return { settings: cfg, problems };
}
