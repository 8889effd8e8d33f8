/** The verdict at the seed's targets and at loose ones, the gate, and the report writers. */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    GateError,
    JSON_REPORT_SCHEMA,
    applyGate,
    histogramSvg,
    histogramSvgs,
    judge,
    jsonReport,
    junitReport,
    markdownReport,
    parseCyclictestHistogram,
    parseCyclictestJson,
    parseCyclictestRun,
    parseOslatText,
    parseOsnoiseTop,
    parseTimerlatHist,
    resolveTargets,
    type GuestProbeResult,
    type ProbeResult,
} from "../../components/probes";

const DIR = join(__dirname, "..", "fixtures", "probes");
const fixture = (name: string) => readFileSync(join(DIR, name), "utf8");
const SEED = resolveTargets(undefined, "nfv-testpod:targets");
const LOOSE = resolveTargets(
    { timer: { avgUs: 100, maxUs: 10000 }, interrupt: { maxUs: 100 }, preemption: { maxSingleUs: 100000, perWindowUs: 100 } },
    "nfv-testpod:targets",
);

/** This host's real cyclictest run (avg 19.73 µs, max 1422 µs) and hand-written rtla runs. */
const hostTimer = () => parseCyclictestJson(fixture("cyclictest-2.4-1thread.json"));
const timerlat = () => parseTimerlatHist(fixture("rtla-6.1-timerlat-hist.txt"), { version: "6.1", command: "rtla timerlat hist -c 1-2 -d 5" });
const quietNoise = () => parseOsnoiseTop(fixture("rtla-6.1-osnoise-top.txt"), { version: "6.1", command: "rtla osnoise top -q -c 1-2 -p 1000 -r 1000 -d 5" });
const noisy = () => parseOsnoiseTop(fixture("rtla-6.1-osnoise-top-noisy.txt"), { version: "6.1", command: "rtla osnoise top -q -c 1-2 -p 1000 -r 1000 -d 5" });

/** The synthetic 2.7 histogram: avg 8/7 µs and max 16/19 µs, like the seed's "after" guest figures. */
function withMax(maxUs: number): ProbeResult {
    const r = parseCyclictestHistogram(fixture("cyclictest-2.7-synthetic.hist.txt"));
    r.series = r.series.map((s) => ({ ...s, stats: { ...s.stats, avgUs: 4, maxUs } }));
    return r;
}

test("timer latency at the seed targets: the exact failure message", (t) => {
    const v = judge([{ guest: "vnf-a", result: withMax(8032) }], SEED);
    t.false(v.pass);
    t.deepEqual(v.failures, ["timer latency on vnf-a: max 8032 µs > target 15 µs"]);
    t.deepEqual(
        v.checks.map((c) => [c.metric, c.statistic, c.measuredUs, c.target.op, c.target.value, c.pass]),
        [
            ["timer.avgUs", "avg", 4, "<=", 5, true],
            ["timer.maxUs", "max", 8032, "<=", 15, false],
        ],
    );
});

test("the ≤ boundary passes; the strict < boundary fails with its own wording", (t) => {
    t.true(judge([{ guest: "vnf-a", result: withMax(15) }], SEED).pass);
    t.false(judge([{ guest: "vnf-a", result: withMax(16) }], SEED).pass);
    // CPU 2's Max Noise column (17 µs) set to exactly 20 µs.
    const raw = fixture("rtla-6.1-osnoise-top.txt");
    const at20Text = raw.replace("99.96252          17            8", "99.96252          20            8");
    t.not(at20Text, raw);
    const at20 = parseOsnoiseTop(at20Text);
    const v = judge([{ guest: "vnf-a", result: at20 }], SEED);
    t.deepEqual(v.failures, ["cumulative preemption in 1 ms on vnf-a: max 20 µs ≥ target < 20 µs"]);
});

test("interrupt latency and preemption: pass and fail messages in the same shape", (t) => {
    const good = judge(
        [
            { guest: "vnf-a", result: timerlat() },
            { guest: "vnf-a", result: quietNoise() },
        ],
        SEED,
    );
    t.true(good.pass, good.failures.join("; "));
    t.is(good.checks.find((c) => c.metric === "interrupt.maxUs")!.measuredUs, 14);
    const bad = judge([{ guest: "vnf-b", result: noisy() }], SEED);
    t.deepEqual(bad.failures, ["longest preemption on vnf-b: max 14 µs > target 10 µs", "cumulative preemption in 1 ms on vnf-b: max 25 µs ≥ target < 20 µs"]);
    t.deepEqual(
        bad.checks.map((c) => c.where),
        ["cpu 2 single", "cpu 2 per period"],
    );
    const strictIrq = resolveTargets({ interrupt: { maxUs: 5 } }, "nfv-testpod:targets");
    t.deepEqual(judge([{ guest: "vnf-a", result: timerlat() }], strictIrq).failures, ["interrupt latency on vnf-a: max 14 µs > target 5 µs"]);
});

