/**
 * The inter-VM probe in the HTML report: per link, the guests' rate against
 * the host's own limit on the same memory (two host processes), the ratio,
 * the bad packets, the longest gap and the round trips; each link's chart of
 * Mpps per second; nfvkit-ring's command lines for the tools table.
 */
import type { Bound } from "../../targets";
import type { KindHtml } from "../../reports/htmlBlocks";
import { formatTarget } from "../../verdict";
import type { Chart } from "../kind";
import type { InterVmResult, RingRoundTrip } from "./types";
import { formatFigure, linkPlace } from "./verdict";

export function interVmHtml(results: InterVmResult[], charts: Chart[], target: Bound | undefined): KindHtml {
    if (results.length === 0) return { sections: [] };
    const rt = (r: RingRoundTrip | null) =>
        r ? `${formatFigure(r.p50Ns / 1000)} / ${formatFigure(r.p99Ns / 1000)} / ${formatFigure(r.maxNs / 1000)} µs` : "—";
    return {
        sections: [
            {
                title: "Inter-VM rates against the host limit",
                blocks: [
                    {
                        paragraph:
                            "nfvkit-ring, 64-byte packets over the link's shared memory: guest to guest, then two host processes on the same backing file " +
                            `(the host limit). Ratio: guests' rate over the host's.${target ? ` Target: ${target.op === "<=" ? "≤ " : ""}${formatTarget(target)}.` : ""}`,
                    },
                    {
                        table: {
                            head: [
                                "Link",
                                "Burst",
                                "Guests: Mpps",
                                "Host limit: Mpps",
                                "Ratio",
                                "ns/packet",
                                "Packets",
                                "Bad (lost/reordered/corrupt)",
                                "Longest gap",
                                "Round trip p50 / p99 / max (guests)",
                                "Round trip (host)",
                            ],
                            rows: results.map((r) => [
                                linkPlace(r),
                                r.burst,
                                r.rate ? formatFigure(r.rate.mpps) : { text: `no samples (${r.noSamples ?? ""})`, mark: "fail" as const },
                                r.hostRate ? formatFigure(r.hostRate.mpps) : r.hostNoSamples ? `no samples (${r.hostNoSamples})` : "not run",
                                r.ratio === null ? "—" : formatFigure(r.ratio),
                                r.rate ? formatFigure(r.rate.nsPerPacket) : "—",
                                r.rate?.packets ?? "—",
                                r.rate ? `${r.rate.lost}/${r.rate.reordered}/${r.rate.corrupt}` : "—",
                                r.rate?.maxGapNs != null
                                    ? `${formatFigure(r.rate.maxGapNs / 1e6)} ms at ${formatFigure((r.rate.maxGapAtNs ?? 0) / 1e9)} s`
                                    : "—",
                                rt(r.roundTrip),
                                rt(r.hostRoundTrip),
                            ]),
                        },
                    },
                    ...charts.map((chart) => ({ chart })),
                    ...(results.some((r) => r.notes.length > 0) ? [{ list: results.flatMap((r) => r.notes.map((n) => `${linkPlace(r)}: ${n}`)) }] : []),
                ],
            },
        ],
        tools: results.flatMap((r) => r.commands.map((command) => ({ tool: "nfvkit-ring", version: null, where: linkPlace(r), command }))),
    };
}
