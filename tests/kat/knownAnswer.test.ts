/**
 * Known-answer tests: every probe, in a real guest under TCG, must report a
 * disturbance of known size at that size, and a clean run must not report it.
 *
 * Bounds, and why:
 * - Disturbed: the probe's worst figure is within ±10% of what was really
 *   injected (the host's clock around SIGSTOP/SIGCONT, the hog's own clock
 *   around its burst). The guest adds its usual latency on top (a few ms
 *   under TCG at most on a quiet CPU), which is < 2% of 300 ms. After a
 *   stop, the measured vCPU's thread may also wait for a host CPU (other
 *   FIFO threads, or the host's RT throttling): the host kernel counts that
 *   wait (schedstat), and the vCPU was frozen through it, so a stop's upper
 *   bound is 10% over the stop plus that wait.
 * - Clean: the worst figure stays below half the disturbance (150 ms). The
 *   clean noise under TCG is up to ~50 ms (the host throttles the RT vCPU
 *   thread, FIFO 1, for 50 ms a second), so half the disturbance separates
 *   the two with room on both sides.
 * The guest runs with RT throttling off (sched_rt_runtime_us = -1, as tuned's
 * realtime-virtual-guest profile sets it): with it on, oslat's FIFO spin on a
 * nohz_full vCPU is parked for 600–800 ms at a time, which hides any answer.
 * Every run appends a row to results/kat/known-answers.md.
 */
import * as os from "node:os";
import { realTest } from "../helpers/realParts";
import { bootKatGuest, inGuest, type KatGuest } from "../helpers/katGuest";
import { burstOutsideWindow, errorPercent, runWithDisturbance, type Disturbance, type KatRun } from "../helpers/disturb";
import { removeDomainsWithPrefix } from "../helpers/host";
import { recordKnownAnswer } from "../helpers/katTable";
import { existsSync } from "node:fs";
import test, { type ExecutionContext } from "ava";
import type { ProbeKind, SeriesKind } from "../../components/probes/kinds/latency/types";
import { applyGate } from "../../components/probes/verdict";
import { judge } from "../../components/probes/kinds/latency/verdict";
import { resolveTargets } from "../../components/probes/targets";
import { parseBaseline } from "../../components/probes/baseline";
import { jsonReport, markdownReport } from "../../components/probes/reports";

const PREFIX = "nfvkit-kat-answers";
const DISTURB_MS = 300;
const DURATION_SEC = 6;
/** Above the probes' FIFO 95. */
const HOG_PRIORITY = 98;

const real = realTest(existsSync("/run/libvirt/libvirt-sock") || existsSync("/var/run/libvirt/libvirt-sock"), "the libvirt daemon");

let guest: Promise<KatGuest> | undefined;
function theGuest(): Promise<KatGuest> {
    guest ??= bootKatGuest(PREFIX).then(async (g) => {
        await inGuest(g, "echo -1 > /proc/sys/kernel/sched_rt_runtime_us");
        return g;
    });
    return guest;
}
test.after.always(() => removeDomainsWithPrefix(PREFIX));

/** The worst max of a series kind (of the series whose label matches `series`, when given), ms. */
function worstMs(run: KatRun, kind: SeriesKind, series?: RegExp): number {
    const maxes = run.result.series
        .filter((s) => s.kind === kind && s.stats.maxUs !== null && (!series || series.test(s.label)))
        .map((s) => s.stats.maxUs as number);
    if (maxes.length === 0) throw new Error(`no ${kind} figure: ${run.result.noSamples ?? "nothing parsed"}`);
    return Math.max(...maxes) / 1000;
}

function record(
    probe: string,
    figure: string,
    disturbance: Disturbance,
    injectedMs: number | null,
    reportedMs: number,
    command: string,
    resumeWaitMs = 0,
): void {
    const waited = resumeWaitMs > 0 ? `, then ${resumeWaitMs.toFixed(1)} ms waiting for a host CPU` : "";
    const what = disturbance.kind === "none" ? "none (clean run)" : `${disturbance.kind} ${disturbance.ms} ms (measured ${injectedMs?.toFixed(1)} ms${waited})`;
    recordKnownAnswer(probe, figure, what, injectedMs, reportedMs, command);
}

/**
 * One case: the run, then each figure checked against the known answer.
 * `durationSec` lengthens a run whose burst needs more room (see the oslat hog case).
 */
type Figure = { kind: SeriesKind; label: string; series?: RegExp };

