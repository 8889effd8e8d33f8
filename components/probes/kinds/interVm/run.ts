/**
 * Runs the inter-VM probe: per configured link, nfvkit-ring from the producer
 * guest to the consumer guest over the ivshmem BAR (rate, then round trips),
 * then the same program between two host processes on the link's backing
 * file, pinned to the host CPUs of the same vCPUs: the host's own limit.
 *
 * It runs after the latency probes, never beside them: both use the guests'
 * real-time vCPUs.
 */
import { randomInt } from "node:crypto";
import { hostAccess, type HostTarget, type RunResult } from "../../../host/access";
import { displayCommand } from "../latency/commands";
import { GUEST_REGIONS, guestRingScript, linkTag, ringCommand, tagCommand, type RingArgs } from "./commands";
import type { InterVmSetting } from "./config";
import { formatFigure } from "./verdict";
import { parseRingRate, parseRingRoundTrip } from "./parse";
import type { GuestShell, ProbeGuest } from "../latency/run";
import type { InterVmResult, RingRate, RingRoundTrip } from "./types";

/** What the probe needs to know of a link and its members' placement (from the pod plan). */
export interface InterVmLinkView {
    name: string;
    /** libvirt URI of the link's host. */
    uri: string;
    /** Host-unique shm name; the tag the guests find its BAR by. */
    shmName: string;
    /** Backing file on the host (/dev/shm or hugetlbfs). */
    path: string;
    hugepages: boolean;
    /** NUMA node of the link's memory: a hugepage link's pages come from its first member's node; tmpfs pages normally land there too (QEMU of the first member touches them first). */
    memoryNode: number;
    accel: "kvm" | "tcg";
    /** How the link's host is reached. @default this machine */
    access?: HostTarget;
    /** The host's isolated CPUs: host-limit processes run at FIFO only there, never on housekeeping CPUs. */
    hostIsolatedCpus: number[];
    /** Per member guest: host CPU and NUMA node of each vCPU, in vCPU order. */
    members: Record<string, { vcpuHostCpus: number[]; vcpuNodes: number[] }>;
}

export interface InterVmRunOptions {
    /** SCHED_FIFO priority for the ring on real-time vCPUs (the suite's `priority`). */
    priority: number;
    /** Host path of nfvkit-ring (GuestImage.programs); without it the probe reports no samples. */
    ringTool?: string;
    shell: GuestShell;
    /** Runs argv on the link's host; never throws for an exit code. @default local HostAccess */
    hostRun?: (argv: string[], timeoutMs: number) => Promise<RunResult>;
    log?: (line: string) => void;
}

/** A ring side placed on a CPU: which vCPU, at which priority, and what a reader must know about it. */
interface Placement {
    vcpu: number;
    fifo: number;
    note?: string;
}

/**
 * The ring runs on the guest's first RT vCPU at FIFO priority. A guest
 * without a housekeeping vCPU runs it at normal priority (a FIFO spinner
 * would starve the guest agent the kit talks through, as with oslat); a
 * guest without an RT vCPU runs it on a housekeeping vCPU.
 */
export function placeRing(g: ProbeGuest, priority: number, role: string): Placement {
    if (g.rtVcpus.length > 0 && g.housekeepingVcpus.length > 0) return { vcpu: g.rtVcpus[0], fifo: priority };
    if (g.rtVcpus.length > 0) {
        return {
            vcpu: g.rtVcpus[0],
            fifo: 0,
            note: `${g.guest}: the ${role} runs on RT vCPU ${g.rtVcpus[0]} at normal priority: with no housekeeping vCPU a FIFO spinner would starve the guest agent`,
        };
    }
    const vcpu = g.housekeepingVcpus[g.housekeepingVcpus.length - 1] ?? 0;
    return { vcpu, fifo: 0, note: `${g.guest} has no real-time vCPU: the ${role} runs on housekeeping vCPU ${vcpu} at normal priority` };
}

