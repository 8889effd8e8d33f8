/**
 * Long runs: a probe longer than a chunk runs as several tool runs merged
 * into one result, with an interim line after each; an abort (SIGINT of the
 * CLI, a cancelled engine) stops the tool in the guest and keeps what it
 * measured, marked partial, in the JSON and Markdown reports. The guest agent
 * is replaced by a recorder answering with real captured output; the real
 * guest and a real SIGINT are in tests/kat/interrupted.test.ts.
 */
import test from "ava";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GuestExecResult } from "../../components/libvirt/guestAgent";
import { runProbePipeline } from "../../components/probes/pipeline";
import { checkMigrationSettings } from "../../components/probes/kinds/migration/config";
import { chunkDurations, interimFigures, mergeResults, runProbeSuite, type ProbeGuest } from "../../components/probes/kinds/latency/run";
import { parseCyclictestJson } from "../../components/probes/kinds/latency/parse";
import { DEFAULT_PROBE_SUITE } from "../../components/probes/suiteConfig";
import { DEFAULT_TARGETS } from "../../components/probes/targets";

const fixture = (name: string) => readFileSync(`tests/fixtures/probes/${name}`, "utf8");
const vnf: ProbeGuest = { guest: "vnf", uri: "qemu:///system", domain: "d-vnf", rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0] };
const reply = (stdout: string, exitCode = 0): GuestExecResult => ({ exitCode, stdout, stderr: "", truncated: false });
const [migrateVnf] = checkMigrationSettings([{ guest: "vnf", to: "lab-2" }], "t").settings;
const cyclictestReply = () => reply(`# /dev/cpu_dma_latency set to 0us\n@@nfvkit-json@@\n${fixture("cyclictest-2.4-1thread.json")}`);

test("chunks: at most 40 s each, as even as whole seconds allow, summing to the duration", (t) => {
    t.deepEqual(chunkDurations(6), [6]);
    t.deepEqual(chunkDurations(40), [40]);
    t.deepEqual(chunkDurations(60), [30, 30]);
    t.deepEqual(chunkDurations(125), [32, 31, 31, 31]);
    t.deepEqual(chunkDurations(3600).length, 90);
    t.is(
        chunkDurations(3599).reduce((a, b) => a + b, 0),
        3599,
    );
    t.deepEqual(chunkDurations(10, 4), [4, 3, 3]);
});

test("merged chunks: samples add up, the worst max and the summed histogram stay exact", (t) => {
    const one = parseCyclictestJson(fixture("cyclictest-2.4-1thread.json"));
    const two = mergeResults(one, one);
    const [a, b] = [one.series[0].stats, two.series[0].stats];
    t.is(b.samples, 2 * a.samples);
    t.is(b.maxUs, a.maxUs);
    t.is(b.overflow, 2 * a.overflow);
    t.deepEqual(
        b.histogram.map((x) => x.count),
        a.histogram.map((x) => 2 * x.count),
    );
    t.is(interimFigures(two), `timer max 1422 µs over ${2 * a.samples} samples`);
});

test("a 100 s probe runs as two 50 s chunks with an interim line after each", async (t) => {
    const scripts: string[] = [];
    const lines: string[] = [];
    const shell = async (_g: ProbeGuest, script: string) => {
        scripts.push(script);
        return script.includes("--help") ? reply("cyclictest V 2.40\n") : cyclictestReply();
    };
    const run = await runProbeSuite([vnf], { ...DEFAULT_PROBE_SUITE, probes: ["cyclictest"], durationSec: 100 }, DEFAULT_TARGETS, shell, (l) => lines.push(l), {
        chunkSec: 50,
    });
    t.deepEqual(
        scripts.filter((s) => s.includes("cyclictest -m")).map((s) => /-D (\d+)/.exec(s)![1]),
        ["50", "50"],
    );
    t.regex(lines.join("\n"), /vnf: cyclictest chunk 1\/2 \(50 s\) done in .*; so far 50 of 100 s: timer max 1422 µs over 2997 samples/);
    t.regex(lines.join("\n"), /chunk 2\/2 \(50 s\) done .*; so far 100 of 100 s: timer max 1422 µs over 5994 samples/);
    const s = run.results[0].result.series[0].stats;
    t.is(s.samples, 5994);
    t.is(s.expectedSamples, 100_000, "expected samples are the sum over chunks");
    t.is(run.partial, undefined);
    t.is(run.results[0].result.partial, undefined);
});

test("osnoise runs top, then hist with the histogram range; the hist series carries the buckets", async (t) => {
    const scripts: string[] = [];
    const shell = async (_g: ProbeGuest, script: string) => {
        scripts.push(script);
        if (script.includes("--help")) return reply("rtla version 6.1\n");
        if (script.includes("osnoise top")) return reply(fixture("rtla-6.1-guest-tcg-osnoise-top.txt"));
        return reply(fixture("rtla-6.1-guest-tcg-osnoise-hist-hog.txt"));
    };
    const run = await runProbeSuite([vnf], { ...DEFAULT_PROBE_SUITE, probes: ["osnoise"], durationSec: 6 }, DEFAULT_TARGETS, shell);
    const tools = scripts.filter((s) => s.startsWith("rm -f"));
    t.is(tools.length, 2);
    t.regex(tools[0], /rtla osnoise top -q -c 1 -p 1000 -r 1000 -d 6 /);
    t.regex(tools[1], /rtla osnoise hist -c 1 -p 1000 -r 1000 -d 6 -b 10 -E 100000 /);
    const series = run.results[0].result.series;
    t.deepEqual(
        series.map((s) => [s.kind, s.label, s.stats.histogram.length > 0, s.stats.expectedSamples]),
        [
            ["single-noise", "cpu 1 single", false, 6000],
            ["period-noise", "cpu 1 per period", false, 6000],
            // Noises come at no fixed rate: no expected count, so no false shortfall.
            ["single-noise", "cpu 1 single (hist)", true, null],
        ],
    );
});

