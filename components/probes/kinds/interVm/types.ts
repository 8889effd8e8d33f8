/** The inter-VM kind's results: what nfvkit-ring reported, per link. Plain data. */

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