test("this host's real cyclictest run fails the seed targets and passes loose ones", (t) => {
    const seed = judge([{ guest: "host", result: hostTimer() }], SEED);
    t.deepEqual(seed.failures, ["timer latency on host: avg 19.73 µs > target 5 µs", "timer latency on host: max 1422 µs > target 15 µs"]);
    t.true(judge([{ guest: "host", result: hostTimer() }], LOOSE).pass);
    const oslat = judge([{ guest: "host", result: parseOslatText(fixture("oslat-2.4.txt")) }], LOOSE);
    t.true(oslat.pass);
    t.deepEqual(judge([{ guest: "host", result: parseOslatText(fixture("oslat-2.4.txt")) }], SEED).failures, [
        "longest preemption (oslat) on host: max 51844 µs > target 10 µs",
    ]);
});

test("no samples is a failure even at loose targets, once per probe and figure", (t) => {
    const none = parseCyclictestJson(fixture("cyclictest-2.4-nosamples.json"));
    const v = judge([{ guest: "vnf-a", result: none }], LOOSE);
    t.false(v.pass);
    t.deepEqual(v.failures, ["timer latency on vnf-a: no samples (cyclictest printed no measurements)"]);
    t.true(v.checks.every((c) => !c.pass && c.measuredUs === null));
    const dashN = parseCyclictestRun({ stdout: fixture("cyclictest-2.4-dash-n.stdout.txt") });
    t.regex(judge([{ guest: "vnf-a", result: dashN }], LOOSE).failures[0], /^timer latency on vnf-a: no samples \(cyclictest printed its usage text/);
});

test("gate: enforce throws GateError carrying the verdict; report never throws", (t) => {
    const results: GuestProbeResult[] = [{ guest: "vnf-a", result: withMax(8032) }];
    const enforced = judge(results, SEED);
    t.is(enforced.gate, "enforce");
    const err = t.throws(() => applyGate(enforced), { instanceOf: GateError });
    t.is(err!.verdict, enforced);
    t.regex(err!.message, /1 of 2 checks missed their target\n {2}- timer latency on vnf-a: max 8032 µs > target 15 µs/);
    const reported = judge(results, SEED, { gate: "report" });
    t.false(reported.pass);
    t.notThrows(() => applyGate(reported));
    t.notThrows(() => applyGate(judge([{ guest: "vnf-a", result: parseCyclictestJson(fixture("cyclictest-2.4-nosamples.json")) }], SEED, { gate: "report" })));
    t.notThrows(() => applyGate(judge([{ guest: "vnf-a", result: withMax(10) }], SEED)));
});

/** A verdict with every probe kind, passes and failures, two guests. */
function mixedVerdict() {
    return judge(
        [
            { guest: "vnf-a", result: hostTimer() },
            { guest: "vnf-a", result: timerlat() },
            { guest: "vnf-b", result: noisy() },
            { guest: "vnf-b", result: parseOslatText(fixture("oslat-2.4.txt"), { command: "oslat -c 1 -D 3 -f 95 -z" }) },
            { guest: "vnf-c", result: parseCyclictestJson(fixture("cyclictest-2.4-nosamples.json")) },
        ],
        SEED,
        { gate: "report" },
    );
}

test("JSON report: structured, complete, and round-trips", (t) => {
    const v = mixedVerdict();
    const doc = JSON.parse(jsonReport(v, { generatedAt: "2026-11-25T19:00:00Z" }));
    t.is(doc.schema, JSON_REPORT_SCHEMA);
    t.is(doc.pass, false);
    t.is(doc.checks.length, v.checks.length);
    t.deepEqual(doc.failures, v.failures);
    t.is(doc.runs[0].version, "2.40");
    t.is(doc.runs[0].series[0].stats.histogram.length, 24);
});

test("Markdown report: one table row per guest × probe × metric, marks, versions and commands", (t) => {
    const v = mixedVerdict();
    const md = markdownReport(v);
    const table = md
        .split("\n### ")[0]
        .split("\n")
        .filter((l) => l.startsWith("| ") && !l.startsWith("| Guest"));
    t.is(table.length, v.checks.length);
    t.is(table.filter((l) => l.endsWith("| ❌ fail |")).length, v.checks.filter((c) => !c.pass).length);
    t.true(md.includes("| vnf-a | cyclictest | timer latency (max) | 1422 µs | 2997 | thread 0 (cpu 1) | ≤ 15 µs | ❌ fail |"));
    t.true(md.includes("| vnf-a | timerlat | interrupt latency (max) | 14 µs | 5000 | IRQ-002 | ≤ 20 µs | ✅ pass |"));
    t.true(md.includes("| vnf-b | osnoise | cumulative preemption in 1 ms (max) | 25 µs | 4998 | cpu 2 per period | < 20 µs | ❌ fail |"));
    t.true(md.includes("| vnf-c | cyclictest | timer latency (avg) | no samples | — |  | ≤ 5 µs | ❌ fail |"));
    t.true(md.includes("- timer latency on vnf-a: max 1422 µs > target 15 µs"));
    t.true(md.includes("| vnf-a | cyclictest | 2.40 | `cyclictest -m -p 95 --policy=fifo -a 1 -t 1 -i 1000 -D 3 -q -h 400 --json=/tmp/probecap/cth.json` |"));
    // p99.9 of the 400 µs histogram with 4 overflows in 2997 cycles: beyond the range, never the max.
    t.true(md.includes("| vnf-a | cyclictest | thread 0 (cpu 1) | 2997 | — | 27 µs | > 400 µs (beyond the histogram range) | 1422 µs |"));
    t.regex(md, /^## Probes: ❌ 7 of 8 checks failed \(gate: report, not enforced\)/);
});

function xmllint(args: string[]): { ok: boolean; output: string } {
    try {
        return { ok: true, output: execFileSync("xmllint", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
    } catch (err) {
        const e = err as { stderr?: string };
        return { ok: false, output: e.stderr ?? String(err) };
    }
}

test("JUnit report validates against the JUnit XSD and carries one testcase per metric", (t) => {
    const v = mixedVerdict();
    const dir = mkdtempSync(join(tmpdir(), "junit-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "probes.xml");
    writeFileSync(file, junitReport(v));
    const res = xmllint(["--noout", "--schema", join(DIR, "junit.xsd"), file]);
    t.true(res.ok, res.output);
    const xml = readFileSync(file, "utf8");
    t.is((xml.match(/<testsuite /g) ?? []).length, 3);
    t.is((xml.match(/<testcase /g) ?? []).length, v.checks.length);
    t.is((xml.match(/<failure /g) ?? []).length, v.checks.filter((c) => !c.pass).length);
    t.true(xml.includes('message="cumulative preemption in 1 ms on vnf-b: max 25 µs ≥ target &lt; 20 µs"'));
    t.true(xml.includes('<property name="cyclictest.version" value="2.40"/>'));
    // A suite with a hostile guest name still validates.
    writeFileSync(file, junitReport(judge([{ guest: `a<b>&"c'`, result: withMax(99) }], SEED)));
    t.true(xmllint(["--noout", "--schema", join(DIR, "junit.xsd"), file]).ok);
});

test("SVG histograms: one per guest × probe, well-formed XML, target line, log axis, escaped text", (t) => {
    const v = mixedVerdict();
    const files = histogramSvgs(v);
    t.deepEqual(
        files.map((f) => f.fileName),
        // timerlat's IRQ and thread latencies get a chart each.
        ["vnf-a-cyclictest.svg", "vnf-a-timerlat.svg", "vnf-a-timerlat-thread.svg", "vnf-b-osnoise.svg", "vnf-b-oslat.svg", "vnf-c-cyclictest.svg"],
    );
    const dir = mkdtempSync(join(tmpdir(), "svg-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    for (const f of files) {
        writeFileSync(join(dir, f.fileName), f.svg);
        const res = xmllint(["--noout", join(dir, f.fileName)]);
        t.true(res.ok, `${f.fileName}: ${res.output}`);
    }
    const ct = files[0].svg;
    t.true(ct.includes("target ≤ 15 µs"));
    t.regex(ct, /stroke="#c62828"/);
    t.true(ct.includes("samples (log scale)") && ct.includes("latency (µs)"));
    // 24 non-empty buckets, one bar each; 4 overflows noted, not drawn.
    t.is((ct.match(/fill="#4a78b5"/g) ?? []).length, 24);
    t.true(ct.includes("4 over range (not drawn)"));
    t.true(files[5].svg.includes("cyclictest printed no measurements"));
    // The timerlat thread has no target of its own; its chart shows the timer latency target it is cross-checked with.
    t.true(files[2].svg.includes("target ≤ 15 µs"), "vnf-a-timerlat-thread.svg shows the timer target");
    const hostile = histogramSvg({ title: `<script>&"'`, stats: hostTimer().series[0].stats });
    t.true(hostile.includes("&lt;script&gt;&amp;&quot;&apos;"));
    writeFileSync(join(dir, "h.svg"), hostile);
    t.true(xmllint(["--noout", join(dir, "h.svg")]).ok);
});
