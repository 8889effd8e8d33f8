/**
 * `npm run up` of the local pod, as a person runs it, fits a screen: at most
 * 120 lines, holding the placement table, each guest and the probe table,
 * and the terminal never stays silent for more than 10 s while the engine
 * works. The rest is where the output says: the stack outputs (hostReadiness
 * one line per host) and the reports (every readiness check).
 */
import test from "ava";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import { projectRoot } from "../../tools/cli/engine";
import { useStack } from "../helpers/stack";

const MAX_LINES = 120;
const MAX_SILENCE_MS = 10_000;

/** Runs `npm run up` to the end; each line of stdout and stderr with the time it came. */
function npmRunUp(): Promise<{ code: number | null; lines: { at: number; text: string }[] }> {
    return new Promise((resolve) => {
        const child = spawn("npm", ["run", "up"], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
        const lines: { at: number; text: string }[] = [];
        for (const stream of [child.stdout, child.stderr]) {
            const decoder = new StringDecoder("utf8");
            let part = "";
            stream.on("data", (d: Buffer) => {
                const split = (part + decoder.write(d)).split("\n");
                part = split.pop() ?? "";
                for (const text of split) lines.push({ at: Date.now(), text });
            });
            stream.on("end", () => part !== "" && lines.push({ at: Date.now(), text: part }));
        }
        child.on("close", (code) => resolve({ code, lines }));
    });
}

test.serial("npm run up of the local pod: at most 120 lines with the plan table, each guest and the probe table; never silent for 10 s", async (t) => {
    // Destroys the stack and removes any domain of its left behind, also when the test fails.
    const stack = useStack(t, "local", "nfv-testpod-local");
    const run = await npmRunUp();
    const text = run.lines.map((l) => l.text).join("\n");
    t.log(`npm run up printed ${run.lines.length} lines:\n${text}`);
    t.is(run.code, 0, text.slice(-6000));
    t.true(run.lines.length <= MAX_LINES, `${run.lines.length} lines`);

    // The plan table, every guest of the pod, the probe table: what a person needs, in the terminal.
    t.regex(text, /^HOST\s+GUEST\s+THREAD\s+HOST CPU\s+NODE\s+ROLE$/m);
    t.regex(text, /^local\s+vnf\s+vcpu1\s+1\s+0\s+rt$/m);
    const outputs = await stack.outputs();
    const guests = outputs.guests as Record<string, { domain: string }>;
    t.deepEqual(Object.keys(guests).sort(), ["peer", "vnf"]);
    for (const [name, g] of Object.entries(guests)) t.regex(text, new RegExp(`^  ${name}: domain ${g.domain} on qemu:///system, booted in [\\d.]+ s`, "m"));
    t.regex(text, /^\| Guest \| Probe \| Metric \| Measured \| Samples \| Where \| Target \| Result \|$/m);
    const reports = (outputs.probes as { reports: { json: string; html: string } }).reports;
    const report = JSON.parse(readFileSync(path.resolve(projectRoot, reports.json), "utf8")) as {
        checks: { guest: string }[];
        hosts: { host: string; checks: { name: string; expected: string; found: string }[] }[];
    };
    t.true(report.checks.length > 0);
    const tableAt = run.lines.findIndex((l) => l.text.startsWith("| Guest | Probe |"));
    const tableRows = run.lines.slice(tableAt + 2).findIndex((l) => !l.text.startsWith("| "));
    t.is(tableRows, report.checks.length, "one table row per check of the report");
    t.true(text.includes(reports.html), "the output says where the full report is");

    // hostReadiness is one line per host in the stack outputs; every check, with what was expected and found, is in the report.
    const readiness = outputs.hostReadiness as Record<string, string>;
    t.regex(readiness.local, /^(all \d+ checks pass|\d+ of \d+ checks pass; misses: [^\n]+)$/);
    const rows = report.hosts.find((h) => h.host === "local")!.checks;
    t.is(readiness.local.match(/\d+ checks/)![0], `${rows.length} checks`);
    t.true(rows.every((c) => c.expected !== "" && c.found !== ""));

    // While the engine works (from its first line to its totals), a line comes at least every 10 s.
    const first = run.lines.findIndex((l) => l.text.startsWith("pulumi up --stack local"));
    const last = run.lines.findIndex((l) => l.text.startsWith("Resources: "));
    t.true(first >= 0 && last > first, "the engine's part is in the output");
    const gaps = run.lines.slice(first + 1, last + 1).map((l, i) => ({ ms: l.at - run.lines[first + i].at, after: run.lines[first + i].text }));
    const longest = gaps.reduce((a, b) => (b.ms > a.ms ? b : a));
    t.true(longest.ms <= MAX_SILENCE_MS, `silent for ${longest.ms} ms after "${longest.after}"`);
});