/** Why a run says nothing of the probe and is run once more, or null when it stands. */
function retryBecause(probe: ProbeKind, disturbance: Disturbance, figures: Figure[], run: KatRun): string | null {
    const worst = (f: Figure) => worstMs(run, f.kind, f.series);
    if (disturbance.kind === "none" && figures.some((f) => worst(f) >= DISTURB_MS / 2)) {
        // Other guests share this host: a busy host can stall ours for longer than the disturbance (seen: 953 ms
        // at load 9 on 2 CPUs). The retry tells a passing burst from a probe that invents stalls.
        return `clean ${probe} run saw ${figures.map((f) => `${worst(f)} ms`).join(", ")} (host load ${os.loadavg()[0].toFixed(1)})`;
    }
    if (probe === "timerlat" && disturbance.kind === "stop" && worstMs(run, "irq") < DISTURB_MS / 2 && worstMs(run, "thread") >= DISTURB_MS / 2) {
        // timerlat's thread arms the next period's timer only when it goes back to sleep: a stop that begins after
        // the timer's IRQ and before that sleep covers no armed timer, so the IRQ latency cannot see it, while the
        // thread's latency does (seen: IRQ 8.8 ms, thread 301.4 ms for a 300.9 ms stop).
        return `the stop fell while timerlat's thread ran (IRQ ${worstMs(run, "irq")} ms, thread ${worstMs(run, "thread")} ms)`;
    }
    return null;
}

function knownAnswer(probe: ProbeKind, disturbance: Disturbance, figures: Figure[], durationSec = DURATION_SEC) {
    const title = `${probe}: ${disturbance.kind === "none" ? "a clean run does not report the disturbance" : `reports a ${disturbance.kind} of ${disturbance.ms} ms`}`;
    real(title, async (t: ExecutionContext) => {
        const g = await theGuest();
        let run = await runWithDisturbance(g, probe, durationSec, disturbance);
        const because = retryBecause(probe, disturbance, figures, run);
        if (because) {
            // One retry, the first try's figures stay in the table: a probe that is at fault fails the second run too.
            for (const f of figures)
                record(
                    probe,
                    `${f.label} (first try, retried)`,
                    disturbance,
                    run.injectedMs,
                    worstMs(run, f.kind, f.series),
                    run.result.command ?? "",
                    run.resumeWaitMs,
                );
            t.log(`${because}; retrying once`);
            run = await runWithDisturbance(g, probe, durationSec, disturbance);
        }
        t.is(run.result.noSamples, null, run.result.noSamples ?? "");
        if (run.hogTiming) {
            // A burst outside the window is a fault of the test, not of the probe: say so rather than report a miss.
            const outside = burstOutsideWindow(run.hogTiming);
            t.is(outside, null, `${probe}: ${outside}`);
            t.log(outside ?? `burst inside the window: ${JSON.stringify(run.hogTiming)}`);
        }
        for (const f of figures) {
            const reported = worstMs(run, f.kind, f.series);
            record(probe, f.label, disturbance, run.injectedMs, reported, run.result.command ?? "", run.resumeWaitMs);
            if (run.injectedMs === null) {
                t.true(
                    reported < DISTURB_MS / 2,
                    `${probe} ${f.label} ${reported} ms in a clean run: a ${DISTURB_MS} ms disturbance could not be told from it`,
                );
            } else {
                // The measured vCPU stays frozen while its thread waits for a host CPU after SIGCONT: that wait is part of
                // what it saw, so the answer reaches up to the stop plus the wait, and never below the stop.
                const upToMs = run.injectedMs + run.resumeWaitMs;
                const under = errorPercent(reported, run.injectedMs);
                const over = errorPercent(reported, upToMs);
                t.true(
                    under >= -10 && over <= 10,
                    `${probe} ${f.label}: reported ${reported} ms for ${run.injectedMs.toFixed(1)} ms injected` +
                        (run.resumeWaitMs > 0 ? ` and ${run.resumeWaitMs.toFixed(1)} ms the vCPU then waited for a host CPU` : "") +
                        ` (${under.toFixed(1)} % of the stop, ${over.toFixed(1)} % of both; allowed −10 % of the one to +10 % of both)`,
                );
            }
        }
    });
}

const stop: Disturbance = { kind: "stop", ms: DISTURB_MS };
const hog: Disturbance = { kind: "hog", ms: DISTURB_MS, priority: HOG_PRIORITY };
const none: Disturbance = { kind: "none" };

