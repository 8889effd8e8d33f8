/**
 * The structured report: the verdict with every check and, per guest and
 * probe, the tool version, command line and full per-series statistics with
 * histograms. Other tools (dashboards, comparisons between runs) read this one.
 */
import type { Verdict } from "../verdict";

/** Identifies the layout, so readers can refuse a report they do not understand. */
export const JSON_REPORT_SCHEMA = "nfv-testpod/probe-report@1";

export interface JsonReportOptions {
    /** ISO timestamp recorded in the report. @default none: the writer stays pure; the caller passes the time. */
    generatedAt?: string;
}

export function jsonReport(verdict: Verdict, opts: JsonReportOptions = {}): string {
    const doc = {
        schema: JSON_REPORT_SCHEMA,
        ...(opts.generatedAt ? { generatedAt: opts.generatedAt } : {}),
        pass: verdict.pass,
        gate: verdict.gate,
        failures: verdict.failures,
        checks: verdict.checks,
        crossChecks: verdict.crossChecks ?? [],
        notes: verdict.notes ?? [],
        ...(verdict.baseline ? { baseline: verdict.baseline } : {}),
        runs: verdict.results.map(({ guest, result }) => ({
            guest,
            probe: result.probe,
            version: result.version,
            command: result.command,
            noSamples: result.noSamples,
            // An interrupted run: its figures cover only what was measured.
            ...(result.partial ? { partial: result.partial } : {}),
            series: result.series,
        })),
        ...(verdict.interVm ? { interVm: verdict.interVm } : {}),
        ...(verdict.migration ? { migration: verdict.migration } : {}),
    };
    return JSON.stringify(doc, null, 2) + "\n";
}
