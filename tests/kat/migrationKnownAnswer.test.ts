/**
 * Known answers for the live-migration probe, in one real guest under TCG
 * (2 GiB, a user-mode NIC, domain `nfvkit-kat-migration-kat`), with the
 * probe's own parts: its stream (nfvkit-migload send in the guest, recv on
 * this side), its gap analysis (networkDowntime) and its dirty-rate
 * measurement (measureDirtyRate). No second host is needed: what these parts
 * report does not depend on where the guest runs, and the namespace lab is
 * one per machine.
 *
 * 1. Network downtime. The guest's sender is stopped for a known time
 *    (SIGSTOP/SIGCONT inside the guest, timed by the guest's /proc/uptime
 *    read right before each signal, as in interVmStall.test.ts); the window
 *    given to networkDowntime is the host's clock around that, as the probe
 *    gives it the span of `virsh migrate`. The reported downtime must be the
 *    stop within −5 % to +10 %: the stop is timed to /proc/uptime's 10 ms
 *    (1 % of 1 s); the gap starts at the last packet out before the stop and
 *    ends at the first after it, so it can be shorter by what QEMU's
 *    user-mode NIC still held when the sender stopped (it hands packets on in
 *    clumps up to ~10 ms apart, 1 %), and longer by the time the sender needs
 *    to run again after SIGCONT (on a crowded host, tens of ms). A clean run
 *    (the same window, the sender left running) must stay below half the stop.
 *    The stop is 1 s, as for the inter-VM probe, to stay clear of this
 *    host's scheduling noise (other engineers' guests share its 2 CPUs);
 *    for the same reason the guest's QEMU runs at nice −20 and the sender on
 *    vCPU 0: without them a run at load ~6.5 read 1305 ms for a 1030 ms stop.
 *
 * 2. Dirty rate. nfvkit-migload dirty writes one byte in each 4 KiB page of a
 *    1536 MiB working set at 128 MiB/s: one pass takes 12 s, so no page is
 *    written twice in the 8 s the hypervisor measures (QEMU's page sampling
 *    counts a changed page once). The reported rate must be what the dirtier
 *    says it reached (not what it was asked: under TCG it might not keep up)
 *    within dirtyRateAllowancePercent, the probe's own cross-check bound:
 *    QEMU samples 512 random pages per GiB, 1024 in this 2 GiB guest, and
 *    1 GiB of it changes in 8 s, so the changed share is binomial with
 *    p = 0.5: its standard deviation is 3.1 % of the figure; three of them,
 *    plus QEMU's rounding down to whole MiB/s (0.8 % of 128), make ±11 %.
 *    The guest's own kernel and agent dirty a little besides (an idle guest
 *    read 0 MiB/s). A clean run (no dirtier) must report less
 *    than half the rate.
 */
import test from "ava";
import { existsSync } from "node:fs";
import * as os from "node:os";
import { displayArgv } from "../../components/host/access/quote";
import { MIGRATION_DEFAULTS, type MigrationSetting } from "../../components/probes/kinds/migration/config";
import {
    dirtyRateAllowancePercent,
    dirtyRateCalcArgv,
    guestLoadScript,
    guestNetScript,
    guestStopScript,
    MIGLOAD_TOOL,
    networkDowntime,
    parseReceiver,
    receiverArgv,
    streamResolutionMs,
} from "../../components/probes/kinds/migration/commands";
import { measureDirtyRate } from "../../components/probes/kinds/migration/run";
import { startReceiver } from "../../components/probes/kinds/migration/receiver";
import { errorPercent } from "../helpers/disturb";
import { favourGuest, removeDomainsWithPrefix } from "../helpers/host";
import { bootKatGuest, inGuest, type KatGuest } from "../helpers/katGuest";
import { recordKnownAnswer } from "../helpers/katTable";
import { realTest } from "../helpers/realParts";

const PREFIX = "nfvkit-kat-migration";
const STOP_MS = 1000;
const DIRTY = { mib: 1536, mibps: 128, seconds: 8 };
const GUEST_MIB = 2048;
/** The guest reaches this side's loopback through QEMU's user-mode NIC at its gateway address. */
const RECEIVER = { bind: "127.0.0.1", fromGuest: "10.0.2.2" };
const real = realTest(existsSync("/run/libvirt/libvirt-sock") || existsSync("/var/run/libvirt/libvirt-sock"), "the libvirt daemon");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let guest: Promise<KatGuest> | undefined;
function theGuest(): Promise<KatGuest> {
    guest ??= bootKatGuest(PREFIX, { userNic: true, memory: `${GUEST_MIB}M` }).then(async (g) => {
        favourGuest(g.probeGuest.domain);
        const net = await inGuest(g, guestNetScript(), 30_000);
        if (net.exitCode !== 0) throw new Error(`the user-mode NIC did not come up: ${net.stderr}`);
        return g;
    });
    return guest;
}
test.after.always(() => removeDomainsWithPrefix(PREFIX));