test("an abort stops the tool in the guest, keeps what it printed, and marks the run partial in JSON and Markdown", async (t) => {
    const controller = new AbortController();
    const scripts: string[] = [];
    let release: () => void = () => undefined;
    const shell = async (_g: ProbeGuest, script: string) => {
        scripts.push(script);
        if (script.includes("--help")) return reply("cyclictest V 2.40\n");
        if (script.startsWith("kill -INT")) {
            release();
            return reply("");
        }
        // The second chunk "measures" until the guest's tool gets SIGINT, then prints its figures, as cyclictest does.
        if (scripts.filter((s) => s.includes("cyclictest -m")).length === 2) {
            setTimeout(() => controller.abort("interrupted by SIGINT"), 10);
            await new Promise<void>((r) => (release = r));
        }
        return cyclictestReply();
    };
    // Through the pipeline `npm run probe` and the ProbeSuite run, with the migration named after the latency probes.
    const dir = mkdtempSync(join(tmpdir(), "nfvkit-kat-partial-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const outcome = await runProbePipeline(
        {
            title: "t",
            guests: [vnf],
            guestIds: [],
            config: { ...DEFAULT_PROBE_SUITE, probes: ["cyclictest", "timerlat"], durationSec: 120, migration: [migrateVnf] }, // chunks of 40 s
            targets: DEFAULT_TARGETS,
            gate: "report",
            resultsDir: dir,
            notes: [],
            hosts: [],
            kinds: {},
        },
        { log: () => undefined, signal: controller.signal, guestShell: (_host, _domain, script) => shell(vnf, script) },
    );
    const run = outcome.verdict.sections.latency!;
    t.true(scripts.includes("kill -INT $(pidof cyclictest) 2>/dev/null; true"), "the guest's tool is told to stop and print");
    t.is(scripts.filter((s) => s.includes("cyclictest -m")).length, 2, "no chunk starts after the abort");
    t.false(
        scripts.some((s) => s.includes("rtla timerlat")),
        "no probe starts after the abort",
    );
    const result = run.results[0].result;
    t.is(result.series[0].stats.samples, 2 * 2997, "the interrupted chunk's samples are kept");
    t.is(result.series[0].stats.expectedSamples, null, "a cut-short chunk claims no expected count");
    t.like(result.partial, { reason: "interrupted by SIGINT", plannedSec: 120 });
    t.true(
        result.partial!.measuredSec >= 40 && result.partial!.measuredSec < 41,
        `${result.partial!.measuredSec} s: the first chunk and the moment of the cut`,
    );
    t.deepEqual(run.partial, { reason: "interrupted by SIGINT", measured: 1, skipped: 1 });

    t.deepEqual(outcome.ran, ["hostGate", "latency"], "the migration never starts after the abort");
    const { files } = outcome;
    const doc = JSON.parse(readFileSync(files.json, "utf8"));
    t.like(doc.partial, { reason: "interrupted by SIGINT", measured: 1, skipped: 1, cut: "latency", notRun: ["migration"] });
    t.like(doc.runs[0].partial, { reason: "interrupted by SIGINT", plannedSec: 120 });
    const md = readFileSync(files.markdown, "utf8");
    t.regex(md, /^> \*\*PARTIAL RUN \(interrupted by SIGINT\)\*\*: .*vnf cyclictest: 40 of 120 s.*1 probe run\(s\) never started; never started: migration/);
    t.regex(readFileSync(files.histograms[0], "utf8"), /partial: 40 of 120 s, interrupted by SIGINT/);
});

test("osnoise interrupted during top keeps top's figures and never starts hist", async (t) => {
    const controller = new AbortController();
    const scripts: string[] = [];
    let release: () => void = () => undefined;
    const shell = async (_g: ProbeGuest, script: string) => {
        scripts.push(script);
        if (script.includes("--help")) return reply("rtla version 6.1\n");
        if (script.startsWith("kill -INT")) {
            release();
            return reply("");
        }
        setTimeout(() => controller.abort("interrupted by SIGTERM"), 10);
        await new Promise<void>((r) => (release = r));
        return reply(fixture("rtla-6.1-guest-tcg-osnoise-top.txt"));
    };
    const run = await runProbeSuite([vnf], { ...DEFAULT_PROBE_SUITE, probes: ["osnoise"], durationSec: 6 }, DEFAULT_TARGETS, shell, () => undefined, {
        signal: controller.signal,
    });
    t.true(scripts.includes("kill -INT $(pidof rtla) 2>/dev/null; true"));
    t.false(
        scripts.some((s) => s.includes("osnoise hist")),
        "hist never starts",
    );
    const result = run.results[0].result;
    t.deepEqual(
        result.series.map((s) => s.label),
        ["cpu 1 single", "cpu 1 per period"],
    );
    t.like(result.partial, { reason: "interrupted by SIGTERM", plannedSec: 6 });
});
