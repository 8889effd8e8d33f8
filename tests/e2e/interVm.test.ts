/**
 * The inter-VM probe with the real engine, real guests under TCG and the real
 * ring: on the ring0 link it measures a rate above zero with no bad packet,
 * the host-limit run gives its own rate and the ratio, and round trips give
 * percentiles. The gate fails at the seed's 65 Mpps with the exact message and
 * passes at a loose target; a dropped or a corrupt packet fails the probe and
 * the message names its sequence number.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { formatFigure } from "../../components/probes/kinds/interVm/verdict";
import type { InterVmResult } from "../../components/probes/kinds/interVm/types";
import { shmFilesWithPrefix } from "../helpers/host";
import { useStack, type TestStack } from "../helpers/stack";

const STACK_FILE = "stacks/Pulumi.intervm.yaml";
const RESULTS = "results/intervm";
const PREFIX = "nfv-testpod-intervm";
const LINK = { link: "ring0", producer: "peer", consumer: "vnf", burst: 32 };

/** The stack file with some `nfv-testpod:` settings replaced, written to a temp file. */
function variant(settings: Record<string, unknown>): string {
    const doc = yaml.load(readFileSync(STACK_FILE, "utf8")) as { config: Record<string, unknown> };
    for (const [key, value] of Object.entries(settings)) doc.config[`nfv-testpod:${key}`] = value;
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-intervm-")), "Pulumi.intervm.yaml");
    writeFileSync(file, yaml.dump(doc));
    return file;
}

const upWith = (stack: TestStack, settings: Record<string, unknown>) => stack.run(["up", "--yes", "--skip-preview", "--config-file", variant(settings)]);
const report = () => JSON.parse(readFileSync(`${RESULTS}/probes.json`, "utf8")) as { pass: boolean; failures: string[]; interVm: InterVmResult[] };

test.serial(
    "inter-VM probe on ring0: rate, zero loss, host limit and ratio, round trips; the gate at the seed and a loose target; a dropped and a corrupt packet are named",
    async (t) => {
        const stack = useStack(t, "intervm", PREFIX);

        // 1. The seed's 65 Mpps, enforced: TCG is far below it, so pulumi up fails with the exact message.
        const seed = await stack.run(["up", "--yes", "--skip-preview"]);
        t.not(seed.code, 0, "the gate must fail at the seed's 65 Mpps under TCG");
        const r = report().interVm[0];
        t.truthy(r.rate, `guest to guest measured: ${r.noSamples}`);
        const rate = r.rate!;
        t.true(rate.mpps > 0, "a rate above zero");
        t.is(rate.lost + rate.reordered + rate.corrupt, 0, "no packet lost, reordered or corrupt");
        t.is(rate.packets, rate.producerPackets, "every packet the producer published arrived");
        t.true(rate.perSecondMpps.length >= 3, "per-second samples over the 3 s run");
        t.true(seed.stdout.includes(`inter-VM rate on ring0 (peer → vnf): avg ${formatFigure(rate.mpps)} Mpps < target ≥ 65 Mpps`), seed.stdout);
        t.regex(seed.stdout, /probe gate failed: 1 of 2 checks missed their target/);

        // The host's limit on the same memory, the ratio, and round trips both ways.
        t.truthy(r.hostRate, `host limit measured: ${r.hostNoSamples}`);
        t.true(r.hostRate!.mpps > 0);
        t.is(r.hostRate!.lost + r.hostRate!.reordered + r.hostRate!.corrupt, 0);
        t.is(r.ratio, rate.mpps / r.hostRate!.mpps);
        t.deepEqual(r.hostCpus, { producer: 0, consumer: 1 }, "the host processes sit where peer's vCPU 0 and vnf's RT vCPU 1 are pinned");
        for (const rt of [r.roundTrip!, r.hostRoundTrip!]) {
            t.true(rt.roundTrips > 0 && rt.p50Ns > 0 && rt.p50Ns <= rt.p99Ns && rt.p99Ns <= rt.maxNs, JSON.stringify(rt));
        }
        // The host's ceiling: the same lines unchecked, and in the report checked ÷ unchecked beside it.
        t.truthy(r.hostCeiling, "the host's unchecked run measured");
        t.false(r.hostCeiling!.checked);
        t.true(r.hostCeiling!.mpps > 0);
        const markdown = readFileSync(`${RESULTS}/probes.md`, "utf8");
        t.regex(markdown, /\| ring0 \(peer → vnf\) \| 32 \| [\d.]+ \|/);
        const [host, ceiling, checkedShare] = [r.hostRate!.mpps, r.hostCeiling!.mpps, r.hostRate!.mpps / r.hostCeiling!.mpps].map(formatFigure);
        t.true(markdown.includes(`| ${host} | ${ceiling} (${checkedShare}) |`), markdown);
        t.regex(
            markdown,
            /ring0: TCG \(software emulation\): the guests carry [\d.]+ Mpps against [\d.]+ Mpps between host processes on the same memory \(ratio [\d.]+\)/,
        );
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
        t.true(
            dropped.stdout.includes("inter-VM packets on ring0 (peer → vnf): 1 lost, 0 reordered, 0 corrupt > target 0; first bad: seq 1000 (lost)"),
            dropped.stdout,
        );
        const corrupt = await upWith(stack, {
            targets: { interVm: { mpps: 0.001 } },
            probes: { probes: [], interVm: [{ ...quick, inject: { corrupt: 2000 } }] },
        });
        t.not(corrupt.code, 0);
        t.true(
            corrupt.stdout.includes("inter-VM packets on ring0 (peer → vnf): 0 lost, 0 reordered, 1 corrupt > target 0; first bad: seq 2000 (corrupt)"),
            corrupt.stdout,
        );

        const destroy = await stack.run(["destroy", "--yes", "--skip-preview"]);
        t.is(destroy.code, 0, destroy.stderr);
        t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    },
);
