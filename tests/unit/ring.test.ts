/**
 * The ring's C code on this machine: compiled with the same gcc command the
 * image builder uses, then a producer and a consumer as two processes on a
 * tmpfs file for a fixed packet count. Every packet must arrive once, in
 * order, with a good check word; a dropped, a reordered and a corrupt packet
 * must each be named by its sequence number; the unchecked ceiling moves
 * every packet; a side of wire format 1 (what an older guest image runs) is
 * refused with a message; ping-pong gives ordered percentiles.
 */
import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compileCommand } from "../../guest-images/programs";
import { ringCommand, type RingArgs } from "../../components/probes/kinds/interVm/commands";
import { parseRingRate, parseRingRoundTrip } from "../../components/probes/kinds/interVm/parse";
import { realTest } from "../helpers/realParts";

const hasGcc = (() => {
    try {
        execFileSync("gcc", ["--version"], { stdio: "ignore" });
        return true;
    } catch {
        return false;
    }
})();
const real = realTest(hasGcc, "gcc (Debian gcc and libc6-dev, installed by tools/setup-host.sh)");

const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-ring-test-"));
const tool = path.join(dir, "nfvkit-ring");
let built = false;
function build(): void {
    if (built) return;
    const [cmd, ...args] = compileCommand("ring/nfvkit-ring.c", tool);
    execFileSync(cmd, args, { cwd: path.join(__dirname, "../../guest-images"), stdio: "pipe" });
    built = true;
}

/** A fresh 4 MiB region on tmpfs, as /dev/shm backs an ivshmem link. */
function region(name: string): string {
    const file = path.join("/dev/shm", `nfvkit-ring-test-${process.pid}-${name}`);
    writeFileSync(file, "");
    truncateSync(file, 4 << 20);
    return file;
}

function side(a: RingArgs): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const [cmd, ...args] = ringCommand({ waitSec: 20, ...a }, tool);
        const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/** Consumer and producer as two processes; the CPUs are this machine's first two (or its only one). */
async function pair(name: string, count: number, extra: Partial<RingArgs> = {}) {
    const file = region(name);
    try {
        const cpus = os.cpus().length > 1 ? [0, 1] : [0, 0];
        const [c, p] = await Promise.all([
            side({ role: "consume", file, session: 42, burst: 32, cpu: cpus[1], unchecked: extra.unchecked }),
            side({ role: "produce", file, session: 42, burst: 32, cpu: cpus[0], count, ...extra }),
        ]);
        return { c, p };
    } finally {
        rmSync(file, { force: true });
    }
}

real.after.always(() => rmSync(dir, { recursive: true, force: true }));

real("host: 2 million packets in bursts of 32 between two processes arrive once, in order, every byte as its number says", async (t) => {
    build();
    const { c, p } = await pair("clean", 2_000_000);
    t.is(p.code, 0, p.stderr);
    t.is(c.code, 0, c.stderr);
    const rate = parseRingRate(c.stdout);
    t.is(rate.packets, 2_000_000);
    t.is(rate.producerPackets, 2_000_000);
    t.deepEqual([rate.lost, rate.reordered, rate.corrupt, rate.events], [0, 0, 0, []]);
    t.true(rate.mpps > 0);
    t.log(`host, two processes: ${rate.mpps.toFixed(2)} Mpps, ${rate.nsPerPacket.toFixed(1)} ns/packet`);
});

real("host: a dropped, a reordered and a corrupt packet are each named by sequence number, and the consumer exits 3", async (t) => {
    build();
    const dropped = await pair("drop", 100_000, { drop: 1000 });
    t.is(dropped.c.code, 3);
    t.deepEqual(parseRingRate(dropped.c.stdout).events, [{ kind: "lost", seq: 1000 }]);
    // 1001 is sent before 1000: 1000 arrives one slot late, and nothing is lost.
    const late = await pair("reorder", 100_000, { reorder: 1000 });
    t.is(late.c.code, 3);
    const reordered = parseRingRate(late.c.stdout);
    t.deepEqual([reordered.lost, reordered.reordered, reordered.corrupt, reordered.events], [0, 1, 0, [{ kind: "reordered", seq: 1000 }]]);
    const corrupt = await pair("corrupt", 100_000, { corrupt: 2000 });
    t.is(corrupt.c.code, 3);
    const rate = parseRingRate(corrupt.c.stdout);
    t.deepEqual(rate.events, [{ kind: "corrupt", seq: 2000 }]);
    t.is(rate.packets, 100_000, "a corrupt packet still arrives: it is counted, and named");
    // All three in one run, in different bursts and in one burst (burst 1 and 32 take different paths in the producer).
    for (const burst of [1, 32]) {
        const all = await pair(`all-${burst}`, 100_000, { drop: 5, reorder: 9, corrupt: 20, burst });
        t.deepEqual(parseRingRate(all.c.stdout).events, [
            { kind: "lost", seq: 5 },
            { kind: "reordered", seq: 9 },
            { kind: "corrupt", seq: 20 },
        ]);
    }
});

