/**
 * Disturbances of known size for the probes' known-answer tests, injected
 * while a probe measures in a KAT guest, and measured as they happen so the
 * test compares the probe with what really took place:
 *
 * - stop: the whole guest is frozen by the host (SIGSTOP/SIGCONT of its QEMU
 *   process) for N ms while its clocks keep running, which is what a host
 *   stall looks like to a guest. `virsh suspend` is no use here: it stops the
 *   guest's clocks too (QEMU's virtual clock stands still while the VM is
 *   paused), so the guest never sees the gap (docs/probes.md).
 * - hog: nfvkit-hog, the image's FIFO busy-wait, spins for exactly N ms on
 *   the measured vCPU at a priority above the probe's.
 */
import { readdirSync, readFileSync } from "node:fs";
import { DEFAULT_TARGETS } from "../../components/probes/targets";
import { DEFAULT_PROBE_SUITE, type ProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { runProbeSuite, type SuiteRun } from "../../components/probes/kinds/latency/run";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import type { ProbeKind, ProbeResult } from "../../components/probes/kinds/latency/types";
import type { KatGuest } from "./katGuest";

export type Disturbance = { kind: "none" } | { kind: "stop"; ms: number } | { kind: "hog"; ms: number; priority: number };

export interface KatRun {
    result: ProbeResult;
    run: SuiteRun;
    /** What was really injected, ms (host clock for a stop, the hog's own clock for a hog); null for none. */
    injectedMs: number | null;
    /**
     * For a stop: how long the measured vCPU's thread waited for a host CPU in the second after SIGCONT, ms (from
     * the host kernel's run-delay accounting; the other vCPU's waits, which the probe does not see, are left out).
     * That vCPU is frozen for that long too: other FIFO threads, or the host's RT throttling, can hold it after the
     * signal (a 300.7 ms stop was seen by oslat as 340 ms). 0 for a hog or none.
     */
    resumeWaitMs: number;
    /** The command that produced the figures, for the report table. */
    command: string;
    /** For a hog: when it ran against when the tool measured; null otherwise. */
    hogTiming: HogTiming | null;
}

/** Marker the guest-side watcher writes 1 s after the tool starts measuring; the host's stop waits for it. */
const MEASURING = "/tmp/nfvkit-kat-measuring";
/** The guest's uptime (s) when the watcher saw the tool start measuring, and when it saw the tool end. */
const MEASURING_AT = "/tmp/nfvkit-kat-measuring-at";
const ENDED_AT = "/tmp/nfvkit-kat-ended-at";
const HOG_OUT = "/tmp/nfvkit-kat-hog.out";
/** The watcher gives up after this many 50 ms polls per wait, so a watcher whose tool never ran cannot act in a later run. */
const MAX_POLLS = 2400;

/**
 * Guest shell (busybox ash) that returns once the tool measures on vCPU `cpu`,
 * with `$p` set when there is a process to follow. `tick` sleeps 50 ms and
 * fails after MAX_POLLS.
 */
function waitMeasuring(probe: ProbeKind, cpu: number): string {
    // rtla needs seconds under TCG to set up its tracer; its kernel threads appear when measuring starts.
    if (probe === "timerlat" || probe === "osnoise") return `until grep -qx ${probe}/${cpu} /proc/[0-9]*/comm 2>/dev/null; do tick || exit; done`;
    const process = `until p=$(pidof ${probe}); do tick || exit; done`;
    if (probe !== "oslat") return process;
    // oslat first pre-heats for 1 s (to measure the CPU's frequency) with threads of its own, joins them, and only
    // then starts the measuring threads: "Pre-heat for 1 seconds..." then "Test starts...". The process existing
    // says nothing, and 1 s after it is right at the pre-heat's end, which is how a hog used to land outside the
    // window. Measuring = every pre-heat thread is gone and a new thread exists.
    return [
        process,
        `threads() { ls /proc/$p/task 2>/dev/null | grep -vx "$p"; }`,
        `until first=$(threads) && [ -n "$first" ]; do [ -d /proc/$p ] && tick || exit; done`,
        `while :; do [ -d /proc/$p ] || exit; old=0; for t in $first; do [ -d /proc/$p/task/$t ] && old=1; done; [ $old = 0 ] && [ -n "$(threads)" ] && break; tick || exit; done`,
    ].join("; ");
}

/** Guest shell that returns once the tool has stopped measuring (its process or kernel thread is gone). */
function waitEnded(probe: ProbeKind, cpu: number): string {
    if (probe === "timerlat" || probe === "osnoise") return `while grep -qx ${probe}/${cpu} /proc/[0-9]*/comm 2>/dev/null; do tick || exit; done`;
    return `while [ -d /proc/$p ]; do tick || exit; done`;
}

/**
 * The guest-side watcher, run in the background beside the tool: it waits for
 * the tool to measure, notes the time, waits 1 s, touches the marker, runs the
 * hog (when given), then notes when the tool ended. Its output goes nowhere,
 * so the guest agent never waits for it.
 */
export function watcherScript(probe: ProbeKind, cpu: number, hog: string | null): string {
    const uptime = (file: string) => `cut -d" " -f1 /proc/uptime > ${file}`;
    return [
        `(i=0; tick() { i=$((i + 1)); [ $i -le ${MAX_POLLS} ] && sleep 0.05; }`,
        waitMeasuring(probe, cpu),
        uptime(MEASURING_AT),
        `sleep 1; touch ${MEASURING}`,
        ...(hog ? [`${hog} > ${HOG_OUT} 2>&1`] : []),
        `i=0; ${waitEnded(probe, cpu)}`,
        `${uptime(ENDED_AT)}) > /dev/null 2>&1 &`,
    ].join("; ");
}

/** When the hog ran against when the tool measured, all in the guest's clock (s; uptime and CLOCK_MONOTONIC agree in a guest that never suspends). */
export interface HogTiming {
    /** Uptime when the watcher saw the tool measuring: at most one 50 ms poll after the real start. */
    measuringAtS: number;
    /** Uptime when the watcher saw the tool gone: its window had closed by then. */
    endedAtS: number;
    /** The tool's measuring duration, s. */
    durationSec: number;
    /** The burst's start (CLOCK_MONOTONIC) and length as the hog measured them. */
    burstStartS: number;
    burstMs: number;
}

/**
 * Why a burst may have fallen outside the tool's measuring window, or null
 * when it lies inside with at least `marginS` to spare at the end. The window
 * is [measuringAt, min(measuringAt + duration, endedAt)]: measuringAt is no
 * earlier than the real start, so a burst after it is inside; the end is the
 * earlier of the two, less a margin for a watcher that noticed the start late.
 */
export function burstOutsideWindow(w: HogTiming, marginS = 1): string | null {
    const burstEndS = w.burstStartS + w.burstMs / 1000;
    const windowEndS = Math.min(w.measuringAtS + w.durationSec, w.endedAtS);
    const at = `burst ${w.burstStartS.toFixed(2)}–${burstEndS.toFixed(2)} s, window ${w.measuringAtS.toFixed(2)}–${windowEndS.toFixed(2)} s (guest uptime)`;
    if (w.burstStartS < w.measuringAtS) return `the hog started before the tool measured: ${at}`;
    if (burstEndS > windowEndS - marginS) return `the hog ended less than ${marginS} s before the tool's window closed: ${at}`;
    return null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs one probe in the guest through the kit's own runner and parsers,
 * injecting `disturbance` 1 s after the tool starts measuring.
 */
export async function runWithDisturbance(g: KatGuest, probe: ProbeKind, durationSec: number, disturbance: Disturbance): Promise<KatRun> {
    const cpu = g.probeGuest.rtVcpus[0];
    const config: ProbeSuiteConfig = { ...DEFAULT_PROBE_SUITE, probes: [probe], durationSec };
    let injected: Promise<number | null> = Promise.resolve(null);
    let resumeWait: Promise<number> = Promise.resolve(0);
    let timing: Promise<HogTiming | null> = Promise.resolve(null);
    let command = "";
    const run = await runProbeSuite([g.probeGuest], config, DEFAULT_TARGETS, (pg, script, timeoutMs) => {
        // Only the measuring script starts with "rm -f <json file>"; the version query passes through.
        if (!script.startsWith("rm -f ")) return guestShell(hostAccess(), pg.domain, script, timeoutMs);
        command = script;
        // 100 ms between the hog's arrival on the vCPU and its burst, so the probe sees the burst alone, not the
        // hog's start-up under TCG as well.
        const hog = disturbance.kind === "hog" ? `nfvkit-hog ${cpu} ${disturbance.priority} ${disturbance.ms} 1 1000 100` : null;
        // The previous run's files must be gone before anyone looks for this run's: a stale marker made the stop land
        // before the tool had started.
        // osnoise runs two tools (top, then hist), each with its own disturbance: the first one's hog figures are read
        // before the second clears them.
        const cleared = timing
            .catch(() => null)
            .then(() => guestShell(hostAccess(), pg.domain, `rm -f ${MEASURING} ${MEASURING_AT} ${ENDED_AT} ${HOG_OUT}`, 30_000));
        const running = cleared.then(() => guestShell(hostAccess(), pg.domain, `${watcherScript(probe, cpu, hog)} ${script}`, timeoutMs));
        if (disturbance.kind === "stop") {
            const stop = cleared.then(() => stopGuestWhenMeasuring(g, disturbance.ms, cpu));
            injected = stop.then((s) => s.frozenMs);
            resumeWait = stop.then((s) => s.resumeWaitMs);
        }
        if (disturbance.kind === "hog") {
            timing = running.then(() => hogTiming(g, durationSec));
            injected = timing.then((t) => t!.burstMs);
        }
        return running;
    });
    // For osnoise, the second tool's (hist) disturbance: both were the same size by the hog's own clock.
    return { result: run.results[0].result, run, injectedMs: await injected, resumeWaitMs: await resumeWait, command, hogTiming: await timing };
}

/**
 * The host kernel's count of how long QEMU process `pid`'s thread for vCPU `cpu` has waited, runnable, for a CPU
 * (ns; /proc/<pid>/task/<tid>/schedstat's second field), or null when no thread is named for it. A SIGSTOPped
 * thread is not runnable, so the stop itself is not in it.
 */
function vcpuRunDelayNs(pid: number, cpu: number): bigint | null {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
            // QEMU names its vCPU threads "CPU <n>/TCG" or "CPU <n>/KVM".
            if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith(`CPU ${cpu}/`)) continue;
            return BigInt(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[1]);
        } catch {
            // A thread that ended between the listing and the read.
        }
    }
    return null;
}