/** The probe's setting for the stream, as a stack would give it (idle workload). */
const setting: MigrationSetting = { ...MIGRATION_DEFAULTS, guest: "kat", from: "", to: "elsewhere", port: 47_870 };

/**
 * One run of the probe's stream; in its middle, for STOP_MS by the guest's
 * clock, the sender is stopped (or, clean, left alone). Returns the network
 * downtime the probe's analysis finds in the window around it.
 */
async function streamRun(g: KatGuest, stop: boolean) {
    const tool = g.image.programs?.[MIGLOAD_TOOL];
    if (!tool) throw new Error(`the guest image has no ${MIGLOAD_TOOL}`);
    const receiver = startReceiver(receiverArgv(tool, RECEIVER.bind, setting.port, 120));
    try {
        await receiver.ready;
        const started = await inGuest(g, guestLoadScript(setting, RECEIVER.fromGuest, 8), 30_000);
        if (started.exitCode !== 0) throw new Error(`the stream did not start: ${started.stderr}${started.stdout}`);
        // The sender on vCPU 0 (host CPU 0, its QEMU at nice −20): vCPU 1 is a FIFO thread on host CPU 1, where
        // other engineers' FIFO vCPUs sit too (see interVmStall.test.ts).
        const pinned = await inGuest(g, `taskset -p 1 $(pidof ${MIGLOAD_TOOL})`, 10_000);
        if (pinned.exitCode !== 0) throw new Error(`could not pin the sender to vCPU 0: ${pinned.stderr}${pinned.stdout}`);
        await sleep(2500);
        // `read` is a shell builtin: nothing starts between the clock and the signal; SIGCONT follows whatever happens.
        const script = stop
            ? `p=$(pidof ${MIGLOAD_TOOL}) || exit 2; read a _ < /proc/uptime; kill -STOP $p; sleep ${STOP_MS / 1000}; read b _ < /proc/uptime; kill -CONT $p; echo "stopped $a $b"`
            : `pidof ${MIGLOAD_TOOL} >/dev/null || exit 2; read a _ < /proc/uptime; sleep ${STOP_MS / 1000}; read b _ < /proc/uptime; echo "left $a $b"`;
        const t0 = Date.now();
        const out = await inGuest(g, script, 30_000);
        const t1 = Date.now();
        const m = /(stopped|left) ([\d.]+) ([\d.]+)/.exec(out.stdout);
        if (!m) throw new Error(`the stop did not run: ${out.stdout}${out.stderr}`);
        await sleep(1000);
        const said = await inGuest(g, guestStopScript(), 30_000);
        const report = parseReceiver(await receiver.stop());
        const { downtimeMs } = networkDowntime(report, t0, t1);
        if (downtimeMs === null) throw new Error(`no packet arrived; the sender said: ${said.stdout}`);
        return {
            downtimeMs,
            injectedMs: (Number(m[3]) - Number(m[2])) * 1000,
            resolutionMs: streamResolutionMs(report),
            packets: report.packets,
            lost: report.lost,
        };
    } finally {
        receiver.kill();
    }
}

real(
    "migration probe: a 1 s stop of the guest's packet stream is reported as the network downtime (−5 % to +10 %), and a clean run does not show it",
    async (t) => {
        const g = await theGuest();
        const command = `${MIGLOAD_TOOL} send --to ${RECEIVER.fromGuest} --port ${setting.port} --rate ${setting.packetRateHz} in the guest (user-mode NIC) → ${displayArgv(receiverArgv(MIGLOAD_TOOL, RECEIVER.bind, setting.port, 120))}; networkDowntime over the stop's window`;

        let clean = await streamRun(g, false);
        if (clean.downtimeMs >= STOP_MS / 2) {
            recordKnownAnswer("migration", "network downtime (first try, retried)", "none (clean run)", null, clean.downtimeMs, command);
            t.log(`clean stream showed a ${clean.downtimeMs} ms gap; retrying once (host load ${os.loadavg()[0].toFixed(1)})`);
            clean = await streamRun(g, false);
        }
        recordKnownAnswer("migration", "network downtime", "none (clean run)", null, clean.downtimeMs, command);
        t.true(clean.downtimeMs < STOP_MS / 2, `clean run: ${clean.downtimeMs} ms gap in the window: a ${STOP_MS} ms stop could not be told from it`);

        const stopped = await streamRun(g, true);
        const err = errorPercent(stopped.downtimeMs, stopped.injectedMs);
        recordKnownAnswer(
            "migration",
            "network downtime",
            `SIGSTOP of the guest's sender ${STOP_MS} ms (measured ${stopped.injectedMs.toFixed(1)} ms)`,
            stopped.injectedMs,
            stopped.downtimeMs,
            command,
        );
        t.log(
            `clean ${clean.downtimeMs} ms; stop ${stopped.injectedMs.toFixed(1)} ms reported as ${stopped.downtimeMs} ms (${err.toFixed(2)} %); ` +
                `resolution ${stopped.resolutionMs} ms, ${stopped.packets} packets, ${stopped.lost} lost; host load ${os.loadavg()[0].toFixed(1)}`,
        );
        t.is(stopped.lost, 0, "a stopped sender loses no packet: it sends nothing");
        t.true(
            err >= -5 && err <= 10,
            `reported ${stopped.downtimeMs} ms for ${stopped.injectedMs.toFixed(1)} ms stopped (${err.toFixed(1)} %; allowed −5 % to +10 %)`,
        );
    },
);

