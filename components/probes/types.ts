/**
 * The shared words of the probe pipeline: what a parser returns and what the
 * verdict and the report writers read. Plain data only, so results can be
 * written to JSON and read back unchanged.
 */

/** The latency tools the kit runs inside guests. */
export type ProbeKind = "cyclictest" | "oslat" | "timerlat" | "osnoise";

/**
 * What one series of samples measured.
 * - `timer`: cyclictest wake-up latency of one thread.
 * - `loop`: oslat busy-loop stall lengths on one CPU.
 * - `irq` / `thread`: rtla timerlat latency at the timer IRQ handler / at the woken thread.
 * - `single-noise`: rtla osnoise, the longest single interruption.
 * - `period-noise`: rtla osnoise, the noise summed over one period (1 ms by default).
 */
export type SeriesKind = "timer" | "loop" | "irq" | "thread" | "single-noise" | "period-noise";

/** One histogram bucket: `count` samples fell in [`us`, `us` + bucket width). */
export interface HistogramBucket {
    /** Lower edge of the bucket in microseconds. */
    us: number;
    /** Samples in the bucket. */
    count: number;
}

/** Summary of one series. Every figure is in microseconds. */
export interface LatencyStats {
    /** Samples measured, overflows included. 0 means nothing was measured. */
    samples: number;
    /** Smallest sample; null when the tool did not report it or there were no samples. */
    minUs: number | null;
    /** Mean sample; null when unknown or no samples. */
    avgUs: number | null;
    /** Largest sample; null when unknown or no samples. */
    maxUs: number | null;
    /**
     * 99th percentile (nearest rank) computed from the histogram; null without a histogram,
     * and null when the rank falls among the overflows: then `p99BeyondRange` is true and the
     * percentile is only known to be above `rangeUs`. It is never taken to be the max.
     */
    p99Us: number | null;
    /** 99.9th percentile, computed like `p99Us`. */
    p999Us: number | null;
    /** True when the 99th percentile falls beyond the histogram's range (reported as `> range`). */
    p99BeyondRange?: boolean;
    /** True when the 99.9th percentile falls beyond the histogram's range. */
    p999BeyondRange?: boolean;
    /** Upper edge of the histogram's range, µs (samples at or above it are overflows); null without a histogram. */
    rangeUs?: number | null;
    /**
     * Samples the run should have given: duration / interval for cyclictest and timerlat,
     * duration / period for osnoise; null when the tool has no fixed rate (oslat) or it is unknown.
     */
    expectedSamples?: number | null;
    /** Non-empty buckets in ascending order; empty when the tool printed no histogram. */
    histogram: HistogramBucket[];
    /** Samples beyond the histogram's last bucket (counted in `samples`, not in `histogram`). */
    overflow: number;
}

/** One measured series: one thread or CPU of one tool run. */
export interface ProbeSeries {
    kind: SeriesKind;
    /** CPU the series ran on, as the tool reported it; null when the tool does not say. */
    cpu: number | null;
    /** Short label for reports, e.g. `thread 0 (cpu 1)` or `IRQ-001`. */
    label: string;
    stats: LatencyStats;
}

/** What a parser extracted from one tool run. */
export interface ProbeResult {
    probe: ProbeKind;
    /** Tool version, e.g. `2.40` for rt-tests or `6.1` for rtla; null when the output does not carry it. */
    version: string | null;
    /** Command line that produced the output, as the tool recorded it or as the caller passed it. */
    command: string | null;
    series: ProbeSeries[];
    /**
     * Why nothing was measured, e.g. `cyclictest printed no measurements`; null when samples exist.
     * The verdict turns a non-null value into a failure, never a pass.
     */
    noSamples: string | null;
    /** Set when the run was cut short (interrupted): the figures cover only what was measured. */
    partial?: PartialRun;
}

/** A run that ended before its planned duration; its figures are what was measured until then. */
export interface PartialRun {
    /** Why it ended early, e.g. `interrupted by SIGINT`. */
    reason: string;
    /** Seconds measured (whole chunks, plus the interrupted one up to the interruption). */
    measuredSec: number;
    /** Seconds planned. */
    plannedSec: number;
}

/** Context a caller knows about a run but the output may not carry. */
export interface ParseContext {
    /** Command line that was run; fills `ProbeResult.command` when the output lacks one. */
    command?: string;
    /** Tool version read separately (see `versionCommand`); fills `ProbeResult.version`. */
    version?: string;
}

/** One guest's result for one probe, the unit the verdict judges. */
export interface GuestProbeResult {
    /** Guest (domain) name, e.g. `vnf-a`. */
    guest: string;
    result: ProbeResult;
}

/** A packet the inter-VM ring's consumer found wrong, by sequence number. */
export interface RingEvent {
    kind: "lost" | "reordered" | "corrupt";
    seq: number;
}

/** What one side of nfvkit-ring reported (rate mode: the consumer; round-trip mode: ping). */
export interface RingRate {
    /** Packets received and checked. */
    packets: number;
    /** Packets the producer says it published. */
    producerPackets: number;
    /** First to last packet received, seconds. */
    seconds: number;
    mpps: number;
    nsPerPacket: number;
    /** Mpps in each second after the first packet; the last entry covers only the run's last part-second. */
    perSecondMpps: number[];
    burst: number;
    lost: number;
    reordered: number;
    corrupt: number;
    /** The first bad packets (at most 16), in the order they were found. */
    events: RingEvent[];
    /** CPU the consumer ran on (guest vCPU or host CPU) and its SCHED_FIFO priority, 0 for none. */
    cpu: number;
    fifo: number;
    /** false for an --unchecked run: the same lines moved with nothing checked (the ceiling). */
    checked: boolean;
    /**
     * The longest wait between two arrivals at the consumer, ns (its own clock): a stalled
     * producer shows here at the stall's length. null when the ring build does not time it.
     */
    maxGapNs?: number | null;
    /** When the longest gap began, ns after the first packet. */
    maxGapAtNs?: number | null;
}

