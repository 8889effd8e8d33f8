/**
 * Parsers against real captured output (tests/fixtures/probes/*.meta.json
 * says which command and tool version produced each file). Expected figures
 * are read off the raw text here, independently of the parsers.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
    CYCLICTEST_NO_MEASUREMENTS,
    CYCLICTEST_PRINTED_USAGE,
    OSNOISE_NO_SAMPLES,
    ProbeParseError,
    parseCyclictestHistogram,
    parseCyclictestJson,
    parseCyclictestRun,
    parseOslatJson,
    parseOslatText,
    parseOsnoiseTop,
    parseTimerlatHist,
    percentileUs,
    percentile,
    formatPercentile,
} from "../../components/probes";

const DIR = join(__dirname, "..", "fixtures", "probes");
const fixture = (name: string) => readFileSync(join(DIR, name), "utf8");
const meta = (name: string) => JSON.parse(fixture(`${name}.meta.json`)) as { command: string; version: string; origin: string };

/** The numbers after a footer label in cyclictest's histogram text, e.g. "# Max Latencies: 01422". */
function footer(text: string, label: string): number[] {
    const line = text.split("\n").find((l) => l.startsWith(`# ${label}:`));
    if (!line) throw new Error(`fixture has no "# ${label}:" line`);
    return line
        .slice(label.length + 3)
        .trim()
        .split(/\s+/)
        .map(Number);
}

test("cyclictest JSON: figures, version and command come from the file, trailing-colon keys included", (t) => {
    const raw = fixture("cyclictest-2.4-1thread.json");
    const r = parseCyclictestJson(raw);
    const doc = JSON.parse(raw);
    const thread = doc.thread["0"];
    t.is(r.version, "2.40");
    t.is(r.version, doc["rt_test_version:"]);
    t.is(r.command, meta("cyclictest-2.4-1thread").command);
    t.is(r.noSamples, null);
    t.is(r.series.length, 1);
    const s = r.series[0];
    t.is(s.cpu, 1);
    t.is(s.stats.samples, thread.cycles);
    t.is(s.stats.minUs, 10);
    t.is(s.stats.avgUs, 19.73);
    t.is(s.stats.maxUs, 1422);
    const binned = Object.values(thread.histogram as Record<string, number>).reduce((a, b) => a + b, 0);
    // The JSON histogram leaves overflows out; the parser counts them from cycles.
    t.is(s.stats.overflow, thread.cycles - binned);
    t.deepEqual(
        s.stats.histogram.map((b) => [b.us, b.count]),
        Object.entries(thread.histogram as Record<string, number>).map(([us, n]) => [Number(us), n]),
    );
});

test("cyclictest 2.4 histogram text: per-thread figures match the footer of the raw output", (t) => {
    const raw = fixture("cyclictest-2.4-2threads.hist.txt");
    const r = parseCyclictestHistogram(raw, { command: meta("cyclictest-2.4-2threads").command });
    const totals = footer(raw, "Total");
    const overflows = footer(raw, "Histogram Overflows");
    t.is(r.series.length, 2);
    r.series.forEach((s, i) => {
        t.is(s.stats.samples, totals[i] + overflows[i]);
        t.is(s.stats.overflow, overflows[i]);
        t.is(s.stats.minUs, footer(raw, "Min Latencies")[i]);
        t.is(s.stats.avgUs, footer(raw, "Avg Latencies")[i]);
        t.is(s.stats.maxUs, footer(raw, "Max Latencies")[i]);
    });
    t.is(r.command, meta("cyclictest-2.4-2threads").command);
});

test("cyclictest: the JSON file and the stdout histogram of one run agree", (t) => {
    const fromJson = parseCyclictestJson(fixture("cyclictest-2.4-2threads.json"));
    const fromText = parseCyclictestHistogram(fixture("cyclictest-2.4-2threads.hist.txt"));
    t.deepEqual(
        fromJson.series.map((s) => [s.stats.samples, s.stats.minUs, s.stats.maxUs, s.stats.overflow, s.stats.p99Us]),
        fromText.series.map((s) => [s.stats.samples, s.stats.minUs, s.stats.maxUs, s.stats.overflow, s.stats.p99Us]),
    );
    t.deepEqual(
        fromJson.series.map((s) => s.cpu),
        [0, 1],
    );
});

test("cyclictest p99 read off the raw rows: the bucket where the running count reaches 99 % of all cycles", (t) => {
    const raw = fixture("cyclictest-2.4-1thread.hist.txt");
    const rows = raw
        .split("\n")
        .filter((l) => /^\d{6} /.test(l))
        .map((l) => l.split(/\s+/).map(Number));
    const all = footer(raw, "Total")[0] + footer(raw, "Histogram Overflows")[0];
    let seen = 0;
    const p99 = rows.find(([, n]) => (seen += n) >= Math.ceil(all * 0.99))![0];
    const r = parseCyclictestHistogram(raw);
    t.is(r.series[0].stats.p99Us, p99);
    // 4 overflows in 2997 cycles are more than 0.1 %: p99.9 lies beyond the histogram. It is reported as
    // "> 400 µs" (the -h range), never as the max, which is one sample, not a percentile.
    t.is(r.series[0].stats.p999Us, null);
    t.true(r.series[0].stats.p999BeyondRange);
    t.is(r.series[0].stats.rangeUs, 400);
    t.is(formatPercentile(r.series[0].stats, "p999"), "> 400 µs (beyond the histogram range)");
});

