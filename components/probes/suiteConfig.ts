/**
 * The probe suite's settings as stack config gives them (`nfv-testpod:probes`,
 * `nfv-testpod:gate`), with defaults and all-at-once errors that name the
 * YAML path. Pure.
 */
import { closestMatch } from "../spec/names";
import { PodSpecError, type SpecProblem } from "../spec/problems";
import type { Gate } from "./verdict";
import type { ProbeKind } from "./types";
import { checkInterVmSettings, type InterVmSetting } from "./interVmConfig";
import { checkMigrationSettings, type MigrationSetting } from "./migrationConfig";
import { DEFAULT_HISTOGRAM_RANGE_US, histogramRangeProblem } from "./histogramRange";

export type LoadKind = "none" | "guest" | "host";

/** How the suite runs; every field has a default. */
export interface ProbeSuiteConfig {
    /**
     * Run the suite after deploy at all.
     * @default true: the gate is the point of a test pod.
     */
    enabled: boolean;
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
     * Load while measuring: `none`; `guest` runs stress-ng on the guest's housekeeping vCPUs
     * (guests without one run unloaded, said in the results); `host` runs stress-ng on the host's
     * housekeeping CPUs (local hosts only).
     * @default "none": a quiet baseline first; add load to see how isolation holds.
     */
    load: LoadKind;
    /**
     * What a host that is not an RT KVM host for the pod (no PREEMPT_RT, missing boot
     * arguments, see host/readiness.ts) does to the suite: `report` lists it in the
     * results; `enforce` fails before probing.
     * @default "report": the host's kernel is the operator's to change, and a pod on an unprepared host still teaches something.
     */
    hostGate: Gate;
    /**
     * The inter-VM probe: per ivshmem link, a packet ring from one member guest to the other,
     * with round trips and the host's own limit on the same memory (see interVmConfig.ts).
     * @default []: a pod need not have links; list the ones to measure.
     */
    interVm: InterVmSetting[];
    /**
     * The live-migration probe: per listed guest, round trips to another host and back with a
     * packet stream that measures network downtime (see migrationConfig.ts). Run by `npm run probe`,
     * never by `pulumi up`: it moves guests the stack's state places on their hosts.
     * @default []
     */
    migration: MigrationSetting[];
    /**
     * Results JSON of an earlier accepted run (e.g. the main branch's last
     * `results/<stack>/probes.json`), relative to the project folder. The
     * verdict shows each figure's change against it.
     * @default null: no baseline, no regression check.
     */
    baseline: string | null;
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

export const DEFAULT_PROBE_SUITE: Readonly<ProbeSuiteConfig> = Object.freeze({
    enabled: true,
    probes: ["cyclictest", "timerlat", "osnoise", "oslat"] as ProbeKind[],
    durationSec: 60,
    priority: 95,
    intervalUs: 1000,
    load: "none" as LoadKind,
    hostGate: "report" as Gate,
    interVm: [] as InterVmSetting[],
    migration: [] as MigrationSetting[],
    baseline: null as string | null,
    regressionFactor: 5,
    histogramRangeUs: DEFAULT_HISTOGRAM_RANGE_US,
});

const PROBE_KINDS: ProbeKind[] = ["cyclictest", "oslat", "timerlat", "osnoise"];

/** Bad probe settings, every one of them, each with its YAML path. */
export class ProbeSuiteConfigError extends PodSpecError {
    constructor(problems: SpecProblem[]) {
        super(problems, "probe settings");
        this.name = "ProbeSuiteConfigError";
    }
}

/** Merges stack config over the defaults. Throws ProbeSuiteConfigError listing every problem. */
export function resolveProbeSuiteConfig(raw: unknown, path = "nfv-testpod:probes"): ProbeSuiteConfig {
    const checked = checkProbeSuiteConfig(raw, path);
    if (!checked.config) throw new ProbeSuiteConfigError(checked.problems);
    return checked.config;
}

/** As `resolveProbeSuiteConfig`, without throwing: the settings when there is no problem, and every problem. */
export function checkProbeSuiteConfig(raw: unknown, path = "nfv-testpod:probes"): { config?: ProbeSuiteConfig; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    const report = (key: string, value: unknown, reason: string, fix: string) => problems.push({ path: `${path}.${key}`, value, reason, fix });
    const cfg: ProbeSuiteConfig = { ...DEFAULT_PROBE_SUITE, probes: [...DEFAULT_PROBE_SUITE.probes], interVm: [], migration: [] };
    if (raw === undefined || raw === null) return { config: cfg, problems };
    if (typeof raw !== "object" || Array.isArray(raw)) {
        problems.push({ path, value: raw, reason: "must be a mapping", fix: 'write e.g. "durationSec: 10" under it' });
        return { problems };
    }
    const given = raw as Record<string, unknown>;
    const known = Object.keys(DEFAULT_PROBE_SUITE);
    for (const key of Object.keys(given)) {
        if (known.includes(key)) continue;
        const guess = closestMatch(key, known);
        report(key, given[key], "is not a probe setting", guess ? `did you mean "${guess}"?` : `use one of ${known.join(", ")}`);
    }
    if (given.enabled !== undefined) {
        if (typeof given.enabled === "boolean") cfg.enabled = given.enabled;
        else report("enabled", given.enabled, "must be true or false", "write true or false (without quotes)");
    }
    if (given.probes !== undefined) {
        const list = given.probes;
        if (!Array.isArray(list)) report("probes", list, "must be a list of probes", `write e.g. [${PROBE_KINDS.join(", ")}]`);
        else {
            const bad = list.findIndex((p) => !PROBE_KINDS.includes(p as ProbeKind));
            const repeated = list.findIndex((p, i) => list.indexOf(p) !== i);
            if (bad >= 0) {
                const guess = typeof list[bad] === "string" ? closestMatch(list[bad] as string, PROBE_KINDS) : undefined;
                report(`probes[${bad}]`, list[bad], "is not a probe", guess ? `did you mean "${guess}"?` : `use one of ${PROBE_KINDS.join(", ")}`);
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
    if (given.hostGate !== undefined) {
        if (given.hostGate === "enforce" || given.hostGate === "report") cfg.hostGate = given.hostGate;
        else report("hostGate", given.hostGate, "is not a gate", 'write "enforce" or "report"');
    }
    // After durationSec: a link without its own duration takes the suite's. The burst default is the seed's batch.
    const interVm = checkInterVmSettings(given.interVm, `${path}.interVm`, { durationSec: cfg.durationSec, burst: DEFAULT_INTER_VM_BURST });
    problems.push(...interVm.problems);
    cfg.interVm = interVm.settings;
    const migration = checkMigrationSettings(given.migration, `${path}.migration`);
    problems.push(...migration.problems);
    cfg.migration = migration.settings;
    if (given.baseline !== undefined && given.baseline !== null) {
        if (typeof given.baseline === "string" && given.baseline.trim() !== "") cfg.baseline = given.baseline;
        else report("baseline", given.baseline, "is not a file path", "write e.g. results/main/probes.json");
    }
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
    return problems.length > 0 ? { problems } : { config: cfg, problems };
}

/** The seed's batch of 32 packets (targets.ts `interVm.batch`). */
export const DEFAULT_INTER_VM_BURST = 32;

/** `nfv-testpod:gate`: enforce (a missed target fails `pulumi up`) or report. */
export function resolveGate(raw: unknown, path = "nfv-testpod:gate"): Gate {
    const checked = checkGate(raw, path);
    if (!checked.gate) throw new ProbeSuiteConfigError(checked.problems);
    return checked.gate;
}

/** As `resolveGate`, without throwing. */
export function checkGate(raw: unknown, path = "nfv-testpod:gate"): { gate?: Gate; problems: SpecProblem[] } {
    if (raw === undefined || raw === null) return { gate: "enforce", problems: [] };
    if (raw === "enforce" || raw === "report") return { gate: raw, problems: [] };
    return { problems: [{ path, value: raw, reason: "is not a gate", fix: 'write "enforce" (a missed target fails pulumi up) or "report"' }] };
}
