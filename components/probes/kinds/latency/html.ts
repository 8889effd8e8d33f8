/**
 * The latency kind in the HTML report: every histogram (one per guest ×
 * tool, as written under histograms/), the percentiles of every series, the
 * cross-checks, the baseline compared with, and the tools with their
 * versions and command lines for the page's tools table.
 */
import type { KindHtml } from "../../reports/htmlBlocks";
import { formatPercentile } from "../../stats";
import { formatNumber } from "../../verdict";
import type { Chart } from "../kind";
import { crossChecks } from "./crossCheck";
import type { LatencySection } from "./types";

export function latencyHtml(section: LatencySection, charts: Chart[]): KindHtml {
    const cross = crossChecks(section.results, section.crossCheckFactor);
    return {
        sections: [
            {
                title: "Latency histograms",
                blocks: [
                    ...(section.baseline
                        ? [
                              {
                                  paragraph: `Baseline: ${section.baseline.source}; a figure worse by more than ${section.baseline.regressionFactor}× fails its check.`,
                              },
                          ]
                        : []),
                    ...charts.map((chart) => ({ chart })),
                    { heading: "Percentiles" },
                    {
                        table: {
                            head: ["Guest", "Probe", "Series", "Samples", "Expected", "p99", "p99.9", "Max"],
                            rows: section.results.flatMap(({ guest, result }) =>
                                result.series.map((s) => [
                                    guest,
                                    result.probe,
                                    s.label,
                                    s.stats.samples,
                                    s.stats.expectedSamples ?? "—",
                                    formatPercentile(s.stats, "p99"),
                                    formatPercentile(s.stats, "p999"),
                                    s.stats.maxUs === null ? "n/a" : `${formatNumber(s.stats.maxUs)} µs`,
                                ]),
                            ),
                        },
                    },
                    ...(cross.length > 0 ? [{ heading: "Cross-checks" }, { list: cross.map((c) => `${c.agree ? "agree" : "DISAGREE"}: ${c.note}`) }] : []),
                ],
            },
        ],
        tools: section.results.map(({ guest, result }) => ({
            tool: result.probe,
            version: result.version,
            where: guest,
            command: result.command ?? "unknown",
        })),
    };
}
