/**
 * The live-migration probe in the reports: a Markdown section (per
 * migration: every figure libvirt gives, the network downtime and its
 * resolution, the pins on the destination) and one SVG per migration: the
 * packet stream's gaps over time around the switchover, with the migration's
 * window shaded and the network-downtime target as a dashed line.
 */
import { legPlace, NETWORK_EXCESS_TOLERANCE_MS } from "./verdict";
import type { Bound } from "../../targets";
import type { MigrationLeg, MigrationResult } from "./types";
import { formatNumber, formatTarget } from "../../verdict";
import { escapeXml } from "../../reports/escape";

const n = (v: number | null, unit = "") => (v === null ? "—" : `${formatNumber(v)}${unit}`);
const mib = (b: number | null) => (b === null ? "—" : `${formatNumber(Math.round((b / 1024 ** 2) * 10) / 10)} MiB`);

export function migrationMarkdown(results: MigrationResult[]): string {
    if (results.length === 0) return "";
    const out = [
        "",
        "### Live migration",
        "",
        "| Migration | Workload | Total | Setup | Iterations | Sent | Dirty rate | Downtime (libvirt) | Downtime w/o network (QEMU) | Network downtime | Resolution | Packets (lost) | Pins on destination | virsh wall clock |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ];
    for (const r of results) {
        for (const leg of r.legs) {
            if (leg.error) {
                out.push(
                    `| ${legPlace(r.guest, leg)} | ${r.workload} | failed: ${leg.error.replace(/\|/g, "\\|")} |  |  |  |  |  |  |  |  |  |  | ${leg.wallMs} ms |`,
                );
                continue;
            }
            const pins = leg.pins.every((p) => p.actual === p.expected)
                ? `as planned (${leg.pins.map((p) => `${p.vcpu}→${p.actual}`).join(", ")})`
                : leg.pins.map((p) => `vCPU ${p.vcpu}: ${p.actual ?? "none"} (plan ${p.expected})`).join(", ");
            out.push(
                `| ${legPlace(r.guest, leg)} | ${r.workload} | ${n(leg.totalMs, " ms")} | ${n(leg.setupMs, " ms")} | ${n(leg.iterations)} | ${mib(leg.bytes)} | ${n(leg.dirtyMiBps, " MiB/s")} | ${n(leg.downtimeMs, " ms")} | ${n(leg.downtimeQemuMs, " ms")} | ${n(leg.networkDowntimeMs, " ms")} | ${n(leg.resolutionMs, " ms")} | ${leg.packets} (${leg.lost}) | ${pins} | ${leg.wallMs} ms |`,
            );
        }
        out.push("", `Parameters of ${r.guest}: ${r.parameters}; packet stream ${r.packetRateHz} Hz asked.`);
        const notes = r.legs.flatMap((l) => (l.workloadNote ? [`${legPlace(r.guest, l)}: ${l.workloadNote}`] : []));
        if (notes.length) out.push("", ...notes.map((x) => `- ${x}`));
    }
    out.push(
        "",
        `Network downtime is the largest gap between packets of the guest's sequence-numbered UDP stream inside the migration's window, by kernel receive timestamps on the control side; its resolution is the stream's mean spacing (span over packets). ` +
            `It is checked against libvirt's downtime: never shorter by more than two intervals, longer by at most ${NETWORK_EXCESS_TOLERANCE_MS} ms.`,
        "",
        "Commands:",
        "",
        ...[...new Set(results.flatMap((r) => r.commands))].map((c) => `- \`${c.replace(/`/g, "'")}\``),
    );
    return out.join("\n") + "\n";
}