/** The dirtier's own account: {"mode":"dirty",...,"mibps":N}. */
function dirtierRate(stdout: string): number {
    const m = /"mode":"dirty".*"mibps":([\d.]+)/.exec(stdout);
    if (!m) throw new Error(`the dirtier printed no rate: ${stdout}`);
    return Number(m[1]);
}

const ALLOWED = dirtyRateAllowancePercent(GUEST_MIB, DIRTY.mibps, DIRTY.seconds)!;
real(`migration probe: the hypervisor's dirty rate is what the guest's dirtier reached (±${ALLOWED} %), and an idle guest does not show it`, async (t) => {
    const g = await theGuest();
    const { uri, domain } = g.probeGuest;
    const command = `${displayArgv(["virsh", ...dirtyRateCalcArgv(domain, DIRTY.seconds)])}; virsh domstats ${domain} --dirtyrate`;

    const idle = await measureDirtyRate(uri, domain, DIRTY.seconds);
    recordKnownAnswer("migration", "hypervisor dirty rate", "none (idle guest)", null, idle.mibps, command, "MiB/s");
    t.is(idle.mode, "page-sampling");
    t.true(idle.mibps < DIRTY.mibps / 2, `idle guest: ${idle.mibps} MiB/s`);

    // The dirtier's clock starts after its populate; it runs on past the measurement (1 s + 8 s), and the rate it prints covers its whole run.
    const runSec = DIRTY.seconds + 6;
    const start = await inGuest(
        g,
        `setsid ${MIGLOAD_TOOL} dirty --mib ${DIRTY.mib} --rate ${DIRTY.mibps} --seconds ${runSec} >/tmp/kat-dirty.log 2>&1 &\n` +
            // The populate (the guest zeroes 1.5 GiB) is over when the process holds its working set; the dirtying starts then.
            // Under TCG it took 20-46 s at load 5-8; a measurement before it is over would read what was not yet dirtied.
            `sleep 0.2; p=$(pidof ${MIGLOAD_TOOL}) || { cat /tmp/kat-dirty.log; exit 3; }; read a _ < /proc/uptime; ` +
            `while [ $(awk '/VmRSS/ {print $2}' /proc/$p/status) -lt ${(DIRTY.mib - 16) * 1024} ]; do ` +
            `read b _ < /proc/uptime; [ \${b%.*} -lt $((\${a%.*} + 150)) ] || { echo "not populated in 150 s: $(grep VmRSS /proc/$p/status)"; exit 4; }; ` +
            `sleep 0.1; done; read b _ < /proc/uptime; echo "populated in $a → $b s of uptime"`,
        180_000,
    );
    t.is(start.exitCode, 0, start.stdout + start.stderr);
    await sleep(1000);
    const measured = await measureDirtyRate(uri, domain, DIRTY.seconds);
    // The dirtier prints its own rate when it ends.
    let said = "";
    for (let i = 0; i < 60 && !said.includes('"mode":"dirty"'); i++) {
        await sleep(1000);
        said = (await inGuest(g, "cat /tmp/kat-dirty.log", 10_000)).stdout;
    }
    const reached = dirtierRate(said);
    const err = errorPercent(measured.mibps, reached);
    recordKnownAnswer(
        "migration",
        "hypervisor dirty rate",
        `nfvkit-migload dirty ${DIRTY.mib} MiB at ${DIRTY.mibps} MiB/s (reached ${reached} MiB/s)`,
        reached,
        measured.mibps,
        command,
        "MiB/s",
    );
    t.log(
        `${start.stdout.trim()}; idle ${idle.mibps} MiB/s; dirtier reached ${reached} MiB/s, hypervisor ${measured.mibps} MiB/s (${err.toFixed(2)} %); host load ${os.loadavg()[0].toFixed(1)}`,
    );
    // The bound for the rate the dirtier reached (the share that changed follows it).
    const allowed = dirtyRateAllowancePercent(GUEST_MIB, reached, DIRTY.seconds)!;
    t.true(Math.abs(err) <= allowed, `hypervisor ${measured.mibps} MiB/s for ${reached} MiB/s dirtied (${err.toFixed(1)} %; allowed ±${allowed} %)`);
});
