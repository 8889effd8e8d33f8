/**
 * Writes a probe run's results where people and CI systems pick them up: the
 * structured JSON, a Markdown summary for a pull-request comment, a JUnit
 * file, each kind's charts under `histograms/` (latency histograms per
 * guest and tool, inter-VM rates per link, packet gaps per migration), the
 * run's line in `history.jsonl`, and one HTML page (`index.html`) that
 * shows all of it with each check's trend over the last runs.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { AnyProbeKind } from "./kinds/kind";
import { PROBE_KINDS } from "./kinds/registry";
import { appendHistory, gitCommit, HISTORY_FILE, historyEntry, readHistory } from "./history";
import { jsonReport, junitReport, markdownReport } from "./reports";
import { htmlReport } from "./reports/html";
import type { Verdict } from "./verdict";

export interface ResultFiles {
    json: string;
    markdown: string;
    junit: string;
    /** The page that shows the whole run (index.html). */
    html: string;
    /** The stack's history of runs (history.jsonl), this run appended. */
    history: string;
    histograms: string[];
}

/** An interrupted run: why, what the kind in flight kept, and the kinds never started. */
export interface PipelinePartial {
    reason: string;
    /** The kind that was running when it came. */
    cut?: string;
    /** Named kinds that never started. */
    notRun?: string[];
    /** Each cut run in words, e.g. `kat cyclictest: 64 of 120 s` (from the kind). */
    runs?: string[];
    /** Details the kind gives (the latency probes: runs kept, runs never started). */
    [detail: string]: unknown;
}

/** What the reader of a report must know beyond the figures (accelerator, interruption). */
export interface ResultContext {
    /** e.g. the stack name. */
    title: string;
    /** Notes from the pod (TCG per host, knobs turned off): the verdict's own notes follow them. */
    notes: string[];
    partial?: PipelinePartial;
    /** Wall time of the run, seconds. */
    seconds?: number;
    /** The kinds whose charts are drawn. @default the registry's */
    kinds?: readonly AnyProbeKind[];
    /** Runs each trend of the HTML report draws. @default 20 (reports/html.ts) */
    trendRuns?: number;
}

export async function writeResults(dir: string, verdict: Verdict, context: ResultContext): Promise<ResultFiles> {
    await fs.mkdir(path.join(dir, "histograms"), { recursive: true });
    const files: ResultFiles = {
        json: path.join(dir, "probes.json"),
        markdown: path.join(dir, "probes.md"),
        junit: path.join(dir, "probes.junit.xml"),
        html: path.join(dir, "index.html"),
        history: path.join(dir, HISTORY_FILE),
        histograms: [],
    };
    const generatedAt = new Date().toISOString();
    const notes = [...context.notes, ...verdict.notes];
    const kinds = context.kinds ?? PROBE_KINDS;
    const doc = JSON.parse(jsonReport(verdict, { generatedAt, kinds }));
    await fs.writeFile(
        files.json,
        JSON.stringify({ ...doc, title: context.title, partial: context.partial ?? null, notes, suiteSeconds: context.seconds ?? null }, null, 2) + "\n",
    );
    const notesText = notes.length > 0 ? `\n### Notes\n\n${notes.map((n) => `- ${n}`).join("\n")}\n` : "";
    await fs.writeFile(files.markdown, partialBanner(context.partial) + markdownReport(verdict, { kinds, htmlLink: "index.html" }) + notesText);
    await fs.writeFile(files.junit, junitReport(verdict, { name: context.title, kinds }));
    for (const kind of kinds) {
        const section = (verdict.sections as Record<string, unknown>)[kind.name];
        if (section === undefined) continue;
        for (const chart of kind.report.charts(section, verdict)) {
            const file = path.join(dir, "histograms", chart.fileName);
            await fs.writeFile(file, chart.svg);
            files.histograms.push(file);
        }
    }
    // The run's line in the history, then the page that draws it among the runs before it.
    const entry = historyEntry(verdict, { time: generatedAt, commit: await gitCommit(dir), title: context.title, partial: context.partial !== undefined });
    await appendHistory(files.history, entry);
    const history = await readHistory(files.history);
    const page = htmlReport(verdict, {
        title: context.title,
        generatedAt,
        commit: entry.commit,
        notes,
        partial: context.partial,
        seconds: context.seconds ?? null,
        kinds,
        history: history.runs,
        historySkipped: history.skipped,
        hosts: entry.hosts,
        trendRuns: context.trendRuns,
        files: [
            { path: "probes.json", what: "every figure, series and histogram (structured)" },
            { path: "probes.md", what: "the summary for a pull-request comment" },
            { path: "probes.junit.xml", what: "the checks as JUnit tests" },
            { path: HISTORY_FILE, what: "one line per run: the figures this page's trends draw" },
            ...files.histograms.map((f) => ({ path: path.relative(dir, f), what: "a chart of this page, as its own file" })),
        ],
    });
    await fs.writeFile(files.html, page);
    return files;
}

/** Above the table of an interrupted run: what was cut short, so no reader takes its figures for a full run. */
export function partialBanner(partial: PipelinePartial | undefined): string {
    if (!partial) return "";
    const skipped = typeof partial.skipped === "number" ? partial.skipped : 0;
    return (
        `> **PARTIAL RUN (${partial.reason})**: the figures below are what was measured until then` +
        `${partial.runs && partial.runs.length > 0 ? ` (${partial.runs.join("; ")})` : ""}` +
        `${skipped > 0 ? `; ${skipped} probe run(s) never started` : ""}` +
        `${partial.notRun && partial.notRun.length > 0 ? `; never started: ${partial.notRun.join(", ")}` : ""}.\n\n`
    );
}
