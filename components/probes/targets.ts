/**
 * The figures a test pod must meet, with the OPNFV "KVM for NFV" goals as
 * defaults (Jun Nakajima, "KVM Enhancements for OPNFV", 2015-11-12; the seed
 * under shared/seed/). Stack config can override any of them:
 *
 * ```yaml
 * nfv-testpod:targets:
 *   timer: { maxUs: 20 }                 # keep the operator, change the value
 *   preemption:
 *     perWindowUs: { value: 4, op: "<" }  # the seed's future target
 * ```
 *
 * Every bound names its operator, because the seed mixes "≤" goals with
 * strict "<" ones (cumulative pre-emption, migration time).
 */

import { closestMatch } from "../spec/names";
import { ProblemListError, type SpecProblem } from "../spec/problems";

/** How a measured figure must compare with the target value to pass. */
export type Operator = "<=" | "<" | ">=" | ">";

/** Unit of a bound's value. */
export type TargetUnit = "us" | "ms" | "Mpps" | "packets" | "ratio";

/** One target: the measured figure must satisfy `measured op value`. */
export interface Bound {
    /** Target value, in `unit`. */
    value: number;
    /** Comparison a passing figure satisfies. */
    op: Operator;
    unit: TargetUnit;
    /** Where the value comes from: the seed's words, or `stack config` once overridden. */
    source: string;
}

export interface Targets {
    /** Timer latency in the guest, measured by cyclictest. */
    timer: {
        /** Mean wake-up latency. @default ≤ 5 µs (seed: "Timer latency => AVG 5 us") */
        avgUs: Bound;
        /** Worst wake-up latency. @default ≤ 15 µs (seed: "MAX 15 us") */
        maxUs: Bound;
    };
    /** Interrupt latency: timer expiry to the guest's interrupt handler, measured by rtla timerlat (IRQ). */
    interrupt: {
        /** @default ≤ 20 µs (seed: "Interrupt latency => MAX 20 us", future 5 µs) */
        maxUs: Bound;
    };
    /** Time the guest vCPU loses to anything else, measured by rtla osnoise (and oslat for the single figure). */
    preemption: {
        /** Longest single pre-emption. @default ≤ 10 µs (seed: "Maximum guest vCPU pre-emption period => 10 us", future 2 µs) */
        maxSingleUs: Bound;
        /** Pre-emption summed over one window. @default < 20 µs (seed: "Cumulative pre-emption within 1 ms window => X < 20 us", future < 4 µs) */
        perWindowUs: Bound;
        /** Window length in µs; osnoise runs with this period. @default 1000 (the seed's 1 ms window) */
        windowUs: number;
    };
    /** Live migration goals. No probe measures them yet; they are here so stack config can set them now. */
    migration: {
        /** Total migration time. @default < 2000 ms (seed: "Migration Time < 2 sec.") */
        totalMs: Bound;
        /** Guest downtime under an IO-bound load. @default ≤ 10 ms (seed: "IO intensive workload: 10 ms", future 3 ms) */
        downtimeIoMs: Bound;
        /** Guest downtime under a memory-bound load. @default < 500 ms (seed: "memory intensive workload: < 500 ms") */
        downtimeMemoryMs: Bound;
        /** Network downtime. @default ≤ 25 ms (seed: "Network downtime: 25 ms") */
        networkDowntimeMs: Bound;
    };
    /** Inter-VM fast-path goal. No probe measures it yet. */
    interVm: {
        /** Packet rate between two guests. @default ≥ 65 Mpps (seed: "65Mpps with 32-packet batching", 64-byte packets) */
        mpps: Bound;
        /** Packet size the rate applies to. @default 64 bytes (seed) */
        packetBytes: number;
        /** Packets per batch. @default 32 (seed) */
        batch: number;
        /**
         * Guest-to-guest rate over the host's own rate on the same memory (inter-VM probe).
         * @default null: no target, the ratio is reported only. Set e.g. `hostRatio: 0.5` (meaning ≥ 0.5).
         */
        hostRatio: Bound | null;
    };
}

