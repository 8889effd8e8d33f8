/**
 * The structured report: the verdict with every check and each kind's own
 * keys (the latency runs with their histograms, `interVm`, `migration`,
 * `hosts`). Other tools (dashboards, comparisons between runs) read this one.
 */
import type { AnyProbeKind } from "../kinds/kind";
import { PROBE_KINDS } from "../kinds/registry";
import type { Verdict } from "../verdict";

/** Identifies the layout, so readers can refuse a report they do not understand. */
export const JSON_REPORT_SCHEMA = "nfv-testpod/probe-report@1";

export interface JsonReportOptions {
    /** ISO timestamp recorded in the report. @default none: the writer stays pure; the caller passes the time. */
    generatedAt?: string;
    /** Whose sections to write. @default the registry's */
    kinds?: readonly AnyProbeKind[];
}

export function jsonReport(verdict: Verdict, opts: JsonReportOptions = {}): string {
    const kinds: Record<string, unknown> = {};
    for (const kind of opts.kinds ?? PROBE_KINDS) {
        const section = (verdict.sections as Record<string, unknown>)[kind.name];
        if (section !== undefined) Object.assign(kinds, kind.report.json(section, verdict));
    }
    const doc = {
        schema: JSON_REPORT_SCHEMA,
        ...(opts.generatedAt ? { generatedAt: opts.generatedAt } : {}),
        pass: verdict.pass,
        gate: verdict.gate,
        ...(verdict.stopped !== undefined ? { stopped: verdict.stopped } : {}),
        failures: verdict.failures,
        checks: verdict.checks,
        notes: verdict.notes,
        ...kinds,
    };
    return JSON.stringify(doc, null, 2) + "\n";
}