/**
 * Waits for the guest's marker, then freezes its QEMU process for `ms`. Returns the frozen time measured on the
 * host, and how long vCPU `cpu` (the one the probe measures) then waited for a host CPU in the second after
 * SIGCONT (KatRun.resumeWaitMs).
 */
async function stopGuestWhenMeasuring(g: KatGuest, ms: number, cpu: number): Promise<{ frozenMs: number; resumeWaitMs: number }> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const r = await guestShell(hostAccess(), g.probeGuest.domain, `test -e ${MEASURING}`, 10_000).catch(() => ({ exitCode: 1 }));
        if (r.exitCode === 0) break;
        if (Date.now() > deadline) throw new Error(`the probe never started measuring in ${g.probeGuest.domain}`);
        await sleep(200);
    }
    const pid = Number(readFileSync(`/run/libvirt/qemu/${g.probeGuest.domain}.pid`, "utf8").trim());
    // The freeze runs from one signal to the other, so the clock is read right before each: read after SIGCONT, it
    // also counted the time this process waited for a CPU while QEMU's FIFO vCPU thread resumed (a 300 ms stop
    // was once measured as 371 ms while oslat saw 304 ms). The vCPU's own wait after SIGCONT is read apart.
    const started = process.hrtime.bigint();
    process.kill(pid, "SIGSTOP");
    let ended = started;
    let delayAtResume: bigint | null = null;
    try {
        await sleep(ms);
    } finally {
        // Never leave the guest frozen, whatever happened in between.
        delayAtResume = vcpuRunDelayNs(pid, cpu);
        ended = process.hrtime.bigint();
        process.kill(pid, "SIGCONT");
    }
    await sleep(1_000);
    const delayAfter = vcpuRunDelayNs(pid, cpu);
    if (delayAtResume === null || delayAfter === null) throw new Error(`no thread of QEMU pid ${pid} is named for vCPU ${cpu} ("CPU ${cpu}/...")`);
    return { frozenMs: Number(ended - started) / 1e6, resumeWaitMs: Number(delayAfter - delayAtResume) / 1e6 };
}

