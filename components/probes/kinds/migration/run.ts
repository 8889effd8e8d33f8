/**
 * Runs the live-migration probe: per listed guest, `roundTrips` times from
 * its host to the other and back. Each leg:
 *
 * 1. a receiver on the control side (nfvkit-migload recv) takes kernel
 *    timestamps of a sequence-numbered UDP stream the guest sends at
 *    `packetRateHz` through its user-mode NIC (QEMU's slirp: the stream leaves
 *    from whichever host runs the guest, so it crosses the switchover);
 * 2. the workload starts in the guest (none, a bulk packet stream, or
 *    memory dirtied at a known rate; then the source's hypervisor measures
 *    that rate too, a cross-check of the two in the notes);
 * 3. `virsh migrate --live` with the destination's XML: the domain as it
 *    runs, with the `<cputune>` the plan gives for the destination host
 *    (pins, emulator pin, FIFO priorities: placement is recomputed there);
 * 4. libvirt's figures of the completed job from the source; the largest
 *    packet gap in the migration's window is the network downtime;
 * 5. `virsh vcpupin` on the destination against the plan.
 *
 * A migration that fails leaves the guest where it was (libvirt aborts and
 * resumes it on the source): the leg's error names the destination host and
 * the cause, the probe checks the guest still runs on the source, and stops.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { displayArgv } from "../../../host/access/quote";
import { HostCommandError } from "../../../host/access/errors";
import { guestCommandFailure } from "../../../libvirt/guestAgent";
import { virsh } from "../../../host/access/virsh";
import {
    describeParameters,
    dirtyRateAllowancePercent,
    dirtyRateCalcArgv,
    dirtyRatePeriodSec,
    guestLoadScript,
    guestNetScript,
    guestStopScript,
    jobBytes,
    migrateArgv,
    migrationCause,
    networkDowntime,
    parseDirtyRate,
    parseJobInfo,
    parseReceiver,
    parseVcpupin,
    receiverArgv,
    streamResolutionMs,
} from "./commands";
import type { MigrationSetting } from "./config";
import { destinationXml, missingCputune } from "./moves";
import { startReceiver } from "./receiver";
import type { MigrationLeg, MigrationResult } from "./types";

/** What the probe must know of a guest and of each host it may run on (from the pod plan). */
export interface MigrationGuestView {
    guest: string;
    domain: string;
    /** The guest's host in the plan. */
    host: string;
    /** Per host name: its libvirt URI (reachable from here) and the plan's `<cputune>` lines and vCPU pins for this guest on that host. */
    hosts: Record<string, { uri: string; cputune: string[]; pins: Record<string, string> }>;
    /** Guest RAM and page size, for the hugepage message. */
    memory: string;
    /** Guest RAM, MiB: what the hypervisor's dirty-rate sampling covers. */
    memoryMiB: number;
    /** Per host name: the hugepages the guest takes there (its NUMA node and page size), when it is hugepage-backed. */
    hugepages: Record<string, { node: number; sizeKiB: number; pages: number }>;
    /** This machine's IPv4 address the guest's packet stream goes to (the setting's `receiver`, or derived: receiver.ts). */
    receiver: string;
}

/** Gives back what `makeRoom` added to a host's pool. */
export type GiveBack = () => Promise<void>;

export interface MigrationRunOptions {
    /** Host path of nfvkit-migload (GuestImage.programs), for the receiver. */
    tool: string;
    /** Runs a shell script in the guest through its agent, on the host named (where the guest runs at that moment). */
    shell: (host: string, domain: string, script: string, timeoutMs: number) => Promise<{ exitCode: number | null; stdout: string; stderr: string }>;
    log?: (line: string) => void;
    /**
     * Makes room for the guest's hugepages on the destination for the time of
     * the round trip: the stack reserved the pages its plan counts there, and
     * the moved guest is not in that count. Returns how to give them back.
     */
    makeRoom?: (host: string, need: { node: number; sizeKiB: number; pages: number }) => Promise<GiveBack>;
}