real("host: the ceiling (--unchecked on both sides) moves every packet and says it checked nothing; one side alone is refused", async (t) => {
    build();
    const { c, p } = await pair("ceiling", 1_000_000, { unchecked: true });
    t.is(p.code, 0, p.stderr);
    t.is(c.code, 0, c.stderr);
    const ceiling = parseRingRate(c.stdout);
    t.deepEqual([ceiling.checked, ceiling.packets, ceiling.producerPackets], [false, 1_000_000, 1_000_000]);
    const file = region("mixed");
    try {
        const [consumer, producer] = await Promise.all([
            side({ role: "consume", file, session: 5, cpu: 0, unchecked: true, waitSec: 2 }),
            side({ role: "produce", file, session: 5, cpu: 0, count: 10 }),
        ]);
        t.is(producer.code, 2);
        t.is(producer.stderr, "nfvkit-ring: the consumer runs --unchecked and this producer checked: give --unchecked to both sides or to neither\n");
        t.is(consumer.code, 2, "the consumer gives up when no packet comes");
    } finally {
        rmSync(file, { force: true });
    }
});

// Format 1's header, as its consume side wrote it: magic at 0, session at 8, slots at 16, burst at 24;
// its producer published its head at 64. Format 2 keeps the first four and never writes 64.
const MAGIC = 0x676e69726b76666en;
const OLDER =
    "the {side} side runs an nfvkit-ring of wire format 1 and this one format 2: both sides need the same build " +
    "(a guest image built before this ring; rebuild it and start the guests from the new image)";

function writeWords(file: string, at: number, words: bigint[]): void {
    const b = Buffer.alloc(8 * words.length);
    words.forEach((w, i) => b.writeBigUInt64LE(w, 8 * i));
    const fd = openSync(file, "r+");
    try {
        writeSync(fd, b, 0, b.length, at);
    } finally {
        closeSync(fd);
    }
}

real("host: a side of wire format 1 (an older guest image's ring) is named, from either end", async (t) => {
    build();
    // A consumer of format 1 has set up the region: magic, session, slots, burst, and no format words.
    const file = region("format1");
    try {
        writeWords(file, 0, [MAGIC, 31n, 16384n, 32n]);
        const producer = await side({ role: "produce", file, session: 31, cpu: 0, count: 10 });
        t.is(producer.code, 2);
        t.is(producer.stderr, `nfvkit-ring: ${OLDER.replace("{side}", "consumer")}\n`);

        // A producer of format 1 publishes its head at offset 64 once the consumer has set up.
        const consumer = side({ role: "consume", file, session: 32, cpu: 0 });
        const deadline = Date.now() + 10_000;
        while (readFileSync(file).readBigUInt64LE(8) !== 32n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        writeWords(file, 64, [32n]);
        const c = await consumer;
        t.is(c.code, 2);
        t.is(c.stderr, `nfvkit-ring: ${OLDER.replace("{side}", "producer")}\n`);
    } finally {
        rmSync(file, { force: true });
    }
});

real("host: ping-pong gives ordered round-trip percentiles; a side alone gives up with exit 2", async (t) => {
    build();
    const file = region("rtt");
    try {
        const [pong, ping] = await Promise.all([
            side({ role: "pong", file, session: 9, cpu: 0 }),
            side({ role: "ping", file, session: 9, cpu: 0, count: 20_000 }),
        ]);
        t.is(pong.code, 0, pong.stderr);
        t.is(ping.code, 0, ping.stderr);
        const rt = parseRingRoundTrip(ping.stdout)!;
        t.is(rt.roundTrips, 20_000);
        t.true(rt.minNs <= rt.p50Ns && rt.p50Ns <= rt.p99Ns && rt.p99Ns <= rt.maxNs);
        const [cmd, ...args] = ringCommand({ role: "produce", file, session: 10, cpu: 0, count: 10, waitSec: 1 }, tool);
        const alone = await new Promise<number | null>((resolve) => spawn(cmd, args, { stdio: "ignore" }).on("close", resolve));
        t.is(alone, 2);
    } finally {
        rmSync(file, { force: true });
    }
});
