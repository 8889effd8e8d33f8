/**
 * The inter-VM probe with the real engine, real guests (KVM or TCG, as the
 * host allows) and the real ring: on the ring0 link the file the probe writes
 * gives a plausible rate with every packet arrived and none bad, the host-limit
 * run its own rate and the ratio, and round trips give percentiles. The gate
 * fails at a rate no host reaches with the exact message and passes at one
 * every guest meets; a dropped or a corrupt packet fails the probe and the
 * file and the message name its sequence number.
 */
import test, { type ExecutionContext } from "ava";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { formatFigure } from "../../components/probes/kinds/interVm/verdict";
import type { InterVmResult, RingRate } from "../../components/probes/kinds/interVm/types";
import { expectedAccel, shmFilesWithPrefix } from "../helpers/host";
import { useStack, type TestStack } from "../helpers/stack";

const STACK_FILE = "stacks/Pulumi.intervm.yaml";
const RESULTS = "results/intervm";
const PREFIX = "nfv-testpod-intervm";
const LINK = { link: "ring0", producer: "peer", consumer: "vnf", burst: 32 };

/** The config variants' folder, made once and removed after this file's tests. */
const scratch = mkdtempSync(path.join(os.tmpdir(), "nfvkit-intervm-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

/** The stack file with some `nfv-testpod:` settings replaced, written to a temp file. */
function variant(settings: Record<string, unknown>): string {
    const doc = yaml.load(readFileSync(STACK_FILE, "utf8")) as { config: Record<string, unknown> };
    for (const [key, value] of Object.entries(settings)) doc.config[`nfv-testpod:${key}`] = value;
    const file = path.join(mkdtempSync(path.join(scratch, "variant-")), "Pulumi.intervm.yaml");
    writeFileSync(file, yaml.dump(doc));
    return file;
}

/** A rate target no host reaches (10^11 packets a second), so the gate fails on KVM as on TCG. */
const UNREACHABLE_MPPS = 100_000;

/**
 * One nfvkit-ring rate as its file gives it, against bounds that do not come from the kit's code: the consumer
 * checked every packet the producer published (or, unchecked, moved them), none lost, reordered or corrupt; the
 * rate is one a ring between two CPUs can carry (10 kpps to 1000 Mpps: 64-byte lines at 1000 Mpps are 64 GB/s);
 * packets ÷ seconds is the rate, and ns per packet its inverse (to the file's rounding, 1 %); the run lasted
 * about its duration.
 */
function assertRingRate(t: ExecutionContext, what: string, rate: RingRate, durationSec: number, checked: boolean): void {
    const near = (a: number, b: number) => Math.abs(a - b) <= 0.01 * Math.max(a, b);
    t.is(rate.checked, checked, `${what}: checked`);
    t.is(rate.packets, rate.producerPackets, `${what}: every packet the producer published arrived`);
    if (checked) {
        t.is(rate.lost + rate.reordered + rate.corrupt, 0, `${what}: no packet lost, reordered or corrupt`);
        t.deepEqual(rate.events, [], `${what}: no bad packet named`);
    }
    t.true(rate.mpps > 0.01 && rate.mpps < 1000, `${what}: ${rate.mpps} Mpps`);
    t.true(near(rate.packets / rate.seconds / 1e6, rate.mpps), `${what}: ${rate.packets} packets in ${rate.seconds} s is not ${rate.mpps} Mpps`);
    t.true(near(rate.nsPerPacket, 1000 / rate.mpps), `${what}: ${rate.nsPerPacket} ns/packet at ${rate.mpps} Mpps`);
    t.true(rate.seconds > durationSec / 2 && rate.seconds < durationSec + 10, `${what}: ${rate.seconds} s for a ${durationSec} s run`);
    t.is(rate.burst, LINK.burst, `${what}: burst`);
}

const upWith = (stack: TestStack, settings: Record<string, unknown>) => stack.run(["up", "--yes", "--skip-preview", "--config-file", variant(settings)]);
const report = () => JSON.parse(readFileSync(`${RESULTS}/probes.json`, "utf8")) as { pass: boolean; failures: string[]; interVm: InterVmResult[] };

test.serial(
    "inter-VM probe on ring0: rate, zero loss, host limit and ratio, round trips from its file; the gate at an unreachable and a loose target; a dropped and a corrupt packet are named",
    async (t) => {
        const stack = useStack(t, "intervm", PREFIX);

        // 1. A rate no host can reach, enforced, so the gate fails on KVM as on TCG: pulumi up fails with the exact message.
        const seed = await upWith(stack, { targets: { interVm: { mpps: UNREACHABLE_MPPS } } });
        t.not(seed.code, 0, `the gate must fail at ${UNREACHABLE_MPPS} Mpps`);
        const written = report();
        const r = written.interVm[0];
        t.truthy(r.rate, `guest to guest measured: ${r.noSamples}`);
        const rate = r.rate!;
        const failure = `inter-VM rate on ring0 (peer → vnf): avg ${formatFigure(rate.mpps)} Mpps < target ≥ ${UNREACHABLE_MPPS} Mpps`;
        t.false(written.pass);
        t.deepEqual(written.failures, [failure], "the rate is the one miss; the packet check passed");
        t.true(seed.stdout.includes(failure), seed.stdout);
        t.regex(seed.stdout, /probe gate failed: 1 of 2 checks missed their target/);

        // The figures as nfvkit-ring wrote them, against bounds of their own: every packet the producer published
        // arrived checked, none lost, reordered or corrupt, a rate a memory ring between two CPUs can carry, and
        // figures that agree with each other.
        assertRingRate(t, "guest to guest", rate, r.durationSec, true);
        t.true(rate.perSecondMpps.length >= r.durationSec, `per-second samples over the ${r.durationSec} s run`);

        // The host's limit on the same memory, the ratio, and round trips both ways.
        t.truthy(r.hostRate, `host limit measured: ${r.hostNoSamples}`);
        assertRingRate(t, "host processes", r.hostRate!, r.durationSec, true);
        t.deepEqual(r.hostCpus, { producer: 0, consumer: 1 }, "the host processes sit where peer's vCPU 0 and vnf's RT vCPU 1 are pinned");
        // The ratio the file gives is its two rates' quotient (to rounding), and a share, not a multiple: guests
        // never carry several times what two host processes carry on the same memory.
        t.true(r.ratio !== null && Math.abs(r.ratio - rate.mpps / r.hostRate!.mpps) <= 1e-9 * r.ratio, `ratio ${r.ratio}`);
        t.true(r.ratio! > 0 && r.ratio! < 2, `ratio ${r.ratio}`);
        for (const rt of [r.roundTrip!, r.hostRoundTrip!]) {
            t.true(rt.roundTrips > 0 && rt.p50Ns > 0 && rt.p50Ns <= rt.p99Ns && rt.p99Ns <= rt.maxNs, JSON.stringify(rt));
            t.is(rt.lost + rt.reordered + rt.corrupt, 0, "no round trip lost, reordered or corrupt");
            // A round trip moves a cache line to the other CPU and back: more than 10 ns even between SMT siblings, under a second.
            t.true(rt.minNs > 10 && rt.maxNs < 1e9, JSON.stringify(rt));
        }
        // The host's ceiling: the same lines unchecked, and in the report checked ÷ unchecked beside it.
        t.truthy(r.hostCeiling, "the host's unchecked run measured");
        assertRingRate(t, "host processes, unchecked", r.hostCeiling!, r.durationSec, false);
        const markdown = readFileSync(`${RESULTS}/probes.md`, "utf8");
        t.regex(markdown, /\| ring0 \(peer → vnf\) \| 32 \| [\d.]+ \|/);
        const [host, ceiling, checkedShare] = [r.hostRate!.mpps, r.hostCeiling!.mpps, r.hostRate!.mpps / r.hostCeiling!.mpps].map(formatFigure);
        t.true(markdown.includes(`| ${host} | ${ceiling} (${checkedShare}) |`), markdown);
        const tcgNote =
            /ring0: TCG \(software emulation\): the guests carry [\d.]+ Mpps against [\d.]+ Mpps between host processes on the same memory \(ratio [\d.]+\)/;
        if (expectedAccel() === "tcg") t.regex(markdown, tcgNote, "under TCG the report says the figures measure the emulator");
        else t.notRegex(markdown, tcgNote);
        t.regex(markdown, /peer has no real-time vCPU: the producer runs on housekeeping vCPU 0 at normal priority/);
        t.notThrows(() =>
            execFileSync("xmllint", ["--noout", "--schema", "tests/fixtures/probes/junit.xsd", `${RESULTS}/probes.junit.xml`], { stdio: "pipe" }),
        );
        const svg = `${RESULTS}/histograms/ring0-interVm.svg`;
        t.true(existsSync(svg));
        t.notThrows(() => execFileSync("xmllint", ["--noout", svg], { stdio: "pipe" }), "the Mpps chart is well-formed XML");
        t.log(
            `guests ${rate.mpps} Mpps (${rate.nsPerPacket} ns/packet), host ${r.hostRate!.mpps} Mpps, unchecked ${r.hostCeiling!.mpps} Mpps, ratio ${r.ratio}; ` +
                `round trip p50/p99/max ${r.roundTrip!.p50Ns}/${r.roundTrip!.p99Ns}/${r.roundTrip!.maxNs} ns, host ${r.hostRoundTrip!.p50Ns}/${r.hostRoundTrip!.p99Ns}/${r.hostRoundTrip!.maxNs} ns`,
        );

        // 2. A loose rate target and a ratio target: the same pod passes.
        const loose = await upWith(stack, { targets: { interVm: { mpps: 0.001, hostRatio: 0.0001 } } });
        t.is(loose.code, 0, loose.stdout + loose.stderr);
        const probes = (await stack.outputs()).probes as { pass: boolean; checks: { probe: string; name: string; pass: boolean }[] };
        t.true(probes.pass);
        t.deepEqual(
            probes.checks.map((c) => [c.name, c.pass]),
            [
                ["inter-VM rate on ring0 (peer → vnf)", true],
                ["inter-VM packets on ring0 (peer → vnf)", true],
                ["inter-VM rate vs host on ring0 (peer → vnf)", true],
            ],
        );

        // 3. The producer drops packet 1000, then corrupts packet 2000: the probe fails at any rate target and names it.
        const quick = { ...LINK, durationSec: 2, roundTripSec: 0, hostLimit: false };
        const dropped = await upWith(stack, { targets: { interVm: { mpps: 0.001 } }, probes: { probes: [], interVm: [{ ...quick, inject: { drop: 1000 } }] } });
        t.not(dropped.code, 0);
        t.like(report().interVm[0].rate, { lost: 1, reordered: 0, corrupt: 0, events: [{ kind: "lost", seq: 1000 }] }, "the file names the dropped packet");
        t.true(
            dropped.stdout.includes("inter-VM packets on ring0 (peer → vnf): 1 lost, 0 reordered, 0 corrupt > target 0; first bad: seq 1000 (lost)"),
            dropped.stdout,
        );
        const corrupt = await upWith(stack, {
            targets: { interVm: { mpps: 0.001 } },
            probes: { probes: [], interVm: [{ ...quick, inject: { corrupt: 2000 } }] },
        });
        t.not(corrupt.code, 0);
        t.like(report().interVm[0].rate, { lost: 0, reordered: 0, corrupt: 1, events: [{ kind: "corrupt", seq: 2000 }] }, "the file names the corrupt packet");
        t.true(
            corrupt.stdout.includes("inter-VM packets on ring0 (peer → vnf): 0 lost, 0 reordered, 1 corrupt > target 0; first bad: seq 2000 (corrupt)"),
            corrupt.stdout,
        );

        const destroy = await stack.run(["destroy", "--yes", "--skip-preview"]);
        t.is(destroy.code, 0, destroy.stderr);
        t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    },
);
