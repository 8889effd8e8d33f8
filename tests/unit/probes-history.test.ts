/**
 * The history of runs (history.jsonl), `--compare` and the median baseline,
 * on verdicts built from the real captures in tests/fixtures/probes through
 * each kind's parser and judge (tests/helpers/probeReportFixtures.ts): what a
 * line holds, how a torn line is skipped and named, the median of the last
 * accepted runs and what a regression against it does to a check, which run
 * a `--compare` reference names, and the changes it prints, word for word.
 */
import test from "ava";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { compareRuns, formatComparison, resolveRunRef, runFromHistory } from "../../components/probes/compare";
import {
    appendHistory,
    checkId,
    historyEntry,
    medianBaseline,
    median,
    parseHistory,
    readHistory,
    HISTORY_SCHEMA,
    type HistoryEntry,
    type HistoryRun,
} from "../../components/probes/history";
import { readBaseline } from "../../components/probes/kinds/latency";
import { judgeLatency } from "../../components/probes/kinds/latency/verdict";
import { jsonReport } from "../../components/probes/reports";
import { checkProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { fixtureVerdict, latencyResults, looseTargets, type CyclictestCapture } from "../helpers/probeReportFixtures";

const TCG: CyclictestCapture = "cyclictest-2.4-guest-tcg-h1000000"; // timer max 72154 µs, avg 952.15 µs
const TCG_OVERFLOW: CyclictestCapture = "cyclictest-2.4-guest-tcg-h1000-overflow"; // 222733 µs, avg 1018.61 µs
const HOST_1: CyclictestCapture = "cyclictest-2.4-1thread"; // 1422 µs, avg 19.73 µs
const HOST_2: CyclictestCapture = "cyclictest-2.4-2threads"; // 1918 µs, avg 25.82 µs

function entry(capture: CyclictestCapture, time: string, over: Partial<Pick<HistoryEntry, "partial" | "commit">> & { loose?: boolean } = {}): HistoryEntry {
    const verdict = fixtureVerdict({ capture, targets: over.loose === false ? undefined : looseTargets() });
    return historyEntry(verdict, { time, commit: over.commit ?? null, title: "nfv-testpod/lab", partial: over.partial ?? false });
}

function tempDir(t: { teardown(fn: () => void): void }): string {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-history-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
}

const figure = (run: Pick<HistoryEntry, "checks">, id: string) => run.checks.find((c) => c.id === id)?.figure;
const TIMER_MAX = "kat/cyclictest/timer.maxUs/max/timer latency";

test("a history line: commit, time, hosts' kernel and accelerator, gate, pass, and each check's id, figure, unit and target", (t) => {
    const e = entry(TCG, "2026-05-01T02:00:00.000Z", { commit: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b" });
    t.like(e, {
        schema: HISTORY_SCHEMA,
        time: "2026-05-01T02:00:00.000Z",
        commit: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
        gate: "report",
        pass: true,
        partial: false,
    });
    t.deepEqual(e.hosts, [{ host: "local", kernel: "6.1.0-37-amd64", accel: "tcg" }]);
    t.deepEqual(
        e.checks.find((c) => c.id === TIMER_MAX),
        {
            id: TIMER_MAX,
            guest: "kat",
            probe: "cyclictest",
            metric: "timer.maxUs",
            name: "timer latency",
            statistic: "max",
            figure: 72154,
            unit: "us",
            target: { op: "<=", value: 1_000_000 },
            pass: true,
            samples: 6183,
        },
    );
    // The two moves of one migration have the same guest and metric: the name keeps their ids apart.
    t.deepEqual(
        e.checks.filter((c) => c.metric === "migration.downtimeMs").map((c) => c.id),
        [
            "vnf/migration/migration.downtimeMs/max/migration downtime of vnf (lab-1 → lab-2)",
            "vnf/migration/migration.downtimeMs/max/migration downtime of vnf (lab-2 → lab-1)",
        ],
    );
    t.is(new Set(e.checks.map((c) => c.id)).size, e.checks.length, "every id is unique");
    // Stable: the same figures of another run have the same ids.
    t.deepEqual(
        entry(HOST_1, "2026-05-02T02:00:00.000Z").checks.map((c) => c.id),
        e.checks.map((c) => c.id),
    );
    t.is(
        checkId({ guest: "kat", probe: "oslat", metric: "preemption.maxSingleUs", statistic: "max", name: "longest preemption (oslat)" }),
        "kat/oslat/preemption.maxSingleUs/max/longest preemption (oslat)",
    );
});

test("appended runs read back in order, numbered; a torn line is skipped and named, and the next append stays whole", async (t) => {
    const file = path.join(tempDir(t), "history.jsonl");
    t.deepEqual(await readHistory(file), { runs: [], skipped: [] }, "no file: the stack's first run");
    await appendHistory(file, entry(TCG, "2026-05-01T02:00:00.000Z"));
    // A run killed while writing its line.
    appendFileSync(file, '{"schema":"nfv-testpod/probe-history@1","time":"2026-05-0');
    await appendHistory(file, entry(HOST_1, "2026-05-03T02:00:00.000Z"));
    appendFileSync(file, '{"schema":"something-else@1","time":"x","checks":[]}\n');
    const { runs, skipped } = await readHistory(file);
    t.deepEqual(
        runs.map((r) => [r.index, r.time, figure(r, TIMER_MAX)]),
        [
            [1, "2026-05-01T02:00:00.000Z", 72154],
            [2, "2026-05-03T02:00:00.000Z", 1422],
        ],
    );
    t.deepEqual(skipped, [
        "history.jsonl line 2: not JSON (a run cut off while writing?), skipped",
        "history.jsonl line 4: not a nfv-testpod/probe-history@1 line, skipped",
    ]);
    t.is(readFileSync(file, "utf8").split("\n").length, 5, "four lines and the final newline");
});

test("median baseline: per figure, the median of the last N accepted runs; failed and partial runs are not accepted", (t) => {
    const lines = [
        entry(TCG_OVERFLOW, "2026-05-01T02:00:00.000Z"), // #1: accepted, but older than the last 3
        entry(TCG, "2026-05-02T02:00:00.000Z"), // #2
        entry(HOST_2, "2026-05-03T02:00:00.000Z", { loose: false }), // #3: failed the seed targets, not accepted
        entry(HOST_1, "2026-05-04T02:00:00.000Z"), // #4
        entry(TCG_OVERFLOW, "2026-05-05T02:00:00.000Z", { partial: true }), // #5: cut short, not accepted
        entry(HOST_2, "2026-05-06T02:00:00.000Z"), // #6
    ];
    const { runs } = parseHistory(lines.map((l) => JSON.stringify(l)).join("\n") + "\n", "history.jsonl");
    const b = medianBaseline(runs, 3, "results/lab/history.jsonl");
    t.is(b.source, "median of the last 3 accepted run(s) of results/lab/history.jsonl (#2, #4, #6)");
    const of = (metric: string) => b.checks.find((c) => c.guest === "kat" && c.probe === "cyclictest" && c.metric === metric)?.measuredUs;
    t.is(of("timer.maxUs"), 1918, "median of 72154, 1422 and 1918");
    t.is(of("timer.avgUs"), 25.82, "median of 952.15, 19.73 and 25.82");
    t.is(
        medianBaseline(runs, 2, "h").checks.find((c) => c.metric === "timer.maxUs")?.measuredUs,
        (1422 + 1918) / 2,
        "an even count: the mean of the middle two",
    );
    t.is(medianBaseline(runs, 10, "h").source, "median of the last 4 accepted run(s) of h (#1, #2, #4, #6; 10 asked)");
    const none = medianBaseline(runs.slice(2, 3), 5, "h");
    t.deepEqual(none, { source: "h: no accepted run yet (of the last 5 asked), nothing compared", checks: [] });
    t.is(median([3, 1, 2]), 2);
    t.throws(() => median([]));
});

test("a median baseline judges this run's figures: worse by more than the factor fails the check, with the median named", async (t) => {
    const dir = tempDir(t);
    for (const [capture, day] of [
        [HOST_1, "01"],
        [HOST_2, "02"],
        [HOST_1, "03"],
    ] as const) {
        await appendHistory(path.join(dir, "history.jsonl"), entry(capture, `2026-05-${day}T02:00:00.000Z`));
    }
    // The way the latency kind reads it: the stack's own history in its results folder.
    const baseline = await readBaseline({ history: 3 }, dir);
    t.regex(baseline.source, /^median of the last 3 accepted run\(s\) of .*history\.jsonl \(#1, #2, #3\)$/);
    const judged = judgeLatency(latencyResults(TCG), looseTargets(), { baseline, regressionFactor: 5 });
    const max = judged.checks.find((c) => c.metric === "timer.maxUs")!;
    t.false(max.pass, "72154 µs against a median of 1422 µs: 50.7× worse, inside the loose target");
    t.is(max.message, "timer latency on kat: max 72154 µs regressed 50.7× against the baseline 1422 µs (limit 5×, +4974.1 % against the baseline 1422 µs)");
    // A history the stack names that is not there is an error, never an empty baseline.
    await t.throwsAsync(() => readBaseline({ history: 3, file: path.join(dir, "nope.jsonl") }, dir), {
        message: `probe settings has 1 problem:\nnfv-testpod:probes.baseline.file: names a history that does not exist (got ${JSON.stringify(path.join(dir, "nope.jsonl"))}). Fix: name the history.jsonl of a stack that has run its probes, or leave file out for this stack's own`,
    });
});

test("baseline: { history: N } is checked with the other probe settings, every problem at its path", (t) => {
    t.deepEqual(checkProbeSuiteConfig({ baseline: { history: 5 } }).config?.baseline, { history: 5 });
    t.deepEqual(checkProbeSuiteConfig({ baseline: { history: 3, file: "results/main/history.jsonl" } }).config?.baseline, {
        history: 3,
        file: "results/main/history.jsonl",
    });
    t.is(checkProbeSuiteConfig({ baseline: "results/main/probes.json" }).config?.baseline, "results/main/probes.json");
    const { problems } = checkProbeSuiteConfig({ baseline: { histroy: 5, file: 3 }, durationSec: 0 }, "nfv-testpod:probes");
    t.deepEqual(
        problems.map((p) => `${p.path} = ${JSON.stringify(p.value)}: ${p.reason}; ${p.fix}`),
        [
            "nfv-testpod:probes.durationSec = 0: must be a whole number from 1 to 86400; write e.g. 60",
            'nfv-testpod:probes.baseline.histroy = 5: is not a baseline setting; did you mean "history"?',
            "nfv-testpod:probes.baseline.history = undefined: is missing; write how many accepted runs the median takes, e.g. history: 5",
            "nfv-testpod:probes.baseline.file = 3: is not a file path; write e.g. results/main/history.jsonl, or leave it out for this stack's own",
        ],
    );
    t.deepEqual(
        checkProbeSuiteConfig({ baseline: { history: 0 } }, "p").problems.map((p) => `${p.path}: ${p.reason}`),
        ["p.baseline.history: must be a whole number from 1 to 366"],
    );
    t.deepEqual(
        checkProbeSuiteConfig({ baseline: [5] }, "p").problems.map((p) => `${p.path}: ${p.reason}; ${p.fix}`),
        [
            "p.baseline: is neither a file path nor { history: N }; write a probes.json path (e.g. results/main/probes.json), or { history: 5 } for the median of the last 5 accepted runs",
        ],
    );
});

test("--compare names a run by number, from the end, by time, or a probes.json file; anything else fails with the runs there are", async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, "history.jsonl");
    await appendHistory(file, entry(TCG, "2026-05-01T02:00:00.000Z", { commit: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }));
    await appendHistory(file, entry(HOST_1, "2026-05-03T02:00:00.000Z"));
    await appendHistory(file, entry(HOST_2, "2026-05-03T14:30:00.000Z"));
    const label = async (ref: string) => (await resolveRunRef(ref, file, dir)).label;
    t.is(await label("1"), "run #1 (2026-05-01 02:00, commit aaaaaaaa)");
    t.is(await label("-1"), "run #3 (2026-05-03 14:30)");
    t.is(await label("2026-05-03"), "run #3 (2026-05-03 14:30)", "the last run of that day");
    t.is(await label("2026-05-03T02"), "run #2 (2026-05-03 02:00)");
    const report = path.join(dir, "probes.json");
    writeFileSync(report, jsonReport(fixtureVerdict({ capture: HOST_1, targets: looseTargets() }), { generatedAt: "2026-04-30T08:00:00.000Z" }));
    const fromFile = await resolveRunRef("probes.json", file, dir);
    t.is(fromFile.label, "probes.json (2026-04-30 08:00)");
    t.is(figure(fromFile, TIMER_MAX), 1422);
    const fix = "Fix: give a run's number (1 is the first, -1 the last), a time such as 2026-05-03 or 2026-05-03T10:12, or the path of a probes.json.";
    await t.throwsAsync(() => resolveRunRef("4", file, dir), {
        message: `--compare 4: no such run (history.jsonl holds runs #1 to #3, from 2026-05-01T02:00 to 2026-05-03T14:30). ${fix}`,
    });
    await t.throwsAsync(() => resolveRunRef("2026-06", file, dir), {
        message: `--compare 2026-06: no run at that time (history.jsonl holds runs #1 to #3, from 2026-05-01T02:00 to 2026-05-03T14:30). ${fix}`,
    });
    await t.throwsAsync(() => resolveRunRef("last-week", file, dir), {
        message: `--compare last-week: neither a file nor a run of history.jsonl (history.jsonl holds runs #1 to #3, from 2026-05-01T02:00 to 2026-05-03T14:30). ${fix}`,
    });
    writeFileSync(path.join(dir, "notes.txt"), "hello");
    await t.throwsAsync(() => resolveRunRef("notes.txt", file, dir), { message: /^--compare notes.txt: not JSON \(/ });
});

test("--compare prints per check the old and new figure and the relative change, the worse first", (t) => {
    const runs: HistoryRun[] = [
        { ...entry(HOST_1, "2026-05-01T02:00:00.000Z"), index: 1 },
        { ...entry(TCG, "2026-05-02T02:00:00.000Z"), index: 2 },
    ];
    const before = runFromHistory(runs[0]);
    const after = runFromHistory(runs[1]);
    const changes = compareRuns(before, after);
    t.deepEqual(
        changes.slice(0, 2).map((c) => [c.kind, c.label, c.before, c.after, Number(c.relative!.toFixed(3))]),
        [
            ["worse", "timer latency (max) on kat, cyclictest", 1422, 72154, 49.741],
            ["worse", "timer latency (avg) on kat, cyclictest", 19.73, 952.15, 47.259],
        ],
        "the worse by more first",
    );
    t.true(
        changes.slice(2).every((c) => c.kind === "same"),
        "every other figure came from the same captures",
    );
    const text = formatComparison(before, after, changes);
    const lines = text.split("\n");
    t.is(lines[0], "Changes from run #1 (2026-05-01 02:00) to run #2 (2026-05-02 02:00): 2 worse, 0 better, 14 other");
    t.regex(lines[1], /^ {2}worse {2}timer latency \(max\) on kat, cyclictest +1422 µs {2}→ +72154 µs +\+4974\.1 % {2}target ≤ 1000000 µs$/);
    t.regex(lines[2], /^ {2}worse {2}timer latency \(avg\) on kat, cyclictest +19\.73 µs {2}→ +952\.15 µs +\+4725\.9 % {2}target ≤ 1000000 µs$/);
    // The other way round the same figures got better, and a lower-bound figure that fell is worse.
    const back = compareRuns(after, before);
    t.deepEqual(
        back.filter((c) => c.kind !== "same").map((c) => [c.kind, c.label]),
        [
            ["better", "timer latency (avg) on kat, cyclictest"],
            ["better", "timer latency (max) on kat, cyclictest"],
        ],
    );
    const slower = { ...after, checks: after.checks.map((c) => (c.metric === "interVm.mpps" ? { ...c, figure: c.figure! / 2 } : c)) };
    const rate = compareRuns(after, slower).find((c) => c.label.startsWith("inter-VM rate"))!;
    t.is(rate.kind, "worse", "a rate that fell is worse");
    t.is(Number(rate.relative!.toFixed(3)), -0.5, "half the rate is a relative change of -50 %");
    // A check only in one run, and a figure lost.
    const lost = {
        ...after,
        checks: [...after.checks.filter((c) => !c.id.includes("oslat")).map((c) => (c.metric === "timer.maxUs" ? { ...c, figure: null } : c))],
    };
    const kinds = compareRuns(after, lost).map((c) => `${c.kind}: ${c.label}`);
    t.is(kinds[0], "lost its figure: timer latency (max) on kat, cyclictest");
    t.is(kinds[kinds.length - 1], "gone: longest preemption (oslat) (max) on kat, oslat");
});
