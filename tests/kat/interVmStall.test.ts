/**
 * Known answer for the inter-VM probe: the producer guest is frozen by the
 * host for a known time in the middle of a ring run (SIGSTOP/SIGCONT of its
 * QEMU process, timed signal to signal with the host's monotonic clock, as
 * the latency probes' "stop" case does), and the consumer must report its
 * longest gap between arrivals (nfvkit-ring's maxGapNs, on the consumer
 * guest's own clock) at that length, within ±10 %. A clean run must not
 * report it: its longest gap stays below half the stall.
 *
 * Why these bounds: the consumer spins on its RT vCPU and notes each arrival,
 * so a frozen producer is a gap of the freeze plus the time the two sides'
 * vCPU threads need to run again after SIGCONT: one scheduling delay of this
 * host. A clean run's longest gap is the same host noise: measured at load
 * 16–23 on the 2-CPU CI host, 222–1028 ms, even with both guests' QEMU
 * threads at nice −20 (the test sets it: the producer's vCPU is SCHED_OTHER
 * on the busy CPU 0). So:
 * - the stall is 1 s (the latency probes' 300 ms sits inside that noise here);
 * - a clean run stays below half the stall (retried once, as in knownAnswer.test.ts);
 * - the stalled run's gap is at least the freeze (−5 % for the two clocks read
 *   on different sides), and above it by at most max(10 %, the clean run's
 *   longest gap): the overshoot is one scheduling delay, which the clean run
 *   just measured. A probe that missed the stall (too short) or invented one
 *   (twice the stall is +100 %, above any allowance: the clean gap is < 50 %)
 *   fails either way. Measured at load 19: 1008.7 ms frozen, 1172.6 ms
 *   reported (+16 %), clean 222 ms.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as os from "node:os";
import { guestShell } from "../../components/libvirt/guestAgent";
import { runInterVm } from "../../components/probes/interVmRunner";
import type { InterVmSetting } from "../../components/probes/interVmConfig";
import type { ProbeGuest } from "../../components/probes/runner";
import type { InterVmResult } from "../../components/probes/types";
import { errorPercent } from "../helpers/disturb";
import { recordKnownAnswer } from "../helpers/katTable";
import { useKatLink, type KatLink } from "../helpers/katLink";
import { realTest } from "../helpers/realParts";

const PREFIX = "nfvkit-kat-ringstall";
const STALL_MS = 1000;
const SETTING: InterVmSetting = { link: "ring0", producer: "peer", consumer: "vnf", durationSec: 8, burst: 32, roundTripSec: 0, hostLimit: false };
const real = realTest(existsSync("/run/libvirt/libvirt-sock") || existsSync("/var/run/libvirt/libvirt-sock"), "the libvirt daemon");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Freezes the producer guest's QEMU for `ms` once its ring has been sending for a while; returns the frozen time, host clock. */
async function stallProducer(producer: ProbeGuest, ms: number): Promise<number> {
    const deadline = Date.now() + 90_000;
    while ((await guestShell(producer.uri, producer.domain, "pidof nfvkit-ring", 10_000).catch(() => ({ exitCode: 1 }))).exitCode !== 0) {
        if (Date.now() > deadline) throw new Error(`nfvkit-ring never started in ${producer.domain}`);
        await sleep(200);
    }
    // The producer waits for the consumer's session first; 2 s in, it is sending, and 6 s of the 8 s run remain.
    await sleep(2000);
    const pid = Number(readFileSync(`/run/libvirt/qemu/${producer.domain}.pid`, "utf8").trim());
    const started = process.hrtime.bigint();
    process.kill(pid, "SIGSTOP");
    let ended = started;
    try {
        await sleep(ms);
    } finally {
        // Never leave the guest frozen, whatever happened in between.
        ended = process.hrtime.bigint();
        process.kill(pid, "SIGCONT");
    }
    return Number(ended - started) / 1e6;
}

/** Every thread of a guest's QEMU at nice −20 (its FIFO vCPU threads are not affected by nice). */
function favour(domain: string): void {
    const pid = readFileSync(`/run/libvirt/qemu/${domain}.pid`, "utf8").trim();
    for (const tid of readdirSync(`/proc/${pid}/task`)) execFileSync("renice", ["-n", "-20", "-p", tid], { stdio: "ignore" });
}