/** Runs each setting with its view (`views[i]` is `settings[i]`'s, see moves.ts), one after another; none after an abort. */
export async function runMigrations(
    settings: MigrationSetting[],
    views: MigrationGuestView[],
    opts: MigrationRunOptions & { signal?: AbortSignal },
): Promise<MigrationResult[]> {
    const results: MigrationResult[] = [];
    for (const [i, s] of settings.entries()) {
        if (opts.signal?.aborted) break;
        const g = views[i];
        // The ProbeSuite records one view per setting, in order: a mismatch is a bug of the kit.
        if (!g || g.guest !== s.guest) throw new Error(`migration probe: no planned move for ${s.guest} to ${s.to}`);
        results.push(await runGuest(s, g, opts));
    }
    return results;
}

async function runGuest(s: MigrationSetting, g: MigrationGuestView, opts: MigrationRunOptions): Promise<MigrationResult> {
    const log = opts.log ?? (() => undefined);
    const from = s.from || g.host;
    const result: MigrationResult = {
        guest: s.guest,
        from,
        to: s.to,
        workload: s.workload,
        parameters: describeParameters(s),
        packetRateHz: s.packetRateHz,
        legs: [],
        commands: [],
        notes: [],
    };
    const netScript = guestNetScript();
    const net = await opts.shell(from, g.domain, netScript, 30_000);
    if (net.exitCode !== 0) throw guestCommandFailure(g.domain, ["sh", "-c", netScript], net, `${s.guest}'s user-mode NIC did not come up`);
    const need = g.hugepages[s.to];
    let giveBack: GiveBack | undefined;
    if (need && opts.makeRoom) {
        // A failure here is not the probe's verdict: the migration itself then fails and says why.
        giveBack = await opts.makeRoom(s.to, need).catch((err: Error) => {
            result.notes.push(`could not make room for ${need.pages} hugepages of ${need.sizeKiB} KiB on ${s.to}: ${err.message}`);
            return undefined;
        });
    }
    try {
        let here = from;
        for (let trip = 0; trip < s.roundTrips; trip++) {
            for (const there of [s.to, from]) {
                log(`migration: ${s.guest} ${here} → ${there} (${s.workload}, ${result.parameters})`);
                const leg = await runLeg(s, g, here, there, result, opts);
                result.legs.push(leg);
                log(
                    leg.error
                        ? `migration: ${s.guest} ${here} → ${there} failed: ${leg.error}`
                        : `migration: ${s.guest} ${here} → ${there}: total ${leg.totalMs} ms, downtime ${leg.downtimeMs} ms (libvirt), network ${leg.networkDowntimeMs} ms`,
                );
                if (leg.error) return result;
                here = there;
            }
        }
        return result;
    } finally {
        await giveBack?.().catch((err: Error) => result.notes.push(`could not give back the hugepages added on ${s.to}: ${err.message}`));
    }
}