/** Runs every configured link, one after another (they may share guests). */
export async function runInterVm(
    settings: InterVmSetting[],
    guests: ProbeGuest[],
    links: InterVmLinkView[],
    opts: InterVmRunOptions,
): Promise<InterVmResult[]> {
    const results: InterVmResult[] = [];
    for (const s of settings) results.push(await runLink(s, guests, links, opts));
    return results;
}

async function runLink(s: InterVmSetting, guests: ProbeGuest[], links: InterVmLinkView[], opts: InterVmRunOptions): Promise<InterVmResult> {
    const log = opts.log ?? (() => undefined);
    const hostRun = opts.hostRun ?? ((argv: string[], timeoutMs: number) => hostAccess().run(argv, { timeoutMs, nothrow: true }));
    const link = links.find((l) => l.name === s.link);
    const producer = guests.find((g) => g.guest === s.producer);
    const consumer = guests.find((g) => g.guest === s.consumer);
    const pp = producer ? placeRing(producer, opts.priority, "producer") : { vcpu: 0, fifo: 0 };
    const cp = consumer ? placeRing(consumer, opts.priority, "consumer") : { vcpu: 0, fifo: 0 };
    const hostCpu = (guest: string, vcpu: number) => link?.members[guest]?.vcpuHostCpus[vcpu] ?? -1;
    const result: InterVmResult = {
        link: s.link,
        producer: s.producer,
        consumer: s.consumer,
        producerVcpu: pp.vcpu,
        consumerVcpu: cp.vcpu,
        hostCpus: { producer: hostCpu(s.producer, pp.vcpu), consumer: hostCpu(s.consumer, cp.vcpu) },
        hugepages: link?.hugepages ?? false,
        burst: s.burst,
        durationSec: s.durationSec,
        rate: null,
        roundTrip: null,
        hostRate: null,
        hostCeiling: null,
        hostRoundTrip: null,
        ratio: null,
        noSamples: null,
        hostNoSamples: null,
        commands: [],
        notes: [pp.note, cp.note].filter((n): n is string => n !== undefined),
    };
    const fail = (reason: string) => ({ ...result, noSamples: reason });
    if (!link || !producer || !consumer) return fail(`link ${s.link} or its guests ${s.producer}, ${s.consumer} are not in the pod`);
    // The host copy of nfvkit-ring is on this machine; another host would need it copied there first (not done yet).
    if (!opts.hostRun && !hostAccess(link.access ?? { kind: "local" }).local) {
        return fail(`link ${s.link} is on ${link.uri}: the inter-VM probe runs on links of this machine only for now`);
    }
    if (!opts.ringTool) return fail("the guest image has no nfvkit-ring (guest-images/recipe.yaml programs:)");

    // Label the region, so each guest finds this link's BAR among its ivshmem devices.
    const tag = linkTag(link.shmName);
    const tagged = await hostRun(tagCommand(opts.ringTool, link.path, tag), 30_000);
    if (tagged.exitCode !== 0) return fail(`cannot label ${link.path}: ${(tagged.stderr || tagged.stdout).trim()}`);

    const timeoutMs = (Math.max(s.durationSec, s.roundTripSec) + 120) * 1000;
    const inGuest = async (g: ProbeGuest, a: RingArgs) => {
        const argv = ringCommand({ ...a, file: GUEST_REGIONS, tag, waitSec: 60 });
        result.commands.push(`${g.guest}: ${displayCommand(argv)}`);
        return opts.shell(g, guestRingScript(argv), timeoutMs);
    };

    // Guest to guest: the consumer sets the ring up, the producer waits for its session.
    log(`interVm ${s.link}: ${s.producer} → ${s.consumer}, ${s.durationSec} s, bursts of ${s.burst}`);
    let session = newSession();
    const [cOut, pOut] = await Promise.all([
        inGuest(consumer, { role: "consume", file: "", session, burst: s.burst, cpu: cp.vcpu, fifo: cp.fifo }),
        inGuest(producer, { role: "produce", file: "", session, burst: s.burst, cpu: pp.vcpu, fifo: pp.fifo, seconds: s.durationSec, ...s.inject }),
    ]);
    const rate = readRate("in " + s.consumer, cOut, "in " + s.producer, pOut);
    if (typeof rate === "string") return fail(rate);
    result.rate = rate;

    if (s.roundTripSec > 0) {
        session = newSession();
        const [pong, ping] = await Promise.all([
            inGuest(consumer, { role: "pong", file: "", session, cpu: cp.vcpu, fifo: cp.fifo }),
            inGuest(producer, { role: "ping", file: "", session, cpu: pp.vcpu, fifo: pp.fifo, seconds: s.roundTripSec }),
        ]);
        const rtt = readRoundTrip("in " + s.producer, ping, "in " + s.consumer, pong);
        if (typeof rtt === "string") result.notes.push(`${s.link}: round trips measured nothing: ${rtt}`);
        else result.roundTrip = rtt;
    }

    if (s.hostLimit) await hostLimit(s, link, result, opts.ringTool, hostRun, opts.priority, timeoutMs, log);
    result.notes.push(...placementNotes(s, link, result));
    return result;
}

