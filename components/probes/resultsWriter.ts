/**
 * Writes a suite's results where people and CI systems pick them up: the
 * structured JSON, a Markdown summary for a pull-request comment, a JUnit
 * file, and one SVG latency histogram per guest and probe.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import {
    histogramSvgs,
    interVmChartName,
    interVmMarkdown,
    interVmRateSvg,
    jsonReport,
    junitReport,
    markdownReport,
    migrationChartName,
    migrationGapSvg,
    migrationMarkdown,
} from "./reports";
import type { SuiteRun } from "./runner";
import type { Verdict } from "./verdict";

export interface ResultFiles {
    json: string;
    markdown: string;
    junit: string;
    histograms: string[];
}

/** What the reader of a report must know beyond the figures (accelerator, unprobed guests, load). */
export interface ResultContext {
    /** e.g. the stack name. */
    title: string;
    notes: string[];
}

export async function writeResults(dir: string, verdict: Verdict, run: SuiteRun, context: ResultContext): Promise<ResultFiles> {
    await fs.mkdir(path.join(dir, "histograms"), { recursive: true });
    const files: ResultFiles = {
        json: path.join(dir, "probes.json"),
        markdown: path.join(dir, "probes.md"),
        junit: path.join(dir, "probes.junit.xml"),
        histograms: [],
    };
    const generatedAt = new Date().toISOString();
    const doc = JSON.parse(jsonReport(verdict, { generatedAt }));
    await fs.writeFile(
        files.json,
        JSON.stringify(
            { ...doc, title: context.title, partial: run.partial ?? null, notes: context.notes, toolRuns: run.runs, suiteSeconds: run.seconds },
            null,
            2,
        ) + "\n",
    );
    const notes = context.notes.length > 0 ? `\n### Notes\n\n${context.notes.map((n) => `- ${n}`).join("\n")}\n` : "";
    await fs.writeFile(
        files.markdown,
        partialBanner(verdict, run) + markdownReport(verdict) + interVmMarkdown(verdict.interVm ?? []) + migrationMarkdown(verdict.migration ?? []) + notes,
    );
    await fs.writeFile(files.junit, junitReport(verdict, { name: context.title }));
    for (const chart of histogramSvgs(verdict)) {
        const file = path.join(dir, "histograms", chart.fileName);
        await fs.writeFile(file, chart.svg);
        files.histograms.push(file);
    }
    // The inter-VM probe's Mpps over time sits with the histograms: one SVG per link.
    for (const r of verdict.interVm ?? []) {
        const file = path.join(dir, "histograms", interVmChartName(r));
        await fs.writeFile(file, interVmRateSvg(r, verdict.checks.find((c) => c.metric === "interVm.mpps")?.target));
        files.histograms.push(file);
    }
    // The migration probe's packet gaps over time: one SVG per migration.
    for (const r of verdict.migration ?? []) {
        for (const [i, leg] of r.legs.entries()) {
            const file = path.join(dir, "histograms", migrationChartName(r.guest, i, leg));
            await fs.writeFile(file, migrationGapSvg(r.guest, leg, verdict.checks.find((c) => c.metric === "migration.networkDowntimeMs")?.target));
            files.histograms.push(file);
        }
    }
    return files;
}

/** Above the table of an interrupted run: what was cut short, so no reader takes its figures for a full run. */
export function partialBanner(verdict: Verdict, run: SuiteRun): string {
    if (!run.partial) return "";
    const cut = verdict.results
        .filter((r) => r.result.partial)
        .map((r) => `${r.guest} ${r.result.probe}: ${r.result.partial!.measuredSec} of ${r.result.partial!.plannedSec} s`);
    return (
        `> **PARTIAL RUN (${run.partial.reason})**: the figures below are what was measured until then` +
        `${cut.length > 0 ? ` (${cut.join("; ")})` : ""}${run.partial.skipped > 0 ? `; ${run.partial.skipped} probe run(s) never started` : ""}.\n\n`
    );
}