/** Round trips over the ring (ping-pong), nanoseconds. */
export interface RingRoundTrip {
    roundTrips: number;
    minNs: number;
    avgNs: number;
    p50Ns: number;
    p99Ns: number;
    p999Ns: number;
    maxNs: number;
    lost: number;
    reordered: number;
    corrupt: number;
    events: RingEvent[];
}

/** One inter-VM probe run on one link: guest to guest, and the host's own limit on the same memory. */
export interface InterVmResult {
    link: string;
    producer: string;
    consumer: string;
    /** Guest CPU numbers the producer and consumer ran on. */
    producerVcpu: number;
    consumerVcpu: number;
    /** Host CPUs those vCPUs are pinned to, where the host-limit processes ran. */
    hostCpus: { producer: number; consumer: number };
    hugepages: boolean;
    burst: number;
    durationSec: number;
    /** Guest to guest; null when it measured nothing (see `noSamples`). */
    rate: RingRate | null;
    roundTrip: RingRoundTrip | null;
    /** Two host processes on the link's backing file; null when not run (see `notes`). */
    hostRate: RingRate | null;
    /**
     * The host run again with nothing checked (nfvkit-ring --unchecked): the same 64-byte lines
     * through the same ring, the ceiling of this memory for the ring's layout. hostRate.mpps /
     * hostCeiling.mpps is what checking every packet costs. null when not run (see `notes`).
     */
    hostCeiling?: RingRate | null;
    hostRoundTrip: RingRoundTrip | null;
    /** rate.mpps / hostRate.mpps; null without both. */
    ratio: number | null;
    /** Why the guest-to-guest run measured nothing; null when it did. The verdict fails it. */
    noSamples: string | null;
    /** Why the host-limit run measured nothing, when it was attempted and failed. */
    hostNoSamples: string | null;
    /** The command lines, for the record. */
    commands: string[];
    /** What a reader must know: TCG, NUMA placement, priorities that were not applied. */
    notes: string[];
}

/** One gap in the migration probe's packet stream, as the receiver saw it (kernel receive timestamps). */
export interface PacketGap {
    /** Arrival of the packet before the gap and of the one after it, ms from the start of the migration (negative: before it). */
    startMs: number;
    endMs: number;
    gapMs: number;
    seqBefore: number;
    seqAfter: number;
}

/** One migration (one leg of a round trip), every figure the probe reports. */
export interface MigrationLeg {
    from: string;
    to: string;
    /** Null when the migration happened; else why not (the guest then still runs on `from`). */
    error: string | null;
    /** Where the guest runs after this leg, by `virsh domstate` on both hosts. */
    runsOn: string | null;
    /** virsh migrate, from the call to its return, ms (both hosts' SSH connections included). */
    wallMs: number;
    /** libvirt's figures of the completed job (`virsh domjobinfo --completed` on the source); null when it gave none. */
    totalMs: number | null;
    setupMs: number | null;
    iterations: number | null;
    /** Bytes sent for the whole migration (`Data processed`). */
    bytes: number | null;
    /** Dirty rate in the last iteration, pages/s and MiB/s. */
    dirtyPagesPerSec: number | null;
    dirtyMiBps: number | null;
    /** Downtime as libvirt measures it: the guest's pause on the source to its resume on the destination (`Total downtime`). */
    downtimeMs: number | null;
    /** libvirt's downtime without the network: QEMU's own figure for the stop-and-copy (`Downtime w/o network`). */
    downtimeQemuMs: number | null;
    /** The whole `virsh domjobinfo --completed` text on the source. */
    jobInfo: string;
    /** The largest gap in the guest's packet stream during the migration, ms; null without packets. */
    networkDowntimeMs: number | null;
    /** Median spacing of arrivals, ms: the resolution of `networkDowntimeMs`. */
    resolutionMs: number | null;
    packets: number;
    lost: number;
    /** Gaps above 2 ms from 1 s before the migration to 1 s after it. */
    gaps: PacketGap[];
    /** Each vCPU's pin on the destination by `virsh vcpupin` against the plan for that host. */
    pins: { vcpu: number; expected: string; actual: string | null }[];
    /** The plan's emulator pin and FIFO priorities (`<emulatorpin>`, `<vcpusched>`) missing from the destination's live XML; empty when all are there. */
    cputuneMissing: string[];
    /** The memory workload's achieved rate, when it ran. */
    workloadNote: string | null;
    /** The memory workload's rate as the source's hypervisor measured it before the move (QEMU page sampling, whole MiB/s); null for other workloads. */
    hypervisorDirtyMiBps: number | null;
}

/** The live-migration probe's result for one guest. */
export interface MigrationResult {
    guest: string;
    from: string;
    to: string;
    workload: "idle" | "io" | "memory";
    /** The migration parameters used, as words (`downtime limit 50 ms, multifd 2`). */
    parameters: string;
    packetRateHz: number;
    legs: MigrationLeg[];
    commands: string[];
    notes: string[];
}