/** The same program between two host processes on the link's own backing file, on the host CPUs of the same vCPUs. */
async function hostLimit(
    s: InterVmSetting,
    link: InterVmLinkView,
    result: InterVmResult,
    tool: string,
    hostRun: (argv: string[], timeoutMs: number) => Promise<RunResult>,
    priority: number,
    timeoutMs: number,
    log: (line: string) => void,
): Promise<void> {
    const { producer: pc, consumer: cc } = result.hostCpus;
    // FIFO only on isolated CPUs: a spinner at FIFO on a housekeeping CPU would stall the host's own work (libvirtd, this program).
    const fifo = (cpu: number) => (link.hostIsolatedCpus.includes(cpu) ? priority : 0);
    const onHost = (a: RingArgs) => {
        const argv = ringCommand({ ...a, file: link.path, waitSec: 30 }, tool);
        result.commands.push(`host: ${displayCommand(argv)}`);
        return hostRun(argv, timeoutMs);
    };
    log(`interVm ${s.link}: host limit, CPU ${pc} → CPU ${cc} on ${link.path}, ${s.durationSec} s`);
    let session = newSession();
    const [cOut, pOut] = await Promise.all([
        onHost({ role: "consume", file: "", session, burst: s.burst, cpu: cc, fifo: fifo(cc) }),
        onHost({ role: "produce", file: "", session, burst: s.burst, cpu: pc, fifo: fifo(pc), seconds: s.durationSec }),
    ]);
    const rate = readRate("on the host", toExec(cOut), "on the host", toExec(pOut));
    if (typeof rate === "string") {
        result.hostNoSamples = rate;
        result.notes.push(`${s.link}: the host-limit run measured nothing: ${rate}`);
        return;
    }
    result.hostRate = rate;
    result.ratio = result.rate && rate.mpps > 0 ? result.rate.mpps / rate.mpps : null;
    // The ceiling: the same lines through the same ring with nothing checked; hostRate / hostCeiling is what checking costs.
    session = newSession();
    const [cu, pu] = await Promise.all([
        onHost({ role: "consume", file: "", session, burst: s.burst, cpu: cc, fifo: fifo(cc), unchecked: true }),
        onHost({ role: "produce", file: "", session, burst: s.burst, cpu: pc, fifo: fifo(pc), seconds: s.durationSec, unchecked: true }),
    ]);
    const ceiling = readRate("on the host, unchecked", toExec(cu), "on the host, unchecked", toExec(pu));
    if (typeof ceiling === "string") result.notes.push(`${s.link}: the host ceiling run (unchecked) measured nothing: ${ceiling}`);
    else result.hostCeiling = ceiling;
    if (s.roundTripSec > 0) {
        session = newSession();
        const [pong, ping] = await Promise.all([
            onHost({ role: "pong", file: "", session, cpu: cc, fifo: fifo(cc) }),
            onHost({ role: "ping", file: "", session, cpu: pc, fifo: fifo(pc), seconds: s.roundTripSec }),
        ]);
        const rtt = readRoundTrip("on the host", toExec(ping), "on the host", toExec(pong));
        if (typeof rtt !== "string") result.hostRoundTrip = rtt;
    }
    if (pc === cc) result.notes.push(`${s.link}: producer and consumer share host CPU ${pc}: the host limit is one CPU taking turns, not two`);
}

