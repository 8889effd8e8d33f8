/**
 * rtla output captured inside a real kit guest (PREEMPT_RT kernel under TCG),
 * read by the same parsers the suite uses. Expected figures are the ones a
 * person reads off the raw text, picked out here by their row labels.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { parseOsnoiseTop, parseTimerlatHist } from "../../components/probes";

const fixture = (name: string) => readFileSync(`tests/fixtures/probes/${name}`, "utf8");

/** The value of a summary row ("max:", "count:") in a timerlat histogram, per column. */
function summaryRow(text: string, label: string): number[] {
    const line = text.split("\n").find((l) => l.startsWith(`${label}:`))!;
    return line.split(/\s+/).slice(1).filter(Boolean).map(Number);
}

test("timerlat hist from a guest: IRQ and thread max, and sample counts", (t) => {
    const text = fixture("rtla-6.1-guest-tcg-timerlat-hist.txt");
    const result = parseTimerlatHist(text, { command: "rtla timerlat hist -c 1 -d 3 -p 1000 -P f:95 --dma-latency 0", version: "6.1" });
    const [irqMax, threadMax] = summaryRow(text, "max");
    const [irqCount] = summaryRow(text, "count");
    const irq = result.series.find((s) => s.kind === "irq")!;
    const thread = result.series.find((s) => s.kind === "thread")!;
    t.is(result.noSamples, null);
    t.is(irq.cpu, 1);
    t.is(irq.stats.maxUs, irqMax);
    t.is(thread.stats.maxUs, threadMax);
    t.is(irq.stats.samples, irqCount);
});

test("osnoise top from a guest: longest single noise and largest noise per period, colour codes and all", (t) => {
    const text = fixture("rtla-6.1-guest-tcg-osnoise-top.txt");
    const result = parseOsnoiseTop(text, { command: "rtla osnoise top -q -c 1 -p 1000 -r 1000 -d 3", version: "6.1" });
    // The data row: CPU, #periods, runtime, noise, % available, max noise, max single, ...
    const row = text
        .split("\n")
        .find((l) => /^\s+1 #\d+/.test(l))!
        .trim()
        .split(/\s+/);
    t.is(result.series.find((s) => s.kind === "period-noise")!.stats.maxUs, Number(row[5]));
    t.is(result.series.find((s) => s.kind === "single-noise")!.stats.maxUs, Number(row[6]));
});

test("timerlat on an offline CPU exits 0 with an empty histogram: parsed as no samples, never as a pass", (t) => {
    const result = parseTimerlatHist(fixture("rtla-6.1-guest-tcg-timerlat-hist-cpu-offline.txt"));
    t.not(result.noSamples, null);
    t.true(result.series.every((s) => s.stats.samples === 0));
});
