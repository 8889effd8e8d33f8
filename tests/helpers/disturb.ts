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
import { readFileSync } from "node:fs";
import { DEFAULT_TARGETS } from "../../components/probes/targets";
import { DEFAULT_PROBE_SUITE, type ProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { runProbeSuite, type SuiteRun } from "../../components/probes/runner";
import { guestShell } from "../../components/libvirt/guestAgent";
import type { ProbeKind, ProbeResult } from "../../components/probes/types";
import type { KatGuest } from "./katGuest";

export type Disturbance = { kind: "none" } | { kind: "stop"; ms: number } | { kind: "hog"; ms: number; priority: number };

export interface KatRun {
    result: ProbeResult;
    run: SuiteRun;
    /** What was really injected, ms (host clock for a stop, the hog's own clock for a hog); null for none. */
    injectedMs: number | null;
    /** The command that produced the figures, for the report table. */
    command: string;
}

/** Marker the guest-side watcher writes once the tool is measuring. */
const MEASURING = "/tmp/nfvkit-kat-measuring";
const HOG_OUT = "/tmp/nfvkit-kat-hog.out";

/** A guest-side test for "the tool is measuring on vCPU `cpu`": its thread exists. */
function measuringCondition(probe: ProbeKind, cpu: number): string {
    // rtla needs seconds under TCG to set up its tracer; its kernel threads appear when measuring starts.
    if (probe === "timerlat" || probe === "osnoise") return `grep -qx ${probe}/${cpu} /proc/[0-9]*/comm 2>/dev/null`;
    return `pidof ${probe} >/dev/null`;
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
    let command = "";
    const run = await runProbeSuite([g.probeGuest], config, DEFAULT_TARGETS, (pg, script, timeoutMs) => {
        // Only the measuring script starts with "rm -f <json file>"; the version query passes through.
        if (!script.startsWith("rm -f ")) return guestShell(pg.uri, pg.domain, script, timeoutMs);
        command = script;
        const watcher = `(while ! ${measuringCondition(probe, cpu)}; do sleep 0.05; done; sleep 1; touch ${MEASURING}`;
        const hog = disturbance.kind === "hog" ? `; nfvkit-hog ${cpu} ${disturbance.priority} ${disturbance.ms} 1 1000 0 > ${HOG_OUT} 2>&1` : "";
        // The previous run's marker must be gone before anyone looks for this run's: a stale one made the stop land
        // before the tool had started.
        const cleared = guestShell(pg.uri, pg.domain, `rm -f ${MEASURING} ${HOG_OUT}`, 30_000);
        const running = cleared.then(() => guestShell(pg.uri, pg.domain, `${watcher}${hog}) & ${script}`, timeoutMs));
        if (disturbance.kind === "stop") injected = cleared.then(() => stopGuestWhenMeasuring(g, disturbance.ms));
        if (disturbance.kind === "hog") injected = running.then(() => hogBurstMs(g));
        return running;
    });
    return { result: run.results[0].result, run, injectedMs: await injected, command };
}

/** Waits for the guest's marker, then freezes its QEMU process for `ms` and returns the frozen time measured on the host. */
async function stopGuestWhenMeasuring(g: KatGuest, ms: number): Promise<number> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const r = await guestShell(g.probeGuest.uri, g.probeGuest.domain, `test -e ${MEASURING}`, 10_000).catch(() => ({ exitCode: 1 }));
        if (r.exitCode === 0) break;
        if (Date.now() > deadline) throw new Error(`the probe never started measuring in ${g.probeGuest.domain}`);
        await sleep(200);
    }
    const pid = Number(readFileSync(`/run/libvirt/qemu/${g.probeGuest.domain}.pid`, "utf8").trim());
    const started = process.hrtime.bigint();
    process.kill(pid, "SIGSTOP");
    try {
        await sleep(ms);
    } finally {
        // Never leave the guest frozen, whatever happened in between.
        process.kill(pid, "SIGCONT");
    }
    return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The burst length the hog measured itself, ms. */
async function hogBurstMs(g: KatGuest): Promise<number> {
    const out = (await guestShell(g.probeGuest.uri, g.probeGuest.domain, `cat ${HOG_OUT}`, 10_000)).stdout;
    const m = /spin_us (\d+)/.exec(out);
    if (!m) throw new Error(`nfvkit-hog did not run: ${out.trim() || "no output"}`);
    return Number(m[1]) / 1000;
}

/** Relative error of a reported figure against the known answer, in %. */
export function errorPercent(reportedMs: number, knownMs: number): number {
    return ((reportedMs - knownMs) / knownMs) * 100;
}
