/**
 * Statistics rules of issue 10: percentiles beyond the histogram range are
 * "> range", never the max; sample shortfalls are reported; cross-checks and
 * baseline regressions in the verdict.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildStats, formatPercentile, sampleShortfall, expectedSampleCount } from "../../components/probes/stats";
import { parseCyclictestRun } from "../../components/probes/kinds/latency/parse";
import { withExpectedSamples } from "../../components/probes/kinds/latency/run";
import { agreementRatio, crossChecks, shortfallNotes } from "../../components/probes/kinds/latency/crossCheck";
import { compareWithBaseline, parseBaseline } from "../../components/probes/baseline";
import { applyGate } from "../../components/probes/verdict";
import { judge } from "../../components/probes/kinds/latency/verdict";
import { jsonReport } from "../../components/probes/reports";
import { DEFAULT_TARGETS } from "../../components/probes/targets";
import type { GuestProbeResult, ProbeResult } from "../../components/probes/kinds/latency/types";

const DIR = join(__dirname, "..", "fixtures", "probes");
const fixture = (f: string) => readFileSync(join(DIR, f), "utf8");

test("the issue's case: 465 of 8680 samples beyond a 1000 µs range make p99 '> 1000 µs', not the 13230 µs max", (t) => {
    // The figures the issue quotes: 8215 samples inside the range, 465 overflows, max 13230 µs.
    const s = buildStats({ samples: 8680, minUs: 59, avgUs: 230, maxUs: 13230 }, [{ us: 200, count: 8215 }], 1000);
    t.is(s.overflow, 465);
    t.is(s.p99Us, null);
    t.true(s.p99BeyondRange);
    t.is(formatPercentile(s, "p99"), "> 1000 µs (beyond the histogram range)");
    t.not(formatPercentile(s, "p99"), "13230 µs");
});

test("captured cyclictest JSON: range from the command's -h, p99.9 beyond it", (t) => {
    const r = parseCyclictestRun({ stdout: fixture("cyclictest-2.4-1thread.hist.txt"), json: fixture("cyclictest-2.4-1thread.json") });
    const s = r.series[0].stats;
    t.is(s.rangeUs, 400);
    t.true(s.p999BeyondRange);
    t.false(s.p99BeyondRange);
});

test("sample shortfall: 8680 of 10000 expected at 1000 µs for 10 s is reported; 9900 is start-up, not a shortfall", (t) => {
    t.is(expectedSampleCount(10, 1000), 10000);
    t.is(expectedSampleCount(10, null), null);
    const short = buildStats({ samples: 8680, minUs: 1, avgUs: 2, maxUs: 3 }, [{ us: 1, count: 8680 }]);
    t.deepEqual(sampleShortfall({ ...short, expectedSamples: 10000 }), { samples: 8680, expected: 10000, missing: 0.132 });
    t.is(sampleShortfall({ ...short, samples: 9900, expectedSamples: 10000 }), null);
    // The captured 3 s run at 1000 µs gave 2997 cycles: within tolerance.
    const r = withExpectedSamples(
        parseCyclictestRun({ stdout: fixture("cyclictest-2.4-1thread.hist.txt"), json: fixture("cyclictest-2.4-1thread.json") }),
        3,
        1000,
    );
    t.is(r.series[0].stats.expectedSamples, 3000);
    t.deepEqual(shortfallNotes([{ guest: "g", result: r }]), []);
    const cut = withExpectedSamples(r, 10, 1000);
    t.deepEqual(shortfallNotes([{ guest: "g", result: cut }]), [
        "cyclictest on g thread 0 (cpu 1): 2997 of 10000 expected samples (70.0 % missing: wake-ups or periods lost, each missing one hides its latency)",
    ]);
});

/** A one-series result with a given max, µs. */
function result(probe: ProbeResult["probe"], kind: ProbeResult["series"][number]["kind"], maxUs: number, cpu = 1): ProbeResult {
    return {
        probe,
        version: null,
        command: null,
        noSamples: null,
        series: [{ kind, cpu, label: `${kind} cpu ${cpu}`, stats: buildStats({ samples: 6000, minUs: 1, avgUs: 100, maxUs }, []) }],
    };
}

test("cross-checks: ratios of the figures measured twice, disagreement beyond the factor is a note", (t) => {
    t.is(agreementRatio(0, 0), 1);
    const results: GuestProbeResult[] = [
        { guest: "g", result: result("cyclictest", "timer", 305_961) },
        { guest: "g", result: result("timerlat", "thread", 4_000) },
        { guest: "g", result: result("osnoise", "single-noise", 54_018) },
        { guest: "g", result: result("oslat", "loop", 52_847) },
    ];
    const cc = crossChecks(results, 4);
    t.is(cc.length, 2);
    t.false(cc[0].agree);
    t.is(
        cc[0].note,
        "timer wake-up on g on vCPU 1: cyclictest max 305961 µs (6000 samples) vs timerlat thread max 4000 µs (6000 samples), ratio 76.49: DISAGREE beyond 4×, one of them missed or invented a stall",
    );
    t.true(cc[1].agree);
    const v = judge(results, DEFAULT_TARGETS, { gate: "report" });
    t.deepEqual(v.notes, [cc[0].note]);
});

test("baseline: each figure's change; beyond the factor it fails the check in enforce mode even inside the target", (t) => {
    const loose = {
        ...DEFAULT_TARGETS,
        timer: {
            ...DEFAULT_TARGETS.timer,
            maxUs: { ...DEFAULT_TARGETS.timer.maxUs, value: 10_000_000 },
            avgUs: { ...DEFAULT_TARGETS.timer.avgUs, value: 1e9 },
        },
    };
    const before = judge([{ guest: "g", result: result("cyclictest", "timer", 12_344) }], loose);
    const baseline = parseBaseline(jsonReport(before), "results/main/probes.json");
    const after = judge([{ guest: "g", result: result("cyclictest", "timer", 305_961) }], loose, { baseline, regressionFactor: 5 });
    const max = after.checks.find((c) => c.metric === "timer.maxUs")!;
    t.is(max.change?.worseBy.toFixed(2), "24.79");
    t.false(max.pass);
    t.is(max.message, "timer latency on g: max 305961 µs regressed 24.8× against the baseline 12344 µs (limit 5×, +2378.6 % against the baseline 12344 µs)");
    t.throws(() => applyGate(after), { message: /regressed 24\.8× against the baseline/ });
    // The same figure again is no change and passes.
    const same = judge([{ guest: "g", result: result("cyclictest", "timer", 12_344) }], loose, { baseline });
    t.true(same.pass);
    t.is(compareWithBaseline({ guest: "x", probe: "cyclictest", metric: "timer.maxUs", measuredUs: 1, op: "<=" }, baseline), null);
    t.throws(() => parseBaseline("{}", "b.json"), {
        message: /nfv-testpod:probes\.baseline: names a file that is not a probe report .*\(got "b\.json"\)\. Fix: name the probes\.json of an earlier run/,
    });
});