/** What a reader must know about where the packets went: TCG, and memory on another NUMA node than a side's vCPU. */
function placementNotes(s: InterVmSetting, link: InterVmLinkView, r: InterVmResult): string[] {
    const notes: string[] = [];
    if (link.accel === "tcg" && r.rate) {
        const host = r.hostRate
            ? ` against ${formatFigure(r.hostRate.mpps)} Mpps between host processes on the same memory (ratio ${formatFigure(r.ratio ?? 0)})`
            : "";
        notes.push(
            `${s.link}: TCG (software emulation): the guests carry ${formatFigure(r.rate.mpps)} Mpps${host}. ` +
                "Every guest instruction is translated, so the ratio is low and measures the emulator, not the ivshmem link; on KVM it should be near 1.",
        );
    }
    const where = link.hugepages ? "hugepages" : "tmpfs, where its first member's QEMU first touched it";
    for (const [guest, vcpu] of [
        [s.producer, r.producerVcpu],
        [s.consumer, r.consumerVcpu],
    ] as const) {
        const node = link.members[guest]?.vcpuNodes[vcpu];
        if (node !== undefined && node !== link.memoryNode) {
            notes.push(
                `${s.link}: ${guest}'s vCPU ${vcpu} runs on NUMA node ${node} but the link's memory (${where}) is on node ${link.memoryNode}: every packet crosses the interconnect`,
            );
        }
    }
    return notes;
}

interface Exec {
    exitCode: number | null;
    stdout: string;
    stderr: string;
}

function toExec(r: RunResult): Exec {
    return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 0 is a clean run and 3 a run with bad packets (both carry figures); anything else says why nothing was measured. */
function sideFailure(where: string, role: string, out: Exec): string | null {
    if (out.exitCode === 0 || out.exitCode === 3) return null;
    const text = `${out.stdout}\n${out.stderr}`
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("{"))
        .slice(0, 3)
        .join(" | ");
    return `nfvkit-ring ${role} ${where} exited ${out.exitCode ?? "on a signal"}: ${text || "no output"}`;
}

function readRate(cWhere: string, c: Exec, pWhere: string, p: Exec): RingRate | string {
    // Both sides: when one side meets a ring of another wire format, the other only sees it never come.
    const failed = [sideFailure(cWhere, "consume", c), sideFailure(pWhere, "produce", p)].filter((f) => f !== null);
    if (failed.length > 0) return failed.join("; ");
    try {
        const rate = parseRingRate(c.stdout);
        return rate.packets > 0 ? rate : `nfvkit-ring consume ${cWhere} received no packet`;
    } catch (err) {
        return (err as Error).message.split("\n")[0];
    }
}

function readRoundTrip(pingWhere: string, ping: Exec, pongWhere: string, pong: Exec): RingRoundTrip | string {
    const failed = [sideFailure(pingWhere, "ping", ping), sideFailure(pongWhere, "pong", pong)].filter((f) => f !== null);
    if (failed.length > 0) return failed.join("; ");
    try {
        return parseRingRoundTrip(ping.stdout) ?? "no round trip completed";
    } catch (err) {
        return (err as Error).message.split("\n")[0];
    }
}

/** A fresh session number, so neither side mistakes a set-up left by an earlier run for this one. */
function newSession(): number {
    return randomInt(1, 2 ** 47);
}
