/**
 * A whole probe run's verdict built from the real captures in
 * tests/fixtures/probes, through each kind's own parser and judge, for the
 * report and history tests: the host gate (readiness of this kind of build
 * host, kernel and accelerator), the latency tools (cyclictest, timerlat,
 * osnoise, oslat, each a capture inside a kit guest under TCG or on the build
 * host), the inter-VM ring (rate and round-trip captures), and one migration
 * (libvirt 11.3's domjobinfo of a real TCG migration; the packet gaps, which
 * have no capture of their own, written around its 83 ms downtime).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { assessHostReadiness } from "../../components/host/readiness";
import { hostGate, type HostGateSection } from "../../components/probes/kinds/hostGate";
import { interVm } from "../../components/probes/kinds/interVm";
import { parseRingRate, parseRingRoundTrip } from "../../components/probes/kinds/interVm/parse";
import type { InterVmResult } from "../../components/probes/kinds/interVm/types";
import { latency } from "../../components/probes/kinds/latency";
import { parseCyclictestRun, parseOslatText, parseOsnoiseHist, parseOsnoiseTop, parseTimerlatHist } from "../../components/probes/kinds/latency/parse";
import type { GuestProbeResult, LatencySection } from "../../components/probes/kinds/latency/types";
import { migration } from "../../components/probes/kinds/migration";
import { jobBytes, parseJobInfo } from "../../components/probes/kinds/migration/commands";
import type { MigrationLeg, MigrationResult } from "../../components/probes/kinds/migration/types";
import { DEFAULT_PROBE_SUITE } from "../../components/probes/suiteConfig";
import { DEFAULT_TARGETS, type Targets } from "../../components/probes/targets";
import { composeVerdict, type Gate, type Verdict } from "../../components/probes/verdict";

export const fixture = (name: string) => readFileSync(path.join(__dirname, "..", "fixtures", "probes", name), "utf8");
const meta = (name: string) => JSON.parse(fixture(`${name}.meta.json`)) as { command: string; version?: string };

/** The cyclictest capture a run uses: a TCG guest's (max 72 ms, or with 1 ms of histogram and overflows) or the build host's (one or two threads). */
export type CyclictestCapture =
    "cyclictest-2.4-guest-tcg-h1000000" | "cyclictest-2.4-guest-tcg-h1000-overflow" | "cyclictest-2.4-1thread" | "cyclictest-2.4-2threads";

function cyclictest(capture: CyclictestCapture): GuestProbeResult["result"] {
    if (capture === "cyclictest-2.4-guest-tcg-h1000000") {
        return parseCyclictestRun({ stdout: fixture(`${capture}.stdout.txt`), json: fixture(`${capture}.json`) }, { command: meta(capture).command });
    }
    return parseCyclictestRun({ stdout: fixture(`${capture}.hist.txt`), json: fixture(`${capture}.json`) }, { command: meta(capture).command });
}

export function latencyResults(capture: CyclictestCapture = "cyclictest-2.4-guest-tcg-h1000000"): GuestProbeResult[] {
    const tl = "rtla-6.1-guest-tcg-timerlat-hist-range";
    const top = "rtla-6.1-guest-tcg-osnoise-top";
    const hist = "rtla-6.1-guest-tcg-osnoise-hist-range";
    // osnoise as the latency kind runs it: top (noise per period), then hist (single noises), one result.
    const osTop = parseOsnoiseTop(fixture(`${top}.txt`), { command: meta(top).command, version: "6.1" });
    const osHist = parseOsnoiseHist(fixture(`${hist}.txt`), { command: meta(hist).command, version: "6.1" });
    return [
        { guest: "kat", result: cyclictest(capture) },
        { guest: "kat", result: parseTimerlatHist(fixture(`${tl}.txt`), { command: meta(tl).command, version: "6.1" }) },
        { guest: "kat", result: { ...osTop, command: `${meta(top).command}; ${meta(hist).command}`, series: [...osTop.series, ...osHist.series] } },
        { guest: "kat", result: parseOslatText(fixture("oslat-2.4.txt"), { command: meta("oslat-2.4").command }) },
    ];
}