const W = 720;
const H = 360;
const M = { left: 70, right: 24, top: 48, bottom: 64 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** Gaps (ms) against time (s from the migration's start): one bar per gap, the window shaded, the target dashed. */
export function migrationGapSvg(guest: string, leg: MigrationLeg, target?: Bound): string {
    const title = `packet gaps during the migration of ${legPlace(guest, leg)}`;
    const parts = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(title)}</title>`,
        `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
        `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ];
    if (leg.error || leg.gaps.length === 0) {
        parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeXml(leg.error ?? "no gap above 2 ms")}</text>`, "</svg>");
        return parts.join("\n") + "\n";
    }
    const windowMs = leg.wallMs;
    const t0 = Math.min(-1000, ...leg.gaps.map((g) => g.startMs));
    const t1 = Math.max(windowMs + 1000, ...leg.gaps.map((g) => g.endMs));
    const peak = Math.max(...leg.gaps.map((g) => g.gapMs), target?.value ?? 0);
    const yMax = niceCeil(peak * 1.1);
    const x = (ms: number) => M.left + ((ms - t0) / (t1 - t0)) * PW;
    const y = (v: number) => M.top + PH - (v / yMax) * PH;
    parts.push(
        `<rect x="${x(0).toFixed(1)}" y="${M.top}" width="${(x(windowMs) - x(0)).toFixed(1)}" height="${PH}" fill="#fff3e0"><title>virsh migrate ran here (${windowMs} ms)</title></rect>`,
    );
    for (let k = 0; k <= 5; k++) {
        const v = (yMax * k) / 5;
        parts.push(
            `<line x1="${M.left}" y1="${y(v).toFixed(1)}" x2="${M.left + PW}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`,
            `<text x="${M.left - 6}" y="${y(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${formatNumber(v)}</text>`,
        );
    }
    for (let s = Math.ceil(t0 / 1000); s <= Math.floor(t1 / 1000); s++) {
        parts.push(`<text x="${x(s * 1000).toFixed(1)}" y="${M.top + PH + 18}" text-anchor="middle">${s}</text>`);
    }
    for (const g of leg.gaps) {
        const worst = g.gapMs === leg.networkDowntimeMs;
        const w = Math.max(1.5, x(g.endMs) - x(g.startMs));
        parts.push(
            `<rect x="${x(g.startMs).toFixed(1)}" y="${y(g.gapMs).toFixed(1)}" width="${w.toFixed(1)}" height="${(M.top + PH - y(g.gapMs)).toFixed(1)}" fill="${worst ? "#c62828" : "#4a78b5"}">` +
                `<title>${escapeXml(`${formatNumber(g.gapMs)} ms between seq ${g.seqBefore} and ${g.seqAfter}, from ${formatNumber(g.startMs)} ms`)}</title></rect>`,
        );
    }
    if (target) {
        const yy = y(target.value).toFixed(1);
        parts.push(
            `<line x1="${M.left}" y1="${yy}" x2="${M.left + PW}" y2="${yy}" stroke="#c62828" stroke-width="2" stroke-dasharray="6 4"/>`,
            `<text x="${M.left + 4}" y="${Number(yy) - 4}" fill="#c62828">${escapeXml(`network downtime target ${formatTarget(target)}`)}</text>`,
        );
    }
    parts.push(
        `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`,
        `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`,
        `<text x="${M.left + PW / 2}" y="${H - 28}" text-anchor="middle">seconds from the start of virsh migrate (shaded: while it ran)</text>`,
        `<text x="18" y="${M.top + PH / 2}" text-anchor="middle" transform="rotate(-90 18 ${M.top + PH / 2})">gap between packets (ms)</text>`,
        `<text x="${M.left}" y="${H - 8}" font-size="11">${escapeXml(
            `network downtime ${n(leg.networkDowntimeMs, " ms")} (red), libvirt downtime ${n(leg.downtimeMs, " ms")}, resolution ${n(leg.resolutionMs, " ms")}, ${leg.packets} packets, ${leg.lost} lost`,
        )}</text>`,
        "</svg>",
    );
    return parts.join("\n") + "\n";
}

function niceCeil(v: number): number {
    if (v <= 0) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    const f = v / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** File name of a migration's chart, e.g. `vnf-migration-1-lab-1-lab-2.svg`. */
export function migrationChartName(guest: string, index: number, leg: MigrationLeg): string {
    return `${guest}-migration-${index + 1}-${leg.from}-${leg.to}.svg`.replace(/[^A-Za-z0-9._-]/g, "_");
}
