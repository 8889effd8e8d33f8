/**
 * The ring's C code on this machine: compiled with the same gcc command the
 * image builder uses, then a producer and a consumer as two processes on a
 * tmpfs file for a fixed packet count. Every packet must arrive once, in
 * order, with a good checksum; a dropped or corrupt packet must be named by
 * its sequence number; ping-pong gives ordered percentiles.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
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
        const [cmd, ...args] = ringCommand({ ...a, waitSec: 20 }, tool);
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
            side({ role: "consume", file, session: 42, burst: 32, cpu: cpus[1] }),
            side({ role: "produce", file, session: 42, burst: 32, cpu: cpus[0], count, ...extra }),
        ]);
        return { c, p };
    } finally {
        rmSync(file, { force: true });
    }
}

real.after.always(() => rmSync(dir, { recursive: true, force: true }));

real("host: 2 million packets in bursts of 32 between two processes arrive once, in order, with good checksums", async (t) => {
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

real("host: a dropped packet and a corrupt packet are named by sequence number, and the consumer exits 3", async (t) => {
    build();
    const dropped = await pair("drop", 100_000, { drop: 1000 });
    t.is(dropped.c.code, 3);
    t.deepEqual(parseRingRate(dropped.c.stdout).events, [{ kind: "lost", seq: 1000 }]);
    const corrupt = await pair("corrupt", 100_000, { corrupt: 2000 });
    t.is(corrupt.c.code, 3);
    const rate = parseRingRate(corrupt.c.stdout);
    t.deepEqual(rate.events, [{ kind: "corrupt", seq: 2000 }]);
    t.is(rate.packets, 100_000, "a corrupt packet still arrives: it is counted, and named");
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