const SEED = "OPNFV KVM for NFV goals (Nakajima, KVM Enhancements for OPNFV, 2015)";

function seed(value: number, op: Operator, unit: TargetUnit, words: string): Bound {
    return { value, op, unit, source: `${SEED}: ${words}` };
}

/** The seed's goals. Frozen so nobody mutates the defaults by accident. */
export const DEFAULT_TARGETS: Readonly<Targets> = deepFreeze({
    timer: {
        avgUs: seed(5, "<=", "us", "Timer latency => AVG 5 us"),
        maxUs: seed(15, "<=", "us", "Timer latency => MAX 15 us"),
    },
    interrupt: {
        maxUs: seed(20, "<=", "us", "Interrupt latency => MAX 20 us"),
    },
    preemption: {
        maxSingleUs: seed(10, "<=", "us", "Maximum guest vCPU pre-emption period => 10 us"),
        perWindowUs: seed(20, "<", "us", "Cumulative pre-emption within 1 ms window => X < 20 us"),
        windowUs: 1000,
    },
    migration: {
        totalMs: seed(2000, "<", "ms", "Migration Time < 2 sec."),
        downtimeIoMs: seed(10, "<=", "ms", "Hypervisor downtime for IO intensive workload: 10 ms"),
        downtimeMemoryMs: seed(500, "<", "ms", "Hypervisor downtime for memory intensive workload: < 500 ms"),
        networkDowntimeMs: seed(25, "<=", "ms", "Network downtime: 25 ms"),
    },
    interVm: {
        mpps: seed(65, ">=", "Mpps", "65Mpps with 32-packet batching (64-byte packets)"),
        packetBytes: 64,
        batch: 32,
        hostRatio: null,
    },
});

const OPERATORS: Operator[] = ["<=", "<", ">=", ">"];

/** Targets that are off unless stack config sets them: the operator and unit a bare number gets. */
const OPTIONAL_BOUNDS: Record<string, Bound> = {
    "interVm.hostRatio": { value: 0, op: ">=", unit: "ratio", source: "off by default" },
};

/** Largest target value accepted: a latency target past a day, or a rate past 10^9, is a typo. */
const maxTargetValue = 1e9;

/**
 * Merges stack config over `DEFAULT_TARGETS`. `raw` is the parsed YAML value
 * (undefined or null means "defaults"), `path` where it came from, e.g.
 * `nfv-testpod:targets`. A bound accepts a number (new value, same operator)
 * or `{ value, op }`. Unknown keys are errors, so a typo does not silently
 * leave a default in force. Throws one ProblemListError ("latency targets") listing every problem.
 */
export function resolveTargets(raw: unknown, path: string): Targets {
    const checked = checkTargets(raw, path);
    if (!checked.targets) throw new ProblemListError(checked.problems, "latency targets");
    return checked.targets;
}