test("cyclictest 2.7 histogram (synthetic: empty buckets omitted, no '# Total:') parses like 2.4", (t) => {
    const raw = fixture("cyclictest-2.7-synthetic.hist.txt");
    t.is(meta("cyclictest-2.7-synthetic").origin, "synthetic");
    t.false(raw.includes("# Total"));
    const r = parseCyclictestHistogram(raw);
    const rows = raw
        .split("\n")
        .filter((l) => /^\d{6} /.test(l))
        .map((l) => l.split(/\s+/).map(Number));
    t.is(r.series.length, 2);
    r.series.forEach((s, i) => {
        t.is(
            s.stats.samples,
            rows.reduce((n, row) => n + row[1 + i], 0),
        );
        t.is(s.stats.maxUs, footer(raw, "Max Latencies")[i]);
        t.is(s.stats.histogram[s.stats.histogram.length - 1].us, footer(raw, "Max Latencies")[i]);
    });
    // Thread 0 is the seed's guest histogram shape: 99 % of samples at 10 µs or below.
    t.is(r.series[0].stats.p99Us, 10);
});

test("cyclictest with zero cycles: -nan in the JSON is survived and reported as no samples", (t) => {
    const raw = fixture("cyclictest-2.4-nosamples.json");
    t.true(raw.includes("-nan"));
    const r = parseCyclictestJson(raw);
    t.is(r.noSamples, CYCLICTEST_NO_MEASUREMENTS);
    t.is(r.series[0].stats.samples, 0);
    // min 1000000 in the file is the interval, not a measurement.
    t.is(r.series[0].stats.minUs, null);
    t.is(parseCyclictestHistogram(fixture("cyclictest-2.4-nosamples.hist.txt")).noSamples, CYCLICTEST_NO_MEASUREMENTS);
});

test("cyclictest -n: usage text with exit status 0 is no samples, not a pass", (t) => {
    const m = meta("cyclictest-2.4-dash-n");
    t.is(m.command, "cyclictest -n -D 1 -q");
    const r = parseCyclictestRun({ stdout: fixture("cyclictest-2.4-dash-n.stdout.txt") }, { command: m.command });
    t.is(r.noSamples, CYCLICTEST_PRINTED_USAGE);
    t.is(r.series.length, 0);
    t.is(r.version, "2.40");
});

test("cyclictest run: JSON preferred when present, stdout histogram otherwise", (t) => {
    const stdout = fixture("cyclictest-2.4-1thread.hist.txt");
    t.is(parseCyclictestRun({ stdout, json: fixture("cyclictest-2.4-1thread.json") }).series[0].stats.avgUs, 19.73);
    t.is(parseCyclictestRun({ stdout }).series[0].stats.avgUs, 19);
});

test("cyclictest JSON without -h has no histogram and no percentiles, but its figures", (t) => {
    const r = parseCyclictestJson(fixture("cyclictest-2.4-nohist.json"));
    t.deepEqual(r.series[0].stats.histogram, []);
    t.is(r.series[0].stats.p99Us, null);
    t.is(r.series[0].stats.maxUs, 7167);
});

test("unparseable output throws and quotes its first lines", (t) => {
    const e1 = t.throws(() => parseCyclictestJson("Segmentation fault\nsecond line\n"), { instanceOf: ProbeParseError });
    t.regex(e1!.message, /cannot parse cyclictest output: the --json file is not JSON/);
    t.regex(e1!.message, /\| Segmentation fault\n {2}\| second line/);
    const e2 = t.throws(() => parseCyclictestHistogram("cyclictest: command not found\n"), { instanceOf: ProbeParseError });
    t.regex(e2!.message, /\| cyclictest: command not found/);
    const e3 = t.throws(() => parseCyclictestHistogram("# Histogram\n000001 000005\n000002 000003\n"), { instanceOf: ProbeParseError });
    t.regex(e3!.message, /footer \(output cut short\?\)/);
});

