/**
 * Command lines and parsers of the live-migration probe. Pure: argv arrays
 * for virsh and for nfvkit-migload in the guest, the guest's shell scripts,
 * and readers of `virsh domjobinfo --completed`, `virsh vcpupin` and the
 * receiver's JSON lines.
 */
import { ProbeParseError } from "../../parseError";
import type { MigrationSetting } from "./config";
import type { PacketGap } from "./types";

export const MIGLOAD_TOOL = "nfvkit-migload";

/** The guest's user-mode NIC: QEMU's slirp network, where the guest is 10.0.2.15 and QEMU's NAT is 10.0.2.2. */
export const GUEST_NET = { address: "10.0.2.15/24", gateway: "10.0.2.2" };

/** Brings the user-mode NIC up; again is harmless. */
export function guestNetScript(): string {
    return [
        "dev=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)",
        '[ -n "$dev" ] || { echo "no NIC in this guest: set knobs: { userNic: true }" >&2; exit 2; }',
        'ip link set "$dev" up',
        `ip addr show dev "$dev" | grep -q '${GUEST_NET.address.split("/")[0]}/' || ip addr add ${GUEST_NET.address} dev "$dev"`,
        `ip route show | grep -q '^default' || ip route add default via ${GUEST_NET.gateway}`,
        'echo "$dev"',
    ].join("\n");
}

/**
 * Starts the packet stream (and the workload) in the background, detached
 * from the guest agent's exec, so they keep running while the guest moves:
 * the agent's own channel closes at the switchover.
 */
export function guestLoadScript(s: MigrationSetting, receiver: string, seconds: number): string {
    const lines = [`setsid ${MIGLOAD_TOOL} send --to ${receiver} --port ${s.port} --rate ${s.packetRateHz} --seconds ${seconds} >/tmp/migload-send.log 2>&1 &`];
    if (s.workload === "io")
        lines.push(
            `setsid ${MIGLOAD_TOOL} send --to ${receiver} --port ${s.port + 1} --rate ${s.ioRateHz} --size 1400 --seconds ${seconds} >/tmp/migload-io.log 2>&1 &`,
        );
    if (s.workload === "memory")
        lines.push(`setsid ${MIGLOAD_TOOL} dirty --mib ${s.dirtyMiB} --rate ${s.dirtyMiBps} --seconds ${seconds} >/tmp/migload-dirty.log 2>&1 &`);
    lines.push("sleep 0.2", `pidof ${MIGLOAD_TOOL} >/dev/null || { cat /tmp/migload-*.log >&2; exit 3; }`);
    return lines.join("\n");
}

/** Stops the stream and the workload and prints what they said. */
export function guestStopScript(): string {
    return [`killall ${MIGLOAD_TOOL} 2>/dev/null`, "sleep 0.3", "cat /tmp/migload-*.log 2>/dev/null", "rm -f /tmp/migload-*.log", "true"].join("\n");
}

/** The receiver on the control side: kernel timestamps of every packet, gaps above 1 ms. */
export function receiverArgv(tool: string, bind: string, port: number, seconds: number): string[] {
    return [tool, "recv", "--bind", bind, "--port", String(port), "--seconds", String(seconds), "--gap-us", "1000"];
}

/** `virsh migrate` with the setting's parameters and the destination's XML. */
export function migrateArgv(s: MigrationSetting, domain: string, destUri: string, xmlFile: string): string[] {
    const argv = ["migrate", "--live", "--persistent", "--xml", xmlFile, "--persistent-xml", xmlFile];
    if (s.bandwidthMiBps !== null) argv.push("--bandwidth", String(s.bandwidthMiBps));
    if (s.multifdChannels > 0) argv.push("--parallel", "--parallel-connections", String(s.multifdChannels));
    if (s.postcopy) argv.push("--postcopy", "--postcopy-after-precopy");
    if (s.autoConverge) argv.push("--auto-converge");
    argv.push(domain, destUri);
    return argv;
}

/** The parameters in words, for reports. */
export function describeParameters(s: MigrationSetting): string {
    return [
        `downtime limit ${s.downtimeLimitMs === null ? "QEMU default (300 ms)" : `${s.downtimeLimitMs} ms`}`,
        `bandwidth ${s.bandwidthMiBps === null ? "unlimited" : `${s.bandwidthMiBps} MiB/s`}`,
        `multifd ${s.multifdChannels > 0 ? `${s.multifdChannels} channels` : "off"}`,
        `postcopy ${s.postcopy ? "on" : "off"}`,
        `auto-converge ${s.autoConverge ? "on" : "off"}`,
    ].join(", ");
}