/** As `resolveTargets`, without throwing: the targets when there is no problem, and every problem. */
export function checkTargets(raw: unknown, path: string): { targets?: Targets; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    const out = structuredClone(DEFAULT_TARGETS) as Targets;
    if (raw === undefined || raw === null) return { targets: out, problems };
    const groups = out as unknown as Record<string, Record<string, Bound | number>>;
    if (!isPlainObject(raw)) {
        problems.push({ path, value: raw, reason: "must be a mapping of target groups", fix: 'write e.g. "timer: { maxUs: 15 }"' });
        return { problems };
    }
    for (const [groupName, groupRaw] of Object.entries(raw)) {
        const groupPath = `${path}.${groupName}`;
        const group = Object.hasOwn(groups, groupName) ? groups[groupName] : undefined;
        if (!group) {
            const guess = closestMatch(groupName, Object.keys(groups));
            problems.push({
                path: groupPath,
                value: groupRaw,
                reason: "is not a target group",
                fix: guess ? `did you mean "${guess}"?` : `use one of ${Object.keys(groups).join(", ")}`,
            });
            continue;
        }
        if (!isPlainObject(groupRaw)) {
            problems.push({
                path: groupPath,
                value: groupRaw,
                reason: "must be a mapping",
                fix: `write e.g. "${groupName}: { ${Object.keys(group)[0]}: ... }"`,
            });
            continue;
        }
        for (const [key, value] of Object.entries(groupRaw)) {
            const keyPath = `${groupPath}.${key}`;
            // A target that is off by default (null) takes its operator and unit from OPTIONAL_BOUNDS.
            const known = Object.hasOwn(group, key) ? group[key] : undefined;
            const current = known === null ? OPTIONAL_BOUNDS[`${groupName}.${key}`] : known;
            if (current === undefined) {
                const guess = closestMatch(key, Object.keys(group));
                problems.push({
                    path: keyPath,
                    value,
                    reason: `is not a target of ${groupName}`,
                    fix: guess ? `did you mean "${guess}"?` : `use one of ${Object.keys(group).join(", ")}`,
                });
            } else if (typeof current === "number") {
                const n = checkSetting(key, value, keyPath, problems);
                if (n !== null) group[key] = n;
            } else {
                const b = checkBound(current, value, keyPath, problems);
                if (b !== null) group[key] = b;
            }
        }
    }
    return problems.length > 0 ? { problems } : { targets: out, problems };
}

function checkBound(current: Bound, value: unknown, path: string, problems: SpecProblem[]): Bound | null {
    const example = `${current.value} or { value: ${current.value}, op: "${current.op}" }`;
    let v: unknown = value;
    let op: unknown = current.op;
    if (isPlainObject(value)) {
        const extra = Object.keys(value).filter((k) => k !== "value" && k !== "op");
        if (extra.length > 0) {
            problems.push({
                path: `${path}.${extra[0]}`,
                value: value[extra[0]],
                reason: "is not a field of a target",
                fix: 'a target takes only "value" and "op"',
            });
            return null;
        }
        v = value.value ?? current.value;
        op = value.op ?? current.op;
    }
    let ok = true;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > maxTargetValue) {
        problems.push({
            path: isPlainObject(value) ? `${path}.value` : path,
            value: v,
            reason: `must be a number from 0 to ${maxTargetValue} in ${current.unit}`,
            fix: `write ${example}`,
        });
        ok = false;
    }
    if (!OPERATORS.includes(op as Operator)) {
        problems.push({ path: `${path}.op`, value: op, reason: `must be one of ${OPERATORS.map((o) => `"${o}"`).join(", ")}`, fix: `write ${example}` });
        ok = false;
    }
    if (!ok) return null;
    return { value: v as number, op: op as Operator, unit: current.unit, source: `stack config (${path})` };
}

function checkSetting(key: string, value: unknown, path: string, problems: SpecProblem[]): number | null {
    const min = key === "windowUs" ? 100 : 1;
    const max = key === "windowUs" ? 10_000_000 : 1_000_000;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        problems.push({
            path,
            value,
            reason: `must be a whole number from ${min} to ${max}`,
            fix: `write e.g. ${key === "windowUs" ? 1000 : key === "packetBytes" ? 64 : 32}`,
        });
        return null;
    }
    return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(o: T): T {
    if (typeof o === "object" && o !== null) {
        for (const v of Object.values(o)) deepFreeze(v);
        Object.freeze(o);
    }
    return o;
}

/** True when `measured op value` holds. */
export function satisfies(measured: number, bound: Pick<Bound, "op" | "value">): boolean {
    switch (bound.op) {
        case "<=":
            return measured <= bound.value;
        case "<":
            return measured < bound.value;
        case ">=":
            return measured >= bound.value;
        case ">":
            return measured > bound.value;
    }
}