test("oslat text and JSON: figures match the raw report", (t) => {
    const text = fixture("oslat-2.4.txt");
    const r = parseOslatText(text, { command: meta("oslat-2.4").command });
    t.is(r.version, "2.40");
    t.is(r.series.length, 1);
    const s = r.series[0];
    t.is(s.cpu, 1);
    t.is(s.stats.maxUs, Number(/Maximum:\s+(\d+)/.exec(text)![1]));
    t.is(s.stats.minUs, Number(/Minimum:\s+(\d+)/.exec(text)![1]));
    const counts = [...text.matchAll(/^\s*\d+ \(us\):\s+(\d+)/gm)].map((m) => Number(m[1]));
    t.is(
        s.stats.samples,
        counts.reduce((a, b) => a + b, 0),
    );
    const j = parseOslatJson(fixture("oslat-2.4.json"));
    t.is(j.command, meta("oslat-2.4-quiet").command);
    t.is(j.series[0].stats.maxUs, 51834);
    t.is(j.series[0].stats.avgUs, 1.001373);
    // The quiet text report of the same run says the same.
    t.is(parseOslatText(fixture("oslat-2.4-quiet.txt")).series[0].stats.samples, j.series[0].stats.samples);
});

test("rtla timerlat hist (hand-written 6.1 layout): per-CPU IRQ and thread columns", (t) => {
    const m = meta("rtla-6.1-timerlat-hist");
    t.is(m.origin, "hand-written");
    const raw = fixture("rtla-6.1-timerlat-hist.txt");
    const r = parseTimerlatHist(raw, { command: m.command, version: m.version });
    t.deepEqual(
        r.series.map((s) => `${s.kind}:${s.cpu}`),
        ["irq:1", "thread:1", "irq:2", "thread:2"],
    );
    const row = (label: string) =>
        raw
            .split("\n")
            .find((l) => l.startsWith(label))!
            .slice(6)
            .trim()
            .split(/\s+/)
            .map(Number);
    t.deepEqual(
        r.series.map((s) => s.stats.maxUs),
        row("max:"),
    );
    t.deepEqual(
        r.series.map((s) => s.stats.samples),
        row("count:"),
    );
    t.deepEqual(
        r.series.map((s) => s.stats.overflow),
        row("over:"),
    );
    t.is(r.version, "6.1");
    t.is(r.noSamples, null);
});

test("rtla timerlat: a run that could not start (real output on this host) throws with rtla's words", (t) => {
    const err = t.throws(() => parseTimerlatHist(fixture("rtla-6.1-no-tracer.stderr.txt")), { instanceOf: ProbeParseError });
    t.regex(err!.message, /\| Failed to apply CPUs config\n {2}\| Could not apply config/);
});

test("rtla osnoise top (hand-written 6.1 layout): colour escapes stripped, max single and max per period per CPU", (t) => {
    const raw = fixture("rtla-6.1-osnoise-top-noisy.txt");
    t.true(raw.includes("\x1b[2;30;47m"));
    const r = parseOsnoiseTop(raw, { version: "6.1" });
    const rows = raw
        .split("\n")
        .filter((l) => /^\s+\d+ #/.test(l))
        .map((l) => l.trim().split(/\s+/));
    // Columns: CPU #periods runtime noise %avail maxnoise maxsingle hw nmi irq softirq thread
    t.deepEqual(
        r.series.filter((s) => s.kind === "single-noise").map((s) => s.stats.maxUs),
        rows.map((c) => Number(c[6])),
    );
    t.deepEqual(
        r.series.filter((s) => s.kind === "period-noise").map((s) => s.stats.maxUs),
        rows.map((c) => Number(c[5])),
    );
    t.deepEqual(
        r.series.filter((s) => s.kind === "period-noise").map((s) => s.stats.samples),
        rows.map((c) => Number(c[1].slice(1))),
    );
});

test("rtla osnoise top: the last screen wins when -q was forgotten; no CPU rows means no samples", (t) => {
    const frame = fixture("rtla-6.1-osnoise-top.txt");
    const noisy = fixture("rtla-6.1-osnoise-top-noisy.txt");
    const redrawn = `\x1bc${noisy}\x1bc${frame}`;
    t.deepEqual(
        parseOsnoiseTop(redrawn).series.map((s) => s.stats.maxUs),
        parseOsnoiseTop(frame).series.map((s) => s.stats.maxUs),
    );
    const headerOnly = frame.split("\n").slice(0, 3).join("\n") + "\n";
    t.is(parseOsnoiseTop(headerOnly).noSamples, OSNOISE_NO_SAMPLES);
});

test("percentiles: nearest rank, overflows above every bucket", (t) => {
    const h = [
        { us: 1, count: 98 },
        { us: 2, count: 1 },
        { us: 3, count: 1 },
    ];
    t.is(percentileUs(h, 0, 0.99), 2);
    t.is(percentileUs(h, 0, 0.999), 3);
    t.is(percentileUs([{ us: 1, count: 990 }], 10, 0.99), 1);
    // The rank falls among the overflows: beyond the range, never the max.
    t.is(percentileUs([{ us: 1, count: 990 }], 10, 0.999), null);
    t.deepEqual(percentile([{ us: 1, count: 990 }], 10, 0.999), { kind: "beyond-range" });
    t.is(percentileUs([], 0, 0.99), null);
});