/** The figures of `virsh domjobinfo --completed`, by label, in the unit it prints (ms, MiB, pages/s...). */
export function parseJobInfo(text: string): Record<string, { value: number; unit: string }> {
    const out: Record<string, { value: number; unit: string }> = {};
    for (const line of text.split("\n")) {
        const m = /^([A-Za-z][A-Za-z /-]*?):\s+(-?[\d.]+)\s*(\S*)\s*$/.exec(line.trim());
        if (m) out[m[1]] = { value: Number(m[2]), unit: m[3] };
    }
    return out;
}

const BYTES: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** A domjobinfo size in bytes (`285.467 MiB`). */
export function jobBytes(f: { value: number; unit: string } | undefined): number | null {
    if (!f || BYTES[f.unit] === undefined) return null;
    return Math.round(f.value * BYTES[f.unit]);
}

/** `virsh vcpupin <dom>` on a running domain: ` 0      0` lines → { "0": "0" }. */
export function parseVcpupin(text: string): Record<string, string> {
    const pins: Record<string, string> = {};
    for (const line of text.split("\n")) {
        const m = /^\s*(\d+)\s*:?\s+([\d,-]+)\s*$/.exec(line);
        if (m) pins[m[1]] = m[2];
    }
    return pins;
}

/** The receiver's output: its summary and every gap it printed. */
export interface ReceiverReport {
    packets: number;
    lost: number;
    reordered: number;
    medianIntervalUs: number;
    /** Kernel timestamps of the first and the last packet, CLOCK_REALTIME ns. */
    firstNs: number;
    lastNs: number;
    maxGapUs: number;
    /** Absolute gaps, CLOCK_REALTIME ns. */
    gaps: { startNs: number; endNs: number; us: number; seqBefore: number; seqAfter: number }[];
}

export function parseReceiver(stdout: string): ReceiverReport {
    const report: ReceiverReport = { packets: 0, lost: 0, reordered: 0, medianIntervalUs: 0, firstNs: 0, lastNs: 0, maxGapUs: 0, gaps: [] };
    let summary = false;
    for (const line of stdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        const j = JSON.parse(line);
        if (j.gap) report.gaps.push(j.gap);
        else if (j.mode === "recv" && j.packets !== undefined) {
            Object.assign(report, {
                packets: j.packets,
                lost: j.lost,
                reordered: j.reordered,
                medianIntervalUs: j.medianIntervalUs,
                firstNs: j.firstNs,
                lastNs: j.lastNs,
                maxGapUs: j.maxGapUs,
            });
            summary = true;
        }
    }
    if (!summary) throw new ProbeParseError(`${MIGLOAD_TOOL} recv`, "it printed no summary", stdout);
    return report;
}

/**
 * The network downtime: the largest gap that overlaps the migration's
 * window [startMs, endMs] (ms of CLOCK_REALTIME), and the gaps near it.
 */
export function networkDowntime(r: ReceiverReport, startMs: number, endMs: number): { downtimeMs: number | null; gaps: PacketGap[] } {
    const near = r.gaps
        .filter((g) => g.endNs / 1e6 >= startMs - 1000 && g.startNs / 1e6 <= endMs + 1000)
        .map((g) => ({
            startMs: round(g.startNs / 1e6 - startMs),
            endMs: round(g.endNs / 1e6 - startMs),
            gapMs: round(g.us / 1000),
            seqBefore: g.seqBefore,
            seqAfter: g.seqAfter,
        }))
        .filter((g) => g.gapMs >= 2);
    const during = near.filter((g) => g.endMs >= 0 && g.startMs <= endMs - startMs);
    if (r.packets === 0) return { downtimeMs: null, gaps: near };
    // No gap above 1 ms at all during the window: the stream never paused longer than the receiver's threshold.
    const downtimeMs = during.length > 0 ? Math.max(...during.map((g) => g.gapMs)) : round(Math.min(r.maxGapUs, 1000) / 1000);
    return { downtimeMs, gaps: near };
}

