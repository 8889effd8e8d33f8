/**
 * The host gate in the HTML report: per host, its running kernel and the
 * accelerator its guests ran under, then each readiness row (PREEMPT_RT, the
 * hwlat tracer, every boot argument the plan asks for) with what was found.
 */
import type { HtmlCell, KindHtml } from "../../reports/htmlBlocks";
import type { HostGateSection } from "./index";

export function hostGateHtml(section: HostGateSection): KindHtml {
    if (section.hosts.length === 0) return { sections: [] };
    return {
        sections: [
            {
                title: "Host readiness",
                blocks: [
                    {
                        paragraph: `probes.hostGate: ${section.gate}${section.gate === "report" ? " (a host that is not ready is reported, the probes still run)" : " (a host that is not ready stops the run before probing)"}.`,
                    },
                    {
                        table: {
                            head: ["Host", "Kernel (uname -r)", "Guests' accelerator"],
                            rows: section.hosts.map((h) => [h.host, h.kernel ?? (h.notRead ? `not read: ${h.notRead}` : "—"), h.accel ?? "—"]),
                        },
                    },
                    {
                        table: {
                            head: ["Host", "Check", "Expected", "Found", "Ready"],
                            rows: section.hosts.flatMap((h): HtmlCell[][] =>
                                h.notRead
                                    ? [[h.host, "not read", "", h.notRead, { text: "unknown", mark: "warn" as const }]]
                                    : h.checks.map((c) => [
                                          h.host,
                                          c.name,
                                          c.expected,
                                          c.found,
                                          { text: c.pass ? "yes" : "no", mark: c.pass ? ("pass" as const) : ("fail" as const) },
                                      ]),
                            ),
                        },
                    },
                ],
            },
        ],
    };
}
