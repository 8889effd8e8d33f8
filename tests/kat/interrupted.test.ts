/**
 * A long probe run interrupted half-way, with a real guest and a real
 * signal: `npm run probe`'s code (tools/cli/probeRun.ts, through
 * tests/helpers/probeCli.ts) measures cyclictest then timerlat for 120 s
 * each, in 40 s chunks (the default), and gets SIGINT after ~70 s, inside the second chunk.
 * What a user checks: a progress line at least every 10 s (the pipeline says
 * which step it is still on when the tool is silent), figures after each chunk, a prompt exit with the shell's code for SIGINT, and on
 * disk the first chunk and the interrupted part of the second, marked
 * partial, in the JSON, the Markdown and the SVG.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { realTest } from "../helpers/realParts";
import { useKatGuest } from "../helpers/katGuest";
import { inGuest } from "../helpers/katGuest";

const PREFIX = "nfvkit-kat-interrupted";
const INTERRUPT_AFTER_MS = 70_000;
const real = realTest(existsSync("/run/libvirt/libvirt-sock") || existsSync("/var/run/libvirt/libvirt-sock"), "the libvirt daemon");

/** Seconds since midnight of a `[hh:mm:ss]` stamp. */
function stampSec(line: string): number | null {
    const m = /^\[(\d\d):(\d\d):(\d\d)\]/.exec(line);
    return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

real("an interrupted 120 s run reports at least every 10 s and keeps what it measured, marked partial", async (t) => {
    const g = await useKatGuest(t, PREFIX);
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-kat-interrupted-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const child = spawn(path.resolve("node_modules/.bin/tsx"), ["tests/helpers/probeCli.ts", g.probeGuest.domain, dir, "cyclictest,timerlat", "120"], {
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const started = Date.now();
    await new Promise((r) => setTimeout(r, INTERRUPT_AFTER_MS));
    // tsx relays the signal to the program, as a terminal's Ctrl-C reaches `npm run probe`.
    child.kill("SIGINT");
    const interruptedAt = Date.now();
    const code = await exited;
    const exitSec = (Date.now() - interruptedAt) / 1000;
    t.log(out);
    t.log(`exit ${code} ${exitSec.toFixed(1)} s after SIGINT (${((interruptedAt - started) / 1000).toFixed(0)} s into the run)`);
    t.is(code, 130, "the shell's code for SIGINT");
    t.true(exitSec < 30, `the run stopped ${exitSec.toFixed(1)} s after the signal`);

    // Progress: no gap above 10 s from start to the signal (the stamps have whole seconds), and figures after the first chunk before it.
    const lines = out.split("\n").filter((l) => stampSec(l) !== null);
    const beforeSignal = lines.filter((l) => !/SIGINT/.test(l) && (stampSec(l) as number) <= stampSec(lines.find((x) => /SIGINT/.test(x))!)!);
    const times = beforeSignal.map((l) => stampSec(l) as number);
    const gaps = times.slice(1).map((s, i) => s - times[i]);
    t.true(Math.max(...gaps) <= 10, `longest gap between progress lines ${Math.max(...gaps)} s`);
    t.regex(out, /cyclictest chunk 1\/3 \(40 s\) done in [\d.]+ s \(exit 0\); so far 40 of 120 s: timer max \d+ µs over \d+ samples/);
    t.regex(out, /SIGINT: stopping the probes and keeping what they measured so far/);
    t.regex(out, /PARTIAL RUN \(interrupted by SIGINT\)/);

    // On disk: what was measured, marked partial.
    const doc = JSON.parse(readFileSync(path.join(dir, "probes.json"), "utf8"));
    t.like(doc.partial, { reason: "interrupted by SIGINT", measured: 1, skipped: 1 });
    t.is(doc.runs.length, 1, "timerlat never started");
    const run = doc.runs[0];
    t.like(run.partial, { reason: "interrupted by SIGINT", plannedSec: 120 });
    t.true(run.partial.measuredSec > 40 && run.partial.measuredSec < 80, `measured ${run.partial.measuredSec} s: the first chunk and part of the second`);
    const stats = run.series[0].stats;
    t.log(`kept: ${stats.samples} samples, max ${stats.maxUs} µs, measured ${run.partial.measuredSec} s of 120 s`);
    t.true(
        stats.samples > 40 * 1000 * 0.3,
        `${stats.samples} samples kept (more than the first chunk's 40 s could give alone at TCG's rate is not required, but some are)`,
    );
    t.is(doc.toolRuns.length, 2, "two cyclictest chunks ran");
    t.regex(readFileSync(path.join(dir, "probes.md"), "utf8"), /^> \*\*PARTIAL RUN \(interrupted by SIGINT\)\*\*: .*kat cyclictest: \d+ of 120 s/);
    t.regex(readFileSync(path.join(dir, "histograms", "kat-cyclictest.svg"), "utf8"), /partial: \d+ of 120 s, interrupted by SIGINT/);
    // The guest's tool is gone: nothing keeps measuring after the run said it stopped.
    t.is((await inGuest(g, "pidof cyclictest rtla || true")).stdout.trim(), "");
});