/** One guest-to-guest ring run over the link, with or without a stall of the producer. */
async function ringRun(k: KatLink, stallMs: number | null): Promise<{ result: InterVmResult; injectedMs: number | null }> {
    let injected: Promise<number | null> = Promise.resolve(null);
    const [result] = await runInterVm([SETTING], [k.consumer, k.producer], [k.link], {
        priority: 95,
        ringTool: k.ringTool,
        shell: (g, script, timeoutMs) => {
            if (stallMs !== null && g.guest === "peer" && script.includes(" produce ")) injected = stallProducer(k.producer, stallMs);
            return guestShell(g.uri, g.domain, script, timeoutMs);
        },
    });
    return { result, injectedMs: await injected };
}

function gapMs(r: InterVmResult): number {
    if (!r.rate) throw new Error(`the ring measured nothing: ${r.noSamples}`);
    if (r.rate.maxGapNs == null) throw new Error("the ring reports no gap: an nfvkit-ring without maxGapNs");
    return r.rate.maxGapNs / 1e6;
}

real(
    "inter-VM probe: a 1 s stall of the producer shows as the consumer's longest gap (−5 % to +max(10 %, clean gap)), and a clean run does not show it",
    async (t) => {
        const k = await useKatLink(t, PREFIX);
        favour(k.producer.domain);
        favour(k.consumer.domain);
        const command = `nfvkit-ring produce (peer) → consume (vnf) over ring0, ${SETTING.durationSec} s, bursts of ${SETTING.burst}`;

        let clean = await ringRun(k, null);
        if (gapMs(clean.result) >= STALL_MS / 2) {
            recordKnownAnswer("interVm", "longest gap (first try, retried)", "none (clean run)", null, gapMs(clean.result), command);
            t.log(
                `clean ring run saw a ${gapMs(clean.result)} ms gap at ${((clean.result.rate?.maxGapAtNs ?? 0) / 1e9).toFixed(2)} s; retrying once (host load ${os.loadavg()[0].toFixed(1)})`,
            );
            clean = await ringRun(k, null);
        }
        const cleanGap = gapMs(clean.result);
        recordKnownAnswer("interVm", "longest gap", "none (clean run)", null, cleanGap, command);
        t.is(clean.result.rate!.lost + clean.result.rate!.reordered + clean.result.rate!.corrupt, 0);
        const where = (r: InterVmResult) =>
            `at ${((r.rate?.maxGapAtNs ?? 0) / 1e9).toFixed(2)} s of ${r.rate?.seconds.toFixed(2)} s, per-second Mpps ${r.rate?.perSecondMpps.map((m) => m.toFixed(3)).join(" ")}`;
        t.true(cleanGap < STALL_MS / 2, `clean run: longest gap ${cleanGap} ms ${where(clean.result)}: a ${STALL_MS} ms stall could not be told from it`);

        const stalled = await ringRun(k, STALL_MS);
        const gap = gapMs(stalled.result);
        const injected = stalled.injectedMs!;
        const err = errorPercent(gap, injected);
        recordKnownAnswer("interVm", "longest gap", `stop of the producer ${STALL_MS} ms (measured ${injected.toFixed(1)} ms)`, injected, gap, command);
        t.log(
            `clean gap ${cleanGap.toFixed(3)} ms; stall ${injected.toFixed(1)} ms reported as ${gap.toFixed(3)} ms (${err.toFixed(2)} %) at ` +
                `${(stalled.result.rate!.maxGapAtNs! / 1e9).toFixed(2)} s; ${stalled.result.rate!.mpps} Mpps; host load ${os.loadavg()[0].toFixed(1)}`,
        );
        t.is(stalled.result.rate!.lost + stalled.result.rate!.reordered + stalled.result.rate!.corrupt, 0, "a stall loses no packet");
        const allowedOverPercent = Math.max(10, (cleanGap / injected) * 100);
        t.true(
            err >= -5 && err <= allowedOverPercent,
            `reported ${gap} ms for ${injected.toFixed(1)} ms injected (${err.toFixed(1)} %; allowed −5 % to +${allowedOverPercent.toFixed(1)} %, the clean run's gap being ${cleanGap.toFixed(1)} ms)`,
        );
    },
);