/**
 * The stream's resolution: its mean spacing, the span over the packets. Not the median spacing: under TCG
 * the guest's packets leave QEMU's user-mode NIC in clumps, so most arrive microseconds apart and the median
 * says nothing about how finely a gap can be placed.
 */
export function streamResolutionMs(r: ReceiverReport): number | null {
    if (r.packets < 2) return null;
    return round((r.lastNs - r.firstNs) / 1e6 / (r.packets - 1), 3);
}

function round(n: number, digits = 2): number {
    const f = 10 ** digits;
    return Math.round(n * f) / f;
}

/**
 * The hypervisor's measurement of how fast the guest dirties its memory:
 * QEMU's calc-dirty-rate through libvirt. Page sampling (QEMU hashes 512
 * random pages per GiB of guest RAM, waits, hashes them again) is the one
 * mode that works under TCG: `--mode dirty-bitmap` reported 0 MiB/s for a
 * guest dirtying 16 MiB/s, and `--mode dirty-ring` needs KVM's dirty ring.
 */
export function dirtyRateCalcArgv(domain: string, seconds: number): string[] {
    return ["domdirtyrate-calc", domain, "--seconds", String(seconds), "--mode", "page-sampling"];
}

/** What `virsh domstats --dirtyrate` says of the last calculation. */
export interface DirtyRateStats {
    /** QEMU's calc status: 0 not started, 1 measuring, 2 measured. */
    status: number | null;
    /** When the calculation started, s since the epoch (the host's clock). */
    startSec: number | null;
    periodSec: number | null;
    mode: string | null;
    /** QEMU's figure, whole MiB/s (QEMU divides RAM in MiB; libvirt calls it megabytes); absent until measured. */
    mibps: number | null;
}

export function parseDirtyRate(text: string): DirtyRateStats {
    const field = (name: string) => new RegExp(`^\\s*dirtyrate\\.${name}=(\\S+)\\s*$`, "m").exec(text)?.[1] ?? null;
    const num = (name: string) => {
        const v = field(name);
        return v === null ? null : Number(v);
    };
    return {
        status: num("calc_status"),
        startSec: num("calc_start_time"),
        periodSec: num("calc_period"),
        mode: field("calc_mode"),
        mibps: num("megabytes_per_second"),
    };
}

/**
 * The calculation's period for a memory workload: no longer than one pass over
 * the working set, so that no page is written twice inside it (page sampling
 * counts a page once however often it changed), 1 s to 10 s.
 */
export function dirtyRatePeriodSec(s: Pick<MigrationSetting, "dirtyMiB" | "dirtyMiBps">): number {
    return Math.min(10, Math.max(1, Math.floor(s.dirtyMiB / s.dirtyMiBps)));
}

/** QEMU's page sampling: pages hashed per GiB of guest RAM (its default; libvirt does not pass another). */
export const DIRTY_SAMPLE_PAGES_PER_GIB = 512;

/**
 * How far the hypervisor's page-sampling rate may be from a guest's true
 * rate, in %: three standard deviations of the sampled share (binomial: QEMU
 * hashes 512 random pages per GiB, and the share that changed estimates
 * rate × period / RAM), plus QEMU's rounding down to whole MiB/s. Null when
 * the rate is 0 (no share to estimate).
 */
export function dirtyRateAllowancePercent(ramMiB: number, mibps: number, periodSec: number): number | null {
    if (mibps <= 0 || ramMiB <= 0) return null;
    const samples = Math.max(1, Math.floor((ramMiB * DIRTY_SAMPLE_PAGES_PER_GIB) / 1024));
    const share = Math.min(1, (mibps * periodSec) / ramMiB);
    const relativeSd = Math.sqrt((1 - share) / (samples * share));
    return Math.ceil(3 * relativeSd * 100 + 100 / mibps);
}

/** Why a migration failed, in the words of the host that caused it. */
export function migrationCause(stderr: string, destination: string, memory: string): string {
    if (/Cannot allocate memory|hugepage|hugetlb|unable to map backing store/i.test(stderr))
        return `host ${destination} has no free hugepages for the guest's ${memory} (QEMU on ${destination} could not map its memory)`;
    if (
        /libvirt-sock|Failed to connect socket|Connection refused|Cannot recv data|End of file while reading data|no connection driver|unable to connect/i.test(
            stderr,
        )
    )
        return `host ${destination}'s libvirtd does not answer (stopped or unreachable)`;
    return `libvirt refused or aborted it`;
}
