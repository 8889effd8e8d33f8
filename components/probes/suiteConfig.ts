/**
 * The probe suite's settings as stack config gives them (`nfv-testpod:probes`,
 * `nfv-testpod:gate`), with defaults and all-at-once errors that name the
 * YAML path. Pure.
 */
import type { Gate } from "./verdict";
import type { ProbeKind } from "./types";

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
}

export const DEFAULT_PROBE_SUITE: Readonly<ProbeSuiteConfig> = Object.freeze({
    enabled: true,
    probes: ["cyclictest", "timerlat", "osnoise", "oslat"] as ProbeKind[],
    durationSec: 60,
    priority: 95,
    intervalUs: 1000,
    load: "none" as LoadKind,
    hostGate: "report" as Gate,
});

const PROBE_KINDS: ProbeKind[] = ["cyclictest", "oslat", "timerlat", "osnoise"];

/** Bad probe settings, every one of them, each with its YAML path. */
export class ProbeSuiteConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`probe settings have ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ProbeSuiteConfigError";
    }
}

/** Merges stack config over the defaults. */
export function resolveProbeSuiteConfig(raw: unknown, path = "nfv-testpod:probes"): ProbeSuiteConfig {
    const problems: string[] = [];
    const cfg: ProbeSuiteConfig = { ...DEFAULT_PROBE_SUITE, probes: [...DEFAULT_PROBE_SUITE.probes] };
    if (raw === undefined || raw === null) return cfg;
    if (typeof raw !== "object" || Array.isArray(raw)) {
        throw new ProbeSuiteConfigError([`${path}: must be a mapping (got ${JSON.stringify(raw)}). Fix: write e.g. "durationSec: 10" under it.`]);
    }
    const given = raw as Record<string, unknown>;
    const known = new Set(Object.keys(DEFAULT_PROBE_SUITE));
    for (const key of Object.keys(given)) {
        if (!known.has(key)) problems.push(`${path}.${key}: unknown setting. Fix: use one of ${[...known].join(", ")}.`);
    }
    if (given.enabled !== undefined) {
        if (typeof given.enabled === "boolean") cfg.enabled = given.enabled;
        else problems.push(`${path}.enabled: must be true or false (got ${JSON.stringify(given.enabled)}).`);
    }
    if (given.probes !== undefined) {
        if (!Array.isArray(given.probes) || given.probes.some((p) => !PROBE_KINDS.includes(p as ProbeKind))) {
            problems.push(`${path}.probes: must be a list of ${PROBE_KINDS.join(", ")} (got ${JSON.stringify(given.probes)}).`);
        } else {
            cfg.probes = given.probes as ProbeKind[];
        }
    }
    const integer = (key: "durationSec" | "priority" | "intervalUs", min: number, max: number, example: number) => {
        const v = given[key];
        if (v === undefined) return;
        if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) cfg[key] = v;
        else problems.push(`${path}.${key}: must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)}). Fix: e.g. ${example}.`);
    };
    integer("durationSec", 1, 86_400, 60);
    integer("priority", 1, 99, 95);
    integer("intervalUs", 50, 10_000_000, 1000);
    if (given.load !== undefined) {
        if (given.load === "none" || given.load === "guest" || given.load === "host") cfg.load = given.load;
        else problems.push(`${path}.load: must be none, guest or host (got ${JSON.stringify(given.load)}).`);
    }
    if (given.hostGate !== undefined) {
        if (given.hostGate === "enforce" || given.hostGate === "report") cfg.hostGate = given.hostGate;
        else problems.push(`${path}.hostGate: must be enforce or report (got ${JSON.stringify(given.hostGate)}).`);
    }
    if (problems.length > 0) throw new ProbeSuiteConfigError(problems);
    return cfg;
}

/** `nfv-testpod:gate`: enforce (a missed target fails `pulumi up`) or report. */
export function resolveGate(raw: unknown, path = "nfv-testpod:gate"): Gate {
    if (raw === undefined || raw === null) return "enforce";
    if (raw === "enforce" || raw === "report") return raw;
    throw new ProbeSuiteConfigError([`${path}: must be "enforce" or "report" (got ${JSON.stringify(raw)}).`]);
}
