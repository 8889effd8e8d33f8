/**
 * The timing report of a CI run, from its log: where the time before `npm test`
 * went (the `[ci +Ns]` stamps of .ci/run) and where the tests spent theirs (the
 * durations ava prints after each test). Written to results/ci-timing.txt so a
 * slow run can be read without scrolling the whole log.
 *
 *   tsx tools/ci/timing.ts <ci log> [out file]
 *
 * ava runs one test file at a time here (concurrency 1) and the real tests are
 * serial, so a file's time is the sum of its tests' times. Tests under ava's
 * 100 ms display threshold print no time and count as 0.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

/** ava's duration, as pretty-ms writes it: "224ms", "4.2s", "1m 2.3s", "1m". */
export function parseDuration(text: string): number | undefined {
    const m = /^(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*(?:(\d+)ms)?$/.exec(text.trim());
    if (!m || (!m[1] && !m[2] && !m[3])) return undefined;
    return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
}

export interface TestTime {
    file: string;
    title: string;
    seconds: number;
}

/** Every passed or failed test line with a time: "✔ e2e › pod › title (37.8s)". */
export function testTimes(log: string): TestTime[] {
    const out: TestTime[] = [];
    for (const line of log.split("\n")) {
        const m = /^\s+[✔✘]\s+(?:\[\w+\]:?\s+)?(.+?) › (.+?) › (.+) \(([^()]+)\)\s*$/.exec(line);
        if (!m) continue;
        const seconds = parseDuration(m[4]);
        if (seconds !== undefined) out.push({ file: `${m[1]}/${m[2]}`, title: m[3], seconds });
    }
    return out;
}

/** The steps before the tests, from consecutive "[ci +Ns] step" stamps: each step's length. */
export function setupSteps(log: string): { step: string; seconds: number }[] {
    // A stamp seen twice (the stamps file and a log that echoes it) counts once.
    const seen = new Set<string>();
    const stamps = [...log.matchAll(/^\[ci \+(\d+)s\] (.+)$/gm)]
        .filter((m) => !seen.has(m[0]) && seen.add(m[0]))
        .map((m) => ({ at: Number(m[1]), step: m[2] }))
        .sort((a, b) => a.at - b.at);
    return stamps.slice(0, -1).map((s, i) => ({ step: s.step, seconds: stamps[i + 1].at - s.at }));
}

export function timingReport(log: string): string {
    const tests = testTimes(log);
    const byFile = new Map<string, number>();
    for (const t of tests) byFile.set(t.file, (byFile.get(t.file) ?? 0) + t.seconds);
    const files = [...byFile].sort((a, b) => b[1] - a[1]);
    const total = tests.reduce((s, t) => s + t.seconds, 0);
    const fmt = (s: number) => `${s.toFixed(1).padStart(7)} s`;
    const lines = ["# CI timing", "", "## Steps (from .ci/run's stamps; the lab VM image builds in the background beside them)"];
    for (const s of setupSteps(log)) lines.push(`${fmt(s.seconds)}  ${s.step}`);
    lines.push("", `## Test files, slowest first (${files.length} files, ${tests.length} timed tests, ${total.toFixed(0)} s in all)`);
    for (const [file, seconds] of files.slice(0, 25)) lines.push(`${fmt(seconds)}  ${file}`);
    lines.push("", "## The 15 slowest tests");
    for (const t of [...tests].sort((a, b) => b.seconds - a.seconds).slice(0, 15)) lines.push(`${fmt(t.seconds)}  ${t.file} › ${t.title}`);
    return `${lines.join("\n")}\n`;
}

if (require.main === module) {
    const [logFile, outFile = "results/ci-timing.txt"] = process.argv.slice(2);
    if (!logFile) {
        console.error("usage: tsx tools/ci/timing.ts <ci log> [out file]");
        process.exit(2);
    }
    const report = timingReport(readFileSync(logFile, "utf8"));
    mkdirSync(path.dirname(outFile), { recursive: true });
    writeFileSync(outFile, report);
    process.stdout.write(report);
}
