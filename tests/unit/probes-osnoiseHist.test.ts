/**
 * `rtla osnoise hist` (issue 10, item 4: a histogram for osnoise too), read
 * from real captures in a kit guest under TCG: one with a 300 ms nfvkit-hog
 * burst and 1 ms buckets, one quiet with rtla's default 1 µs × 256 range.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { osnoiseHistCommand } from "../../components/probes/kinds/latency/commands";
import { ProblemListError } from "../../components/spec/problems";
import { parseOsnoiseHist, ProbeParseError } from "../../components/probes/kinds/latency/parse";

const fixture = (f: string) => readFileSync(join(__dirname, "..", "fixtures", "probes", f), "utf8");
const cfg = { cpus: "1", durationSec: 6, priority: 95, intervalUs: 1000 };

test("osnoise hist command: top's period and runtime, 10 µs buckets over 1 s (the default histogram range), no -q", (t) => {
    t.deepEqual(osnoiseHistCommand(cfg), ["rtla", "osnoise", "hist", "-c", "1", "-p", "1000", "-r", "1000", "-d", "6", "-b", "10", "-E", "100000"]);
    t.deepEqual(osnoiseHistCommand(cfg, { bucketUs: 10, entries: 500, fifoPriority: 95 }).slice(-6), ["-P", "f:95", "-b", "10", "-E", "500"]);
});

test("osnoise hist command refuses what rtla 6.1 refuses, naming the setting", (t) => {
    t.throws(() => osnoiseHistCommand(cfg, { entries: 10 }), { instanceOf: ProblemListError, message: /entries: .*Fix: give 11 to 9999998 buckets/ });
    t.throws(() => osnoiseHistCommand(cfg, { bucketUs: 0 }), { instanceOf: ProblemListError, message: /bucketUs: .*Fix: give 1 to 1000000 µs/ });
});

test("a 300 ms hog burst is the histogram's top bucket and its max, with every noise counted", (t) => {
    const r = parseOsnoiseHist(fixture("rtla-6.1-guest-tcg-osnoise-hist-hog.txt"), { version: "6.1", command: "rtla osnoise hist -c 1 -d 6 -b 1000 -E 1000" });
    t.is(r.noSamples, null);
    t.is(r.series.length, 1);
    const [s] = r.series;
    t.like(s, { kind: "single-noise", cpu: 1, label: "cpu 1 single (hist)" });
    t.like(s.stats, { samples: 4396, minUs: 0, avgUs: 125, maxUs: 300000, overflow: 0, p99Us: 0, p999Us: 50000 });
    t.deepEqual(s.stats.histogram.at(-1), { us: 300000, count: 1 });
    t.is(
        s.stats.histogram.reduce((n, b) => n + b.count, 0),
        4396,
    );
});

test("rtla's default range overflows under TCG: 27 noises over it, p99.9 is '> range', never the max", (t) => {
    const [s] = parseOsnoiseHist(fixture("rtla-6.1-guest-tcg-osnoise-hist-default.txt")).series;
    t.like(s.stats, { samples: 8429, maxUs: 50032, overflow: 27, p99Us: 76, p999Us: null, p999BeyondRange: true });
});

test("osnoise hist output without the Index header throws with the output quoted", (t) => {
    t.throws(() => parseOsnoiseHist("Failed to apply CPUs config\nCould not apply config\n"), {
        instanceOf: ProbeParseError,
        message: /rtla osnoise.*Index[\s\S]*Could not apply config/,
    });
});
