/**
 * The timing report of a CI run, from its log: where the time before `npm test`
 * went (the `[ci +Ns]` stamps of .ci/run) and where the tests spent theirs (the
 * durations ava prints after each test). Written to results/ci-timing.txt so a
 * slow run can be read without scrolling the whole log.
 *
 *   tsx tools/ci/timing.ts <ci log> [out file]
 *
 * A file's time is its wall time: .ci/run puts the time it read each line of
 * `npm test` before it ("@<epoch seconds> "), and ava runs one file at a time
 * here (concurrency 1), so the time from one result line to the next is the
 * later line's file's (its worker's start included). Some files run beside
 * the others in a lane of their own (tools/ci/suite.sh), their lines marked
 * "[beside] ": the time between result lines is reckoned in each lane apart,
 * from the lane's first line, so the files' times add up to more than the wall
 * time of the run. ava's own durations do not
 * add up to that: the tests of a file that are not serial run at once, and each
 * one's duration counts from their common start. They still rank the slowest
 * tests, and a log without the times (an older run) falls back to their sum.
 * Tests under ava's 100 ms display threshold print no time.
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

/** A log line and the time .ci/run read it, when it put one before it. */
function unstamp(line: string): { at?: number; text: string } {
    // bash's $EPOCHREALTIME writes the locale's decimal point.
    const m = /^@(\d+(?:[.,]\d+)?) (.*)$/.exec(line);
    return m ? { at: Number(m[1].replace(",", ".")), text: m[2] } : { text: line };
}

/** The lane a line of npm test comes from: "[beside] ..." is the run beside the others (tools/ci/suite.sh), "" the main one. */
function laneOf(text: string): { lane: string; text: string } {
    const m = /^\[(\w+)\] (.*)$/.exec(text);
    return m ? { lane: m[1], text: m[2] } : { lane: "", text };
}

/**
 * A passed or failed test line: "✔ e2e › pod › title (37.8s)", its time optional. An ava run over one folder
 * (npm test's unit run) leaves the folder out: "✔ backendStore › title"; the file is then its name alone.
 */
function resultLine(line: string): { lane: string; file: string; title: string; duration?: string } | undefined {
    const { lane, text } = laneOf(line);
    const m = /^\s+[✔✘]\s+(?:\[\w+\]:?\s+)?(?:([\w.-]+) › )?([\w.-]+) › (.+?)(?: \(([^()]+)\))?\s*$/.exec(text);
    if (!m) return undefined;
    // A title that ends in brackets of its own is not a time.
    const duration = m[4] !== undefined && parseDuration(m[4]) !== undefined ? m[4] : undefined;
    const file = m[1] === undefined ? m[2] : `${m[1]}/${m[2]}`;
    return { lane, file, title: duration === undefined && m[4] !== undefined ? `${m[3]} (${m[4]})` : m[3], duration };
}

/** Every passed or failed test line with a time. */
export function testTimes(log: string): TestTime[] {
    const out: TestTime[] = [];
    for (const line of log.split("\n")) {
        const r = resultLine(unstamp(line).text);
        if (r?.duration !== undefined) out.push({ file: r.file, title: r.title, seconds: parseDuration(r.duration)! });
    }
    return out;
}

/**
 * Each file's wall time from the stamped result lines: the time since the
 * previous result line of the same lane goes to this line's file. In the main
 * lane the first file's time starts at the first stamped line (npm test's own
 * start: bootstrap, typecheck, format check come before it and are counted
 * apart); a lane beside it starts at its own first line, which suite.sh
 * prints as it starts the lane. Empty when the log has no stamps.
 */
export function fileWallTimes(log: string): { files: Map<string, number>; beforeFirst: number } {
    const files = new Map<string, number>();
    let first: number | undefined;
    // The time of each lane's latest result line (a lane beside the main one: of its first line, until its first result).
    const previous = new Map<string, number>();
    let beforeFirst = 0;
    for (const line of log.split("\n")) {
        const { at, text } = unstamp(line);
        if (at === undefined) continue;
        first ??= at;
        const lane = laneOf(text).lane;
        if (lane !== "" && !previous.has(lane)) previous.set(lane, at);
        const r = resultLine(text);
        if (!r) continue;
        const since = previous.get(lane);
        if (since === undefined) {
            // Up to the first result: npm test's own steps, then the first file's worker; the file gets what ava says it ran.
            const own = r.duration !== undefined ? parseDuration(r.duration)! : 0;
            beforeFirst = Math.max(0, at - first - own);
            files.set(r.file, at - first - beforeFirst);
        } else files.set(r.file, (files.get(r.file) ?? 0) + (at - since));
        previous.set(lane, at);
    }
    return { files, beforeFirst };
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
    const wall = fileWallTimes(log);
    let byFile = wall.files;
    let how = "wall time, from the time each result line was read";
    if (byFile.size === 0) {
        byFile = new Map<string, number>();
        for (const t of tests) byFile.set(t.file, (byFile.get(t.file) ?? 0) + t.seconds);
        how = "the sum of ava's durations: this log has no line times";
    }
    const files = [...byFile].sort((a, b) => b[1] - a[1]);
    const total = files.reduce((s, [, seconds]) => s + seconds, 0);
    const fmt = (s: number) => `${s.toFixed(1).padStart(7)} s`;
    const lines = [
        "# CI timing",
        "",
        "## Steps (from .ci/run's stamps; the engine and the lab VM image build in the background beside the steps after theirs, and each one's ready stamp gives its own length)",
    ];
    for (const s of setupSteps(log)) lines.push(`${fmt(s.seconds)}  ${s.step}`);
    const beside = [...new Set(log.split("\n").map((l) => laneOf(unstamp(l).text).lane))].filter((lane) => lane !== "");
    const overlap =
        beside.length > 0 ? `; the files of lane ${beside.join(", ")} ran at the same time as the others, so the sum is more than the tests' wall time` : "";
    lines.push("", `## Test files, slowest first (${files.length} files, ${total.toFixed(0)} s in all; ${how}${overlap})`);
    if (wall.files.size > 0) lines.push(`${fmt(wall.beforeFirst)}  (npm test before its first file: bootstrap, typecheck, format check)`);
    for (const [file, seconds] of files.slice(0, 30)) lines.push(`${fmt(seconds)}  ${file}`);
    lines.push("", "## The 15 slowest tests (ava's durations: a file's tests that are not serial overlap, each counted from their common start)");
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
