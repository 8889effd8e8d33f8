/**
 * Runs the probe suite inside guests through the guest agent and parses what
 * the tools print. Guests are probed at the same time (each owns its CPUs, as
 * in production); the probes of one guest run one after another, so they do
 * not disturb each other. A tool that fails or measures nothing yields a
 * result with `noSamples` set, which the verdict turns into a failure.
 */
import { accessOf, type HostTarget, type RunningCommand } from "../host/access";
import type { GuestExecResult } from "../libvirt/guestAgent";
import {
    cyclictestCommand,
    displayCommand,
    oslatCommand,
    osnoiseCommand,
    parseToolVersion,
    timerlatCommand,
    versionCommand,
    type ProbeConfig,
} from "./commands";
import { parseCyclictestRun, parseOslatText, parseOsnoiseTop, parseTimerlatHist } from "./parse";
import { expectedSampleCount } from "./stats";
import type { ProbeSuiteConfig } from "./suiteConfig";
import type { Targets } from "./targets";
import type { GuestProbeResult, ProbeKind, ProbeResult } from "./types";

/** A guest as the suite sees it. */
export interface ProbeGuest {
    /** Guest name in the pod spec. */
    guest: string;
    /** libvirt URI of its host. */
    uri: string;
    /** Domain name on that host. */
    domain: string;
    /** Guest CPU numbers of the real-time vCPUs: what is measured. */
    rtVcpus: number[];
    /** Guest CPU numbers of the housekeeping vCPUs: where tools report from and guest load runs. */
    housekeepingVcpus: number[];
    /** Host CPUs for host load (`load: host`), the host's housekeeping CPUs. */
    hostHousekeepingCpus: number[];
    /** How its host is reached, for host load. @default this machine */
    access?: HostTarget;
}

/** Runs a shell script in a guest; the default goes through the QEMU guest agent. */
export type GuestShell = (guest: ProbeGuest, script: string, timeoutMs: number) => Promise<GuestExecResult>;

/** One tool run, for the record. */
export interface ProbeRun {
    guest: string;
    probe: ProbeKind;
    command: string;
    exitCode: number;
    seconds: number;
}

export interface SuiteRun {
    results: GuestProbeResult[];
    runs: ProbeRun[];
    /** Things a reader of the results must know (unprobed guests, load not applied...). */
    notes: string[];
    /** Wall time of the whole suite, seconds. */
    seconds: number;
}

const JSON_MARK = "@@nfvkit-json@@";

/** Runs every configured probe in every guest that has real-time vCPUs. */
export async function runProbeSuite(
    guests: ProbeGuest[],
    config: ProbeSuiteConfig,
    targets: Targets,
    shell: GuestShell,
    log: (line: string) => void = () => undefined,
): Promise<SuiteRun> {
    const started = Date.now();
    const notes: string[] = [];
    const runs: ProbeRun[] = [];
    const probed = guests.filter((g) => {
        if (g.rtVcpus.length === 0) notes.push(`${g.guest} has no real-time vCPU: not probed`);
        return g.rtVcpus.length > 0;
    });
    const hostLoad = config.load === "host" ? startHostLoad(probed, config, notes, log) : [];
    try {
        const perGuest = await Promise.all(
            probed.map(async (g) => {
                const results: GuestProbeResult[] = [];
                for (const probe of config.probes) {
                    if (probe === "oslat" && g.housekeepingVcpus.length === 0) {
                        // oslat spins at FIFO priority: with no other vCPU it starves the guest agent we talk through.
                        notes.push(`${g.guest}: oslat skipped, the guest has no housekeeping vCPU to keep its agent alive`);
                        continue;
                    }
                    log(`${g.guest}: ${probe} for ${config.durationSec} s on vCPU ${g.rtVcpus.join(",")}`);
                    const { result, run } = await runOneProbe(g, probe, config, targets, shell, notes);
                    runs.push(run);
                    results.push({ guest: g.guest, result });
                    log(`${g.guest}: ${probe} done in ${run.seconds.toFixed(1)} s (exit ${run.exitCode})`);
                }
                return results;
            }),
        );
        return { results: perGuest.flat(), runs, notes, seconds: (Date.now() - started) / 1000 };
    } finally {
        // Also when a probe throws: the load must not outlive the suite.
        await Promise.all(hostLoad.map((load) => load.kill()));
    }
}