/** The hog's own burst figures and the watcher's times, read once the tool has ended. */
async function hogTiming(g: KatGuest, durationSec: number): Promise<HogTiming> {
    // The watcher notes the end up to one poll after the tool's script returned.
    const script = `for i in $(seq 40); do [ -e ${ENDED_AT} ] && break; sleep 0.05; done; cat ${HOG_OUT}; echo "measuring_at $(cat ${MEASURING_AT})"; echo "ended_at $(cat ${ENDED_AT})"`;
    const out = (await guestShell(hostAccess(), g.probeGuest.domain, script, 10_000)).stdout;
    const burst = /start_ns (\d+) spin_us (\d+)/.exec(out);
    const measuring = /measuring_at ([\d.]+)/.exec(out);
    const ended = /ended_at ([\d.]+)/.exec(out);
    if (!burst || !measuring || !ended)
        throw new Error(`nfvkit-hog did not run, or the watcher never saw the tool measure and end: ${out.trim() || "no output"}`);
    return {
        measuringAtS: Number(measuring[1]),
        endedAtS: Number(ended[1]),
        durationSec,
        burstStartS: Number(burst[1]) / 1e9,
        burstMs: Number(burst[2]) / 1000,
    };
}

/** Relative error of a reported figure against the known answer, in %. */
export function errorPercent(reportedMs: number, knownMs: number): number {
    return ((reportedMs - knownMs) / knownMs) * 100;
}
