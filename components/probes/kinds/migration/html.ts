/**
 * The live-migration probe in the HTML report: per migration, its timeline
 * (the packet stream's gaps around the switchover, virsh migrate's window
 * shaded) beside its figures: total, setup, iterations, data sent, dirty
 * rate, libvirt's and QEMU's downtime, the network downtime and its
 * resolution, packets lost, the pins on the destination.
 */
import type { HtmlBlock, KindHtml } from "../../reports/htmlBlocks";
import { formatNumber } from "../../verdict";
import type { Chart } from "../kind";
import { migrationChartName } from "./report";
import type { MigrationLeg, MigrationResult } from "./types";
import { legPlace } from "./verdict";

const n = (v: number | null, unit = "") => (v === null ? "—" : `${formatNumber(v)}${unit}`);

export function migrationHtml(results: MigrationResult[], charts: Chart[]): KindHtml {
    if (results.length === 0) return { sections: [] };
    const blocks: HtmlBlock[] = [];
    for (const r of results) {
        // One column per move, so the way there and the way back read side by side.
        const rows: [string, (leg: MigrationLeg) => string][] = [
            ["Result", (leg) => (leg.error ? `failed: ${leg.error}` : `runs on ${leg.runsOn ?? "?"}`)],
            ["Total (libvirt)", (leg) => n(leg.totalMs, " ms")],
            ["Setup", (leg) => n(leg.setupMs, " ms")],
            ["Iterations", (leg) => n(leg.iterations)],
            ["Sent", (leg) => (leg.bytes === null ? "—" : `${formatNumber(Math.round((leg.bytes / 1024 ** 2) * 10) / 10)} MiB`)],
            ["Dirty rate (last iteration)", (leg) => n(leg.dirtyMiBps, " MiB/s")],
            ["Downtime (libvirt)", (leg) => n(leg.downtimeMs, " ms")],
            ["Downtime w/o network (QEMU)", (leg) => n(leg.downtimeQemuMs, " ms")],
            ["Network downtime (largest packet gap)", (leg) => n(leg.networkDowntimeMs, " ms")],
            ["Resolution (stream spacing)", (leg) => n(leg.resolutionMs, " ms")],
            ["Packets (lost)", (leg) => `${leg.packets} (${leg.lost})`],
            [
                "Pins on the destination",
                (leg) =>
                    leg.pins.every((p) => p.actual === p.expected)
                        ? `as planned (${leg.pins.map((p) => `${p.vcpu}→${p.actual}`).join(", ")})`
                        : leg.pins.map((p) => `vCPU ${p.vcpu}: ${p.actual ?? "none"} (plan ${p.expected})`).join(", "),
            ],
            ["virsh wall clock", (leg) => `${leg.wallMs} ms`],
        ];
        blocks.push(
            { heading: `${r.guest}: ${r.workload} workload, ${r.parameters || "libvirt's default parameters"}, packet stream ${r.packetRateHz} Hz` },
            {
                table: {
                    head: ["Figure", ...r.legs.map((leg) => `${leg.from} → ${leg.to}`)],
                    rows: rows.map(([name, value]) => [
                        name,
                        ...r.legs.map((leg) => (leg.error && name !== "Result" && name !== "virsh wall clock" ? "—" : value(leg))),
                    ]),
                },
            },
        );
        r.legs.forEach((leg, i) => {
            const chart = charts.find((c) => c.fileName === migrationChartName(r.guest, i, leg));
            if (chart) blocks.push({ chart });
        });
        const notes = [...r.legs.flatMap((leg) => (leg.workloadNote ? [`${legPlace(r.guest, leg)}: ${leg.workloadNote}`] : [])), ...r.notes];
        if (notes.length > 0) blocks.push({ list: notes });
    }
    return {
        sections: [{ title: "Migration timelines", blocks }],
        tools: [...new Set(results.flatMap((r) => r.commands))].map((command) => ({
            tool: command.split(/\s+/)[0] ?? "",
            version: null,
            where: results.map((r) => r.guest).join(", "),
            command,
        })),
    };
}