async function runOneProbe(
    g: ProbeGuest,
    probe: ProbeKind,
    config: ProbeSuiteConfig,
    targets: Targets,
    shell: GuestShell,
    notes: string[],
): Promise<{ result: ProbeResult; run: ProbeRun }> {
    const cfg: ProbeConfig = {
        cpus: g.rtVcpus.join(","),
        durationSec: config.durationSec,
        priority: config.priority,
        intervalUs: config.intervalUs,
        housekeepingCpu: g.housekeepingVcpus[0],
    };
    const jsonFile = `/tmp/nfvkit-${probe}.json`;
    const argv =
        probe === "cyclictest"
            ? cyclictestCommand(cfg, { jsonFile })
            : probe === "oslat"
              ? oslatCommand(cfg)
              : probe === "timerlat"
                ? timerlatCommand(cfg)
                : osnoiseCommand(cfg, { windowUs: targets.preemption.windowUs });
    const command = displayCommand(argv);
    const versionOut = await shell(g, `${displayCommand(versionCommand(probe))} 2>&1`, 30_000);
    const version = parseToolVersion(probe, versionOut.stdout) ?? undefined;

    let load = "";
    if (config.load === "guest") {
        if (g.housekeepingVcpus.length > 0) {
            const cpus = g.housekeepingVcpus.join(",");
            load = `stress-ng --cpu ${g.housekeepingVcpus.length} --taskset ${cpus} --timeout ${config.durationSec + 5}s >/dev/null 2>&1 & load=$!; `;
            const note = `${g.guest}: guest load: stress-ng --cpu ${g.housekeepingVcpus.length} on vCPU ${cpus} while probing`;
            if (!notes.includes(note)) notes.push(note);
        } else if (!notes.some((n) => n.startsWith(`${g.guest}: guest load`))) {
            notes.push(`${g.guest}: guest load not applied, the guest has no housekeeping vCPU`);
        }
    }
    const json = probe === "cyclictest" ? `; echo ${JSON_MARK}; cat ${jsonFile} 2>/dev/null` : "";
    // A JSON file left by an earlier run must never be read as this run's figures.
    const script = `rm -f ${jsonFile}; ${load}${command} 2>&1; rc=$?${load ? "; kill $load 2>/dev/null" : ""}${json}; exit $rc`;
    const started = Date.now();
    const out = await shell(g, script, (config.durationSec + 120) * 1000);
    const seconds = (Date.now() - started) / 1000;
    const [stdout, jsonText] = out.stdout.split(`${JSON_MARK}\n`);
    const ctx = { command, version };
    let result: ProbeResult;
    const failed = (reason: string): ProbeResult => ({ probe, version: version ?? null, command, series: [], noSamples: reason });
    const head = stdout.trim().split("\n").slice(0, 3).join(" | ");
    if (out.exitCode !== 0) {
        // Exit codes never say a target was missed, but a non-zero one says the tool did not run as asked.
        return {
            result: failed(`${probe} exited ${out.exitCode}: ${head || "no output"}`),
            run: { guest: g.guest, probe, command, exitCode: out.exitCode, seconds },
        };
    }
    try {
        result =
            probe === "cyclictest"
                ? parseCyclictestRun({ stdout, json: jsonText }, ctx)
                : probe === "oslat"
                  ? parseOslatText(stdout, ctx)
                  : probe === "timerlat"
                    ? parseTimerlatHist(stdout, ctx)
                    : parseOsnoiseTop(stdout, ctx);
    } catch (err) {
        // Unreadable output measures nothing; the verdict fails it and quotes the reason.
        result = failed(`${probe} printed output we cannot read: ${head || (err as Error).message}`);
    }
    result = withExpectedSamples(result, config.durationSec, probe === "osnoise" ? targets.preemption.windowUs : probe === "oslat" ? null : config.intervalUs);
    return { result, run: { guest: g.guest, probe, command, exitCode: out.exitCode, seconds } };
}

/**
 * Records how many samples each series should have given (one per period for
 * the whole duration), so a shortfall is reported rather than hidden. oslat
 * has no fixed rate (its loop count depends on the CPU), so it gets none.
 */
export function withExpectedSamples(result: ProbeResult, durationSec: number, periodUs: number | null): ProbeResult {
    const expected = expectedSampleCount(durationSec, periodUs);
    return { ...result, series: result.series.map((s) => ({ ...s, stats: { ...s.stats, expectedSamples: expected } })) };
}

/** stress-ng on each host's housekeeping CPUs for the whole suite, started through that host's access. */
function startHostLoad(guests: ProbeGuest[], config: ProbeSuiteConfig, notes: string[], log: (line: string) => void): RunningCommand[] {
    const byHost = new Map<string, ProbeGuest[]>();
    for (const g of guests) {
        const key = JSON.stringify(g.access ?? { kind: "local" });
        byHost.set(key, [...(byHost.get(key) ?? []), g]);
    }
    const seconds = config.durationSec * config.probes.length + 120;
    const loads: RunningCommand[] = [];
    for (const hostGuests of byHost.values()) {
        const host = accessOf(hostGuests[0].access);
        const cpus = [...new Set(hostGuests.flatMap((g) => g.hostHousekeepingCpus))].sort((a, b) => a - b);
        if (cpus.length === 0) {
            notes.push(`host load not applied on ${host.name}: it has no housekeeping CPUs`);
            continue;
        }
        log(`host load on ${host.name}: stress-ng --cpu ${cpus.length} --taskset ${cpus.join(",")}`);
        notes.push(`host load: stress-ng on host ${host.name} CPUs ${cpus.join(",")} while probing`);
        // nothrow: the load's own exit says nothing about the probes; its --timeout ends it if we cannot.
        loads.push(host.start(["stress-ng", "--cpu", String(cpus.length), "--taskset", cpus.join(","), "--timeout", `${seconds}s`], { nothrow: true }));
    }
    return loads;
}
