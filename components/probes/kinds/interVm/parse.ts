/**
 * Reads what nfvkit-ring prints: one JSON object on its last stdout line
 * (guest-images/ring/nfvkit-ring.c). The consumer's object gives the rate,
 * the ping side's the round-trip times; either lists the bad packets.
 * Its "version" is the ring's wire format: only this kit's is read, so a
 * guest that booted an image with an older ring is named as such.
 */
import type { RingEvent, RingRate, RingRoundTrip } from "./types";
import { ProbeParseError } from "../../parseError";

/** The wire format of this kit's nfvkit-ring (RING_FORMAT in nfvkit-ring.c). */
export const RING_FORMAT = 2;

/** The last line of `stdout` that is a JSON object written by nfvkit-ring of wire format `expected`. */
function lastObject(stdout: string, role: string, expected = RING_FORMAT): Record<string, unknown> {
    const line = stdout
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l.startsWith("{") && l.includes('"tool":"nfvkit-ring"'))
        .pop();
    if (!line) throw new ProbeParseError("nfvkit-ring", `no result line from the ${role} side`, stdout);
    let doc: unknown;
    try {
        doc = JSON.parse(line);
    } catch (err) {
        throw new ProbeParseError("nfvkit-ring", `its result line is not JSON (${(err as Error).message})`, stdout);
    }
    const o = doc as Record<string, unknown>;
    if (o.role !== role) throw new ProbeParseError("nfvkit-ring", `expected the ${role} side's result, got role ${JSON.stringify(o.role)}`, stdout);
    const format = Number(o.version);
    if (format !== expected) {
        const which = format < expected ? "older" : "newer";
        throw new ProbeParseError(
            "nfvkit-ring",
            `this nfvkit-ring speaks wire format ${String(o.version)}, ${which} than this kit's ${expected}: the guest booted an image built with ` +
                `${which === "older" ? "an older" : "a newer"} ring; rebuild the guest image (npm run image) and start the guests from it (pulumi up)`,
            stdout,
        );
    }
    return o;
}

function num(o: Record<string, unknown>, key: string, stdout: string): number {
    const v = o[key];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new ProbeParseError("nfvkit-ring", `"${key}" is not a number`, stdout);
    return v;
}

function events(o: Record<string, unknown>, stdout: string): RingEvent[] {
    const list = o.events;
    if (!Array.isArray(list)) throw new ProbeParseError("nfvkit-ring", '"events" is not a list', stdout);
    return list.map((e) => {
        const ev = e as Record<string, unknown>;
        if ((ev.kind !== "lost" && ev.kind !== "reordered" && ev.kind !== "corrupt") || typeof ev.seq !== "number") {
            throw new ProbeParseError("nfvkit-ring", `bad event ${JSON.stringify(e)}`, stdout);
        }
        return { kind: ev.kind, seq: ev.seq };
    });
}

/**
 * The consumer's result in rate mode. Throws ProbeParseError on anything else.
 * `format`: the wire format to accept (@default RING_FORMAT, this kit's; the bench reads main's older ring too).
 */
export function parseRingRate(stdout: string, format = RING_FORMAT): RingRate {
    const o = lastObject(stdout, "consume", format);
    const perSecond = o.perSecond;
    if (!Array.isArray(perSecond) || perSecond.some((n) => typeof n !== "number")) {
        throw new ProbeParseError("nfvkit-ring", '"perSecond" is not a list of packet counts', stdout);
    }
    const lastNs = num(o, "lastSecondNs", stdout);
    // Whole seconds are packets per 10^6 µs; the last, partial second is scaled by its own length.
    const perSecondMpps = (perSecond as number[]).map((n, i) => {
        const ns = i === perSecond.length - 1 ? lastNs : 1e9;
        return ns > 0 ? n / ns / 1e-3 : 0;
    });
    return {
        packets: num(o, "packets", stdout),
        producerPackets: num(o, "producerPackets", stdout),
        seconds: num(o, "seconds", stdout),
        mpps: num(o, "mpps", stdout),
        nsPerPacket: num(o, "nsPerPacket", stdout),
        perSecondMpps,
        burst: num(o, "burst", stdout),
        lost: num(o, "lost", stdout),
        reordered: num(o, "reordered", stdout),
        corrupt: num(o, "corrupt", stdout),
        events: events(o, stdout),
        cpu: num(o, "cpu", stdout),
        fifo: num(o, "fifo", stdout),
        checked: o.checked !== false,
        // Older builds of the ring did not time gaps: null, never 0.
        maxGapNs: typeof o.maxGapNs === "number" ? o.maxGapNs : null,
        maxGapAtNs: typeof o.maxGapAtNs === "number" ? o.maxGapAtNs : null,
    };
}

/** The ping side's result in round-trip mode. A run with no round trip has no percentiles: null. */
export function parseRingRoundTrip(stdout: string): RingRoundTrip | null {
    const o = lastObject(stdout, "ping");
    const roundTrips = num(o, "roundTrips", stdout);
    if (roundTrips === 0) return null;
    return {
        roundTrips,
        minNs: num(o, "minNs", stdout),
        avgNs: num(o, "avgNs", stdout),
        p50Ns: num(o, "p50Ns", stdout),
        p99Ns: num(o, "p99Ns", stdout),
        p999Ns: num(o, "p999Ns", stdout),
        maxNs: num(o, "maxNs", stdout),
        lost: num(o, "lost", stdout),
        reordered: num(o, "reordered", stdout),
        corrupt: num(o, "corrupt", stdout),
        events: events(o, stdout),
    };
}
