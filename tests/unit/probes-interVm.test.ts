/**
 * The inter-VM probe's pure parts: settings and their problems word for word,
 * the cross-check against the pod's links, the ring's output parsed from real
 * captures, the verdict's messages, the optional ratio target, the commands
 * and the reports.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { checkInterVmLinks } from "../../components/probes/kinds/interVm/config";
import { guestRingScript, GUEST_REGIONS, ringCommand } from "../../components/probes/kinds/interVm/commands";
import { placeRing } from "../../components/probes/kinds/interVm/run";
import { interVm } from "../../components/probes/kinds/interVm";
import { formatFigure, judgeInterVm } from "../../components/probes/kinds/interVm/verdict";
import { parseRingRate, parseRingRoundTrip } from "../../components/probes/kinds/interVm/parse";
import { ProbeParseError } from "../../components/probes/parseError";
import { interVmMarkdown, interVmRateSvg } from "../../components/probes/kinds/interVm/report";
import { jsonReport, junitReport } from "../../components/probes/reports";
import { checkProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { checkTargets, resolveTargets, type Targets } from "../../components/probes/targets";
import type { InterVmResult } from "../../components/probes/kinds/interVm/types";
import { composeVerdict } from "../../components/probes/verdict";
import { DEFAULT_PROBE_SUITE } from "../../components/probes/suiteConfig";

const fixture = (name: string) => readFileSync(path.join(__dirname, "../fixtures/probes", name), "utf8");

test("interVm settings: defaults from the suite's duration and the seed's batch", (t) => {
    const { config, problems } = checkProbeSuiteConfig({ durationSec: 10, interVm: [{ link: "ring0", producer: "peer", consumer: "vnf" }] });
    t.deepEqual(problems, []);
    t.deepEqual(config!.interVm, [{ link: "ring0", producer: "peer", consumer: "vnf", durationSec: 10, burst: 32, roundTripSec: 2, hostLimit: true }]);
    t.deepEqual(checkProbeSuiteConfig(undefined).config!.interVm, []);
});

test("interVm settings: every problem with its YAML path and fix", (t) => {
    const { problems } = checkProbeSuiteConfig(
        { interVm: [{ link: "ring0", producer: "vnf", consumer: "vnf", bursts: 32, durationSec: 0, inject: { lose: 3 } }, "ring1"] },
        "nfv-testpod:probes",
    );
    t.deepEqual(
        problems.map((p) => `${p.path}: ${p.reason}; ${p.fix}`),
        [
            'nfv-testpod:probes.interVm[0].bursts: is not an interVm setting; did you mean "burst"?',
            "nfv-testpod:probes.interVm[0].consumer: is the producer too: a ring joins two guests; name the link's other member",
            "nfv-testpod:probes.interVm[0].durationSec: must be a whole number from 1 to 3600; write e.g. 60",
            "nfv-testpod:probes.interVm[0].inject: must be { drop: <seq> } or { corrupt: <seq> } with a packet sequence number; write e.g. { drop: 1000 }, or leave it out",
            "nfv-testpod:probes.interVm[1]: must be a mapping; write e.g. { link: ring0, producer: peer, consumer: vnf }",
        ],
    );
});

test("interVm settings name a link of the pod and its members", (t) => {
    const settings = checkProbeSuiteConfig({
        interVm: [
            { link: "ring", producer: "peer", consumer: "vnf" },
            { link: "ring0", producer: "peer", consumer: "dpdk" },
        ],
    }).config!.interVm;
    const problems = checkInterVmLinks(settings, [{ name: "ring0", members: ["vnf", "peer"] }], "nfv-testpod:probes.interVm");
    t.deepEqual(
        problems.map((p) => `${p.path}: ${p.reason}; ${p.fix}`),
        [
            'nfv-testpod:probes.interVm[0].link: is not a link of the pod; did you mean "ring0"?',
            "nfv-testpod:probes.interVm[1].consumer: is not a member of link ring0; use one of vnf, peer",
        ],
    );
});

test("the ratio target is off by default and set by stack config (≥ kept for a bare number)", (t) => {
    t.is(resolveTargets(undefined, "t").interVm.hostRatio, null);
    const set = resolveTargets({ interVm: { hostRatio: 0.5 } }, "nfv-testpod:targets").interVm.hostRatio;
    t.deepEqual(set, { value: 0.5, op: ">=", unit: "ratio", source: "stack config (nfv-testpod:targets.interVm.hostRatio)" });
    t.deepEqual(
        checkTargets({ interVm: { hostRatio: "half" } }, "nfv-testpod:targets").problems.map((p) => p.path),
        ["nfv-testpod:targets.interVm.hostRatio"],
    );
});

test("parse: a real consumer capture (rate, ns per packet, per-second Mpps) and a real round-trip capture", (t) => {
    const rate = parseRingRate(fixture("nfvkit-ring-2-consume.txt"));
    t.is(rate.packets, 89677824);
    t.is(rate.producerPackets, 89677824);
    t.is(rate.burst, 32);
    t.true(rate.checked);
    t.deepEqual([rate.lost, rate.reordered, rate.corrupt, rate.events.length], [0, 0, 0, 0]);
    t.true(Math.abs(rate.mpps - rate.packets / rate.seconds / 1e6) < 1e-3);
    t.is(rate.perSecondMpps.length, 2, "a 1.5 s run: one whole second and one part-second");
    const rt = parseRingRoundTrip(fixture("nfvkit-ring-2-ping.txt"))!;
    t.true(rt.roundTrips > 0 && rt.minNs <= rt.p50Ns && rt.p50Ns <= rt.p99Ns && rt.p99Ns <= rt.p999Ns && rt.p999Ns <= rt.maxNs);
});

test("parse: the ceiling run (--unchecked) says it checked nothing", (t) => {
    const ceiling = parseRingRate(fixture("nfvkit-ring-2-consume-unchecked.txt"));
    t.false(ceiling.checked);
    t.is(ceiling.packets, 76334080);
    t.deepEqual(ceiling.events, []);
});

test("parse: a ring of another wire format (a guest image built with an older ring) is refused with the fix", (t) => {
    t.throws(() => parseRingRate(fixture("nfvkit-ring-1-consume.txt")), {
        instanceOf: ProbeParseError,
        message:
            "cannot parse nfvkit-ring output: this nfvkit-ring speaks wire format 1, older than this kit's 2: the guest booted an image built with an older ring; " +
            "rebuild the guest image (npm run image) and start the guests from it (pulumi up). It begins:\n" +
            fixture("nfvkit-ring-1-consume.txt")
                .trimEnd()
                .split("\n")
                .map((l) => `  | ${l}`)
                .join("\n"),
    });
});

test("parse: a dropped and a reordered packet are named; the producer's line or garbage is refused", (t) => {
    const rate = parseRingRate(fixture("nfvkit-ring-2-consume-drop.txt"));
    t.deepEqual(rate.events, [{ kind: "lost", seq: 1000 }]);
    t.is(rate.lost, 1);
    const late = parseRingRate(fixture("nfvkit-ring-2-consume-reorder.txt"));
    t.deepEqual([late.lost, late.reordered, late.corrupt, late.events], [0, 1, 0, [{ kind: "reordered", seq: 1000 }]]);
    t.throws(() => parseRingRate(fixture("nfvkit-ring-2-produce.txt")), {
        instanceOf: ProbeParseError,
        message: /expected the consume side's result, got role "produce"/,
    });
    t.throws(() => parseRingRate("nfvkit-ring: cannot open /sys/x: No such file\n"), {
        instanceOf: ProbeParseError,
        message: /no result line from the consume side/,
    });
});

function result(over: Partial<InterVmResult> = {}): InterVmResult {
    const rate = parseRingRate(fixture("nfvkit-ring-2-consume.txt"));
    return {
        link: "ring0",
        producer: "peer",
        consumer: "vnf",
        producerVcpu: 0,
        consumerVcpu: 1,
        hostCpus: { producer: 0, consumer: 1 },
        hugepages: false,
        burst: 32,
        durationSec: 3,
        rate: { ...rate, mpps: 0.4213 },
        roundTrip: parseRingRoundTrip(fixture("nfvkit-ring-2-ping.txt")),
        hostRate: rate,
        hostCeiling: parseRingRate(fixture("nfvkit-ring-2-consume-unchecked.txt")),
        hostRoundTrip: null,
        ratio: 0.4213 / rate.mpps,
        noSamples: null,
        hostNoSamples: null,
        commands: ["vnf: nfvkit-ring consume ..."],
        notes: [],
        ...over,
    };
}

test("verdict: the seed's 65 Mpps fails with the message; zero bad packets passes; the ratio is judged only when targeted", (t) => {
    const checks = judgeInterVm([result()], resolveTargets(undefined, "t"));
    t.deepEqual(
        checks.map((c) => [c.metric, c.pass, c.message]),
        [
            ["interVm.mpps", false, "inter-VM rate on ring0 (peer → vnf): avg 0.421 Mpps < target ≥ 65 Mpps"],
            ["interVm.badPackets", true, null],
        ],
    );
    const ratio = judgeInterVm([result({ ratio: 0.0123 })], resolveTargets({ interVm: { mpps: 0.1, hostRatio: 0.5 } }, "t"));
    t.deepEqual(
        ratio.map((c) => c.message),
        [null, null, "inter-VM rate vs host on ring0 (peer → vnf): ratio 0.0123 < target ≥ 0.5"],
    );
});

test("verdict: a lost or corrupt packet fails at any rate target and names its sequence number; no samples fails", (t) => {
    const loose = resolveTargets({ interVm: { mpps: 0 } }, "t");
    const base = result();
    const lost = result({ rate: { ...base.rate!, lost: 1, events: [{ kind: "lost", seq: 1000 }] } });
    const corrupt = result({ rate: { ...base.rate!, corrupt: 1, events: [{ kind: "corrupt", seq: 2000 }] } });
    t.deepEqual(
        [...judgeInterVm([lost], loose), ...judgeInterVm([corrupt], loose)].filter((c) => !c.pass).map((c) => c.message),
        [
            "inter-VM packets on ring0 (peer → vnf): 1 lost, 0 reordered, 0 corrupt > target 0; first bad: seq 1000 (lost)",
            "inter-VM packets on ring0 (peer → vnf): 0 lost, 0 reordered, 1 corrupt > target 0; first bad: seq 2000 (corrupt)",
        ],
    );
    const none = judgeInterVm([result({ rate: null, noSamples: "nfvkit-ring consume in vnf exited 2: no ivshmem-plain device" })], loose);
    t.deepEqual(
        none.map((c) => c.message),
        ["inter-VM rate on ring0 (peer → vnf): no samples (nfvkit-ring consume in vnf exited 2: no ivshmem-plain device)"],
    );
    const verdict = interVmVerdict([lost], loose);
    t.false(verdict.pass);
    t.is(verdict.failures.length, 1);
});

test("three significant digits below 1, two decimals above", (t) => {
    t.deepEqual([0.004213, 0.4213, 3.6937, 0].map(formatFigure), ["0.00421", "0.421", "3.69", "0"]);
});

test("commands: argv without a shell, and the guest script finds the tagged BAR", (t) => {
    const argv = ringCommand({
        role: "produce",
        file: GUEST_REGIONS,
        session: 7,
        tag: "nfvkit-link:x-ring0",
        burst: 32,
        cpu: 1,
        fifo: 95,
        seconds: 3,
        drop: 1000,
        waitSec: 60,
    });
    t.deepEqual(argv, [
        "nfvkit-ring",
        "produce",
        "--file",
        "$regions",
        "--session",
        "7",
        "--cpu",
        "1",
        "--tag",
        "nfvkit-link:x-ring0",
        "--burst",
        "32",
        "--fifo",
        "95",
        "--seconds",
        "3",
        "--drop",
        "1000",
        "--wait",
        "60",
    ]);
    const script = guestRingScript(argv);
    t.true(script.includes('nfvkit-ring produce --file "$regions" --session 7'));
    t.regex(script, /\[ "\$\(cat \$d\/vendor\)" = 0x1af4 \] && \[ "\$\(cat \$d\/device\)" = 0x1110 \]/);
    // busybox sh parses it.
    t.notThrows(() => execFileSync("busybox", ["sh", "-n", "-c", script]));
});

test("placement: FIFO on an RT vCPU next to a housekeeping one; normal priority otherwise, said in a note", (t) => {
    const g = { guest: "vnf", uri: "qemu:///system", domain: "d", rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0] };
    t.deepEqual(placeRing(g, 95, "consumer"), { vcpu: 1, fifo: 95 });
    t.deepEqual(placeRing({ ...g, guest: "peer", rtVcpus: [] }, 95, "producer"), {
        vcpu: 0,
        fifo: 0,
        note: "peer has no real-time vCPU: the producer runs on housekeeping vCPU 0 at normal priority",
    });
});

test("reports: JSON carries the runs, Markdown a table row, JUnit a testcase per check, the SVG is well-formed", (t) => {
    const targets = resolveTargets(undefined, "t");
    const verdict = interVmVerdict([result()], targets);
    t.is(JSON.parse(jsonReport(verdict)).interVm[0].link, "ring0");
    t.regex(interVmMarkdown(verdict.sections.interVm!), /\| ring0 \(peer → vnf\) \| 32 \| 0\.421 \|/);
    // The host's checked rate, then its ceiling and checked ÷ unchecked: 59.72 / 50.51 Mpps.
    t.regex(interVmMarkdown(verdict.sections.interVm!), /\| 59\.72 \| 50\.51 \(1\.18\) \|/);
    const junit = junitReport(verdict);
    t.regex(junit, /<testcase classname="vnf\.interVm" name="inter-VM rate on ring0 \(peer → vnf\) avg \(target ≥ 65 Mpps\)" time="0">/);
    t.notThrows(() =>
        execFileSync("xmllint", ["--noout", "--schema", path.join(__dirname, "../fixtures/probes/junit.xsd"), "-"], {
            input: junit,
            stdio: ["pipe", "pipe", "pipe"],
        }),
    );
    const svg = interVmRateSvg(verdict.sections.interVm![0], targets.interVm.mpps);
    t.notThrows(() => execFileSync("xmllint", ["--noout", "-"], { input: svg, stdio: ["pipe", "pipe", "pipe"] }));
    // The host's 59.72 Mpps sets a scale the 65 Mpps target fits on: a dashed line; on a lower scale, a note instead.
    t.regex(svg, /stroke-dasharray="6 4"\/>\s*<text [^>]*>target ≥ 65 Mpps<\/text>/);
    t.regex(svg, /<polyline points="[^"]+" fill="none" stroke="#4a78b5"/);
    const r = verdict.sections.interVm![0];
    const slow = { ...r, rate: { ...r.rate!, perSecondMpps: [0.4, 0.42] }, hostRate: { ...r.hostRate!, perSecondMpps: [3.1, 3.7] } };
    t.regex(interVmRateSvg(slow, targets.interVm.mpps), /target ≥ 65 Mpps is off this scale/);
});

/** The verdict of inter-VM results alone, as the pipeline composes it. */
function interVmVerdict(results: InterVmResult[], targets: Targets) {
    return composeVerdict("enforce", [
        { name: "interVm", section: results, judged: interVm.judge(results, { targets, gate: "enforce", config: DEFAULT_PROBE_SUITE }) },
    ]);
}