export function interVmResults(): InterVmResult[] {
    const rate = parseRingRate(fixture("nfvkit-ring-2-consume.txt"));
    return [
        {
            link: "ring0",
            producer: "peer",
            consumer: "kat",
            producerVcpu: 1,
            consumerVcpu: 1,
            hostCpus: { producer: 0, consumer: 1 },
            hugepages: false,
            burst: 32,
            durationSec: 2,
            // The guests' and the host's rate: the same capture, halved for the guests (no guest-side capture of a whole run exists).
            rate: { ...rate, mpps: rate.mpps / 2, perSecondMpps: rate.perSecondMpps.map((v) => v / 2) },
            roundTrip: parseRingRoundTrip(fixture("nfvkit-ring-2-ping.txt")),
            hostRate: rate,
            hostRoundTrip: null,
            ratio: 0.5,
            noSamples: null,
            hostNoSamples: null,
            commands: [meta("nfvkit-ring-1-consume").command],
            notes: [],
        },
    ];
}

export function migrationResults(): MigrationResult[] {
    const jobInfo = fixture("domjobinfo-libvirt-11.3-completed-outgoing.txt");
    const job = parseJobInfo(jobInfo);
    const leg: MigrationLeg = {
        from: "lab-1",
        to: "lab-2",
        error: null,
        runsOn: "lab-2",
        wallMs: 3400,
        totalMs: job["Time elapsed"].value,
        setupMs: job["Setup time"].value,
        iterations: job["Iteration"].value,
        bytes: jobBytes(job["Data processed"]),
        dirtyPagesPerSec: job["Dirty rate"].value,
        dirtyMiBps: 0,
        downtimeMs: job["Total downtime"].value,
        downtimeQemuMs: job["Downtime w/o network"].value,
        jobInfo,
        networkDowntimeMs: 240,
        resolutionMs: 1,
        packets: 4400,
        lost: 0,
        gaps: [
            { startMs: 900, endMs: 905, gapMs: 5, seqBefore: 1900, seqAfter: 1901 },
            { startMs: 2700, endMs: 2940, gapMs: 240, seqBefore: 3700, seqAfter: 3701 },
        ],
        pins: [{ vcpu: 1, expected: "3", actual: "3" }],
        cputuneMissing: [],
        workloadNote: null,
        hypervisorDirtyMiBps: null,
    };
    return [
        {
            guest: "vnf",
            from: "lab-1",
            to: "lab-2",
            workload: "idle",
            parameters: "downtime limit 50 ms",
            packetRateHz: 1000,
            legs: [leg, { ...leg, from: "lab-2", to: "lab-1", runsOn: "lab-1" }],
            commands: ["virsh migrate --live --persistent vnf qemu+ssh://lab-2/system"],
            notes: [],
        },
    ];
}

export function hostGateSection(): HostGateSection {
    const facts = {
        release: "6.1.0-37-amd64",
        version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.140-1",
        realtime: false,
        cmdline: "BOOT_IMAGE=/vmlinuz ro quiet",
        tracers: ["nop"],
    };
    return {
        gate: "report",
        hosts: [{ host: "local", checks: assessHostReadiness(facts, ["isolcpus=1"]), notRead: null, kernel: facts.release, accel: "tcg" }],
    };
}

/** Targets a TCG run meets (so a run is accepted), or the seed's (which it misses). */
export function looseTargets(): Targets {
    const t = structuredClone(DEFAULT_TARGETS);
    t.timer.avgUs.value = 1_000_000;
    t.timer.maxUs.value = 1_000_000;
    t.interrupt.maxUs.value = 1_000_000;
    t.preemption.maxSingleUs.value = 1_000_000;
    t.preemption.perWindowUs.value = 1_000_000;
    t.interVm.mpps.value = 0.1;
    t.migration.totalMs.value = 60_000;
    t.migration.downtimeIoMs.value = 60_000;
    t.migration.networkDowntimeMs.value = 60_000;
    return t;
}

export interface FixtureRunOptions {
    targets?: Targets;
    gate?: Gate;
    capture?: CyclictestCapture;
}

/** A verdict of every kind, judged by each kind's own judge, as the pipeline composes it. */
export function fixtureVerdict(opts: FixtureRunOptions = {}): Verdict {
    const targets = opts.targets ?? DEFAULT_TARGETS;
    const gate = opts.gate ?? "report";
    const config = DEFAULT_PROBE_SUITE;
    const ctx = { targets, gate, config };
    const latencySection: LatencySection = { results: latencyResults(opts.capture), runs: [], notes: [], seconds: 40, crossCheckFactor: 4 };
    const host = hostGateSection();
    const links = interVmResults();
    const moves = migrationResults();
    return composeVerdict(gate, [
        { name: "hostGate", section: host, judged: hostGate.judge(host, ctx) },
        { name: "latency", section: latencySection, judged: latency.judge(latencySection, ctx) },
        { name: "interVm", section: links, judged: interVm.judge(links, ctx) },
        { name: "migration", section: moves, judged: migration.judge(moves, ctx) },
    ]);
}