knownAnswer("cyclictest", stop, [{ kind: "timer", label: "max timer latency" }]);
knownAnswer("timerlat", stop, [
    { kind: "thread", label: "max thread latency" },
    { kind: "irq", label: "max IRQ latency" },
]);
knownAnswer("oslat", stop, [{ kind: "loop", label: "max loop stall" }]);
// osnoise runs top, then hist, each with its own hog burst: both must report it.
const OSNOISE_TOP = /^cpu \d+ single$/;
const OSNOISE_HIST = /\(hist\)$/;
knownAnswer("osnoise", hog, [
    { kind: "single-noise", label: "max single noise", series: OSNOISE_TOP },
    { kind: "period-noise", label: "max noise per 1 ms period" },
    { kind: "single-noise", label: "max single noise (osnoise hist)", series: OSNOISE_HIST },
]);
// 8 s rather than 6: the burst starts 1 s into the window and ends 1.3 s in, so a watcher that saw the start
// up to 5 s late still leaves the 1 s margin burstOutsideWindow asks for before the window closes.
knownAnswer("oslat", hog, [{ kind: "loop", label: "max loop stall" }], DURATION_SEC + 2);
knownAnswer("timerlat", hog, [{ kind: "thread", label: "max thread latency" }]);
for (const probe of ["cyclictest", "timerlat", "osnoise", "oslat"] as ProbeKind[]) {
    const kinds: Record<ProbeKind, Figure[]> = {
        cyclictest: [{ kind: "timer", label: "max timer latency" }],
        timerlat: [
            { kind: "thread", label: "max thread latency" },
            { kind: "irq", label: "max IRQ latency" },
        ],
        osnoise: [
            { kind: "single-noise", label: "max single noise", series: OSNOISE_TOP },
            { kind: "single-noise", label: "max single noise (osnoise hist)", series: OSNOISE_HIST },
        ],
        oslat: [{ kind: "loop", label: "max loop stall" }],
    };
    knownAnswer(probe, none, kinds[probe]);
}
void test;

real("baseline regression: a clean run as baseline, then a run with a 300 ms stop fails the enforced gate inside loose targets", async (t) => {
    const g = await theGuest();
    // Targets far above anything TCG produces: only the regression can fail the gate.
    const loose = resolveTargets({ timer: { avgUs: 1e9, maxUs: 1e9 } }, "nfv-testpod:targets");
    // The stop must stand out from the baseline by the factor: a baseline below a quarter of the stop over the
    // factor leaves it twice the room. A host stall in the clean run (seen: 120 ms at load 4.7, 149 ms while the
    // lab VM booted beside it) makes the baseline too poor for that, which says nothing of the gate: two retries,
    // each figure logged.
    const factor = 2;
    const cleanEnoughMs = DISTURB_MS / factor / 2;
    let clean = await runWithDisturbance(g, "cyclictest", DURATION_SEC, none);
    for (let retry = 1; retry <= 2 && worstMs(clean, "timer") >= cleanEnoughMs; retry++) {
        t.log(`clean baseline run saw ${worstMs(clean, "timer")} ms, above ${cleanEnoughMs} ms; retry ${retry} (host load ${os.loadavg()[0].toFixed(1)})`);
        clean = await runWithDisturbance(g, "cyclictest", DURATION_SEC, none);
    }
    t.true(worstMs(clean, "timer") < cleanEnoughMs, `the clean baseline run's max ${worstMs(clean, "timer")} ms stays below ${cleanEnoughMs} ms`);
    const accepted = judge(clean.run.results, loose, { gate: "enforce" });
    t.true(accepted.pass, accepted.failures.join("\n"));
    const baseline = parseBaseline(jsonReport(accepted), "clean run");
    const disturbed = await runWithDisturbance(g, "cyclictest", DURATION_SEC, stop);
    const verdict = judge(disturbed.run.results, loose, { gate: "enforce", baseline, regressionFactor: factor });
    const max = verdict.checks.find((c) => c.metric === "timer.maxUs")!;
    t.log(`baseline max ${max.change?.baselineUs} µs, disturbed max ${max.measuredUs} µs: ${max.change?.worseBy.toFixed(1)}× worse`);
    t.true(max.change!.worseBy > factor);
    t.false(max.pass);
    t.throws(() => applyGate(verdict), { message: /timer latency on kat: max \d+ µs regressed [\d.]+× against the baseline \d+ µs \(limit 2×/ });
    // The report shows every figure's change.
    t.regex(markdownReport(verdict), /\| Change \|/);
});
