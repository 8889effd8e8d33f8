/** The live-migration kind's results: every figure of every leg. Plain data. */

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