async function runLeg(
    s: MigrationSetting,
    g: MigrationGuestView,
    from: string,
    to: string,
    result: MigrationResult,
    opts: MigrationRunOptions,
): Promise<MigrationLeg> {
    const src = g.hosts[from];
    const dst = g.hosts[to];
    const leg: MigrationLeg = {
        from,
        to,
        error: null,
        runsOn: null,
        wallMs: 0,
        totalMs: null,
        setupMs: null,
        iterations: null,
        bytes: null,
        dirtyPagesPerSec: null,
        dirtyMiBps: null,
        downtimeMs: null,
        downtimeQemuMs: null,
        jobInfo: "",
        networkDowntimeMs: null,
        resolutionMs: null,
        packets: 0,
        lost: 0,
        gaps: [],
        pins: [],
        cputuneMissing: [],
        workloadNote: null,
        hypervisorDirtyMiBps: null,
    };
    // The receiver first, then the guest's stream: the first packets must find it listening.
    const receiver = startReceiver(receiverArgv(opts.tool, g.receiver, s.port, 600));
    result.commands.push(`control side: ${displayArgv(receiverArgv(opts.tool, g.receiver, s.port, 600))}`);
    const tmp = mkdtempSync(path.join(os.tmpdir(), "nfvkit-migration-"));
    try {
        await receiver.ready;
        // Long enough for a slow migration; stopped right after it.
        const load = guestLoadScript(s, g.receiver, 600);
        result.commands.push(
            `${s.guest}: ${load
                .split("\n")
                .filter((l) => l.startsWith("setsid"))
                .join("; ")}`,
        );
        const started = await opts.shell(from, g.domain, load, 30_000);
        if (started.exitCode !== 0) throw guestCommandFailure(g.domain, ["sh", "-c", load], started, `the packet stream did not start in ${s.guest}`);
        await sleep(1000);

        if (s.workload === "memory") {
            // The hypervisor's own figure of the rate, before the move, against the rate the guest says it reached.
            const period = dirtyRatePeriodSec(s);
            const measured = await measureDirtyRate(src.uri, g.domain, period).catch((err: Error) => {
                result.notes.push(`${from}: the hypervisor's dirty rate of ${g.domain} was not measured: ${err.message}`);
                return null;
            });
            leg.hypervisorDirtyMiBps = measured?.mibps ?? null;
            result.commands.push(`virsh -c <${from}> ${displayArgv(dirtyRateCalcArgv(g.domain, period))}; virsh -c <${from}> domstats ${g.domain} --dirtyrate`);
        }

        if (s.downtimeLimitMs !== null) {
            // libvirt hands it to QEMU as the downtime-limit parameter, which holds for the next migration of this QEMU.
            await virsh(src.uri, ["migrate-setmaxdowntime", g.domain, String(s.downtimeLimitMs)]);
            result.commands.push(`virsh -c <${from}> migrate-setmaxdowntime ${g.domain} ${s.downtimeLimitMs}`);
        }
        const xmlFile = path.join(tmp, `${g.domain}-${to}.xml`);
        writeFileSync(xmlFile, destinationXml(await virsh(src.uri, ["dumpxml", "--migratable", g.domain]), dst.cputune));
        const argv = migrateArgv(s, g.domain, dst.uri, xmlFile);
        result.commands.push(`virsh -c <${from}> ${displayArgv(argv).replace(dst.uri, `<${to}>`).replace(xmlFile, `<${to}'s XML from the plan>`)}`);

        const t0 = Date.now();
        try {
            await virsh(src.uri, argv, { timeoutMs: 300_000 });
        } catch (err) {
            const stderr = err instanceof HostCommandError ? err.stderr : String(err);
            leg.wallMs = Date.now() - t0;
            leg.runsOn = await whereItRuns(g.domain, src.uri, dst.uri, from, to);
            leg.error =
                `migrating ${s.guest} from ${from} to ${to} failed: ${migrationCause(stderr, to, g.memory)}: ${stderr.trim().split("\n").slice(-1)[0]}; ` +
                (leg.runsOn === from ? `${s.guest} keeps running on ${from}` : `${s.guest} is ${leg.runsOn ? `running on ${leg.runsOn}` : "running nowhere"}`);
            await opts.shell(from, g.domain, guestStopScript(), 30_000).catch(() => undefined);
            return leg;
        }
        const t1 = Date.now();
        leg.wallMs = t1 - t0;
        leg.runsOn = await whereItRuns(g.domain, src.uri, dst.uri, from, to);

        // Without --undefinesource the source keeps the inactive domain, and with it the completed job's figures.
        leg.jobInfo = await virsh(src.uri, ["domjobinfo", "--completed", g.domain]);
        const job = parseJobInfo(leg.jobInfo);
        leg.totalMs = job["Time elapsed"]?.value ?? null;
        leg.setupMs = job["Setup time"]?.value ?? null;
        leg.iterations = job["Iteration"]?.value ?? null;
        leg.bytes = jobBytes(job["Data processed"]);
        leg.dirtyPagesPerSec = job["Dirty rate"]?.value ?? null;
        const pageBytes = job["Page size"]?.value ?? 4096;
        leg.dirtyMiBps = leg.dirtyPagesPerSec === null ? null : Math.round(((leg.dirtyPagesPerSec * pageBytes) / 1024 ** 2) * 10) / 10;
        leg.downtimeMs = job["Total downtime"]?.value ?? null;
        leg.downtimeQemuMs = job["Downtime w/o network"]?.value ?? null;
        await virsh(src.uri, ["undefine", g.domain]).catch(() => undefined);

        // Pins on the destination, as the plan gives them for that host.
        const actual = parseVcpupin(await virsh(dst.uri, ["vcpupin", g.domain]));
        leg.pins = Object.entries(dst.pins).map(([vcpu, expected]) => ({ vcpu: Number(vcpu), expected, actual: actual[vcpu] ?? null }));
        leg.cputuneMissing = missingCputune(dst.cputune, await virsh(dst.uri, ["dumpxml", g.domain]));

        // A second of stream after the switchover, so a late resume shows as a gap inside the window.
        await sleep(1000);
        const stopped = await opts.shell(to, g.domain, guestStopScript(), 30_000);
        const dirty = /"mode":"dirty".*"mibps":([\d.]+)/.exec(stopped.stdout);
        if (dirty) leg.workloadNote = `the guest dirtied memory at ${dirty[1]} MiB/s (asked ${s.dirtyMiBps})`;
        if (s.workload === "memory" && leg.hypervisorDirtyMiBps !== null) {
            const period = dirtyRatePeriodSec(s);
            leg.workloadNote =
                `${leg.workloadNote ?? "the guest's dirtier printed nothing"}; ${from}'s hypervisor measured ${leg.hypervisorDirtyMiBps} MiB/s ` +
                `(QEMU page sampling over ${period} s before the move)`;
            // A cross-check: the two must agree within what QEMU's sampling allows for this guest, or the report says so.
            const reached = dirty ? Number(dirty[1]) : null;
            const allowed = reached === null ? null : dirtyRateAllowancePercent(g.memoryMiB, reached, period);
            if (reached !== null && allowed !== null) {
                const off = ((leg.hypervisorDirtyMiBps - reached) / reached) * 100;
                leg.workloadNote +=
                    Math.abs(off) <= allowed
                        ? `, ${off >= 0 ? "+" : ""}${off.toFixed(1)} %, within the ±${allowed} % its sampling allows here`
                        : `; they disagree by ${off >= 0 ? "+" : ""}${off.toFixed(1)} %, beyond the ±${allowed} % that sampling ${g.memoryMiB} MiB allows`;
            }
        }
        const report = parseReceiver(await receiver.stop());
        const nd = networkDowntime(report, t0, t1);
        leg.networkDowntimeMs = nd.downtimeMs;
        leg.gaps = nd.gaps;
        leg.packets = report.packets;
        leg.lost = report.lost;
        leg.resolutionMs = streamResolutionMs(report);
        return leg;
    } finally {
        receiver.kill();
        rmSync(tmp, { recursive: true, force: true });
    }
}

/**
 * The guest's dirty rate as its hypervisor measures it (QEMU's page sampling:
 * the share of 512 random pages per GiB whose content changed over
 * `seconds`, times the guest's RAM, whole MiB/s). Starts the calculation and
 * waits for its result; a result left from an earlier calculation is told
 * apart by its start time.
 */
export async function measureDirtyRate(uri: string, domain: string, seconds: number): Promise<{ mibps: number; periodSec: number; mode: string }> {
    const stats = async () => parseDirtyRate(await virsh(uri, ["domstats", domain, "--dirtyrate"]));
    const before = await stats();
    await virsh(uri, dirtyRateCalcArgv(domain, seconds));
    const deadline = Date.now() + seconds * 1000 + 30_000;
    for (;;) {
        await sleep(Math.min(1000, seconds * 250));
        const now = await stats();
        // Calculations of one domain are at least 1 s apart, so a new one has a new start second.
        const fresh = now.startSec !== null && now.startSec !== before.startSec;
        if (fresh && now.status === 2 && now.mibps !== null) return { mibps: now.mibps, periodSec: now.periodSec ?? seconds, mode: now.mode ?? "" };
        if (Date.now() > deadline) {
            const argv = ["virsh", "-q", "-c", uri, "domstats", domain, "--dirtyrate"];
            throw new HostCommandError("local", argv, 0, JSON.stringify(now), "", "timeout", `gave no result ${seconds} s after domdirtyrate-calc`, { uri });
        }
    }
}

/** `running` on which host, by `virsh domstate` on both; null when on neither. */
async function whereItRuns(domain: string, srcUri: string, dstUri: string, from: string, to: string): Promise<string | null> {
    const state = (uri: string) =>
        virsh(uri, ["domstate", domain]).then(
            (s) => s.trim(),
            () => "",
        );
    const [a, b] = await Promise.all([state(srcUri), state(dstUri)]);
    if (b === "running") return to;
    if (a === "running") return from;
    return null;
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
