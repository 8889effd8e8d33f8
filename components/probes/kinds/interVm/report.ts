/**
 * The inter-VM probe in the reports: a Markdown section (per link: rate,
 * ns per packet, bad packets, round trips, the host's limit and the ratio)
 * and one SVG per link of Mpps over time, guest to guest and host to host,
 * with the rate target, so stalls show as dips.
 */
import { formatFigure, linkPlace } from "./verdict";
import type { Bound } from "../../targets";
import type { InterVmResult, RingRoundTrip } from "./types";
import { formatTarget } from "../../verdict";
import { escapeXml } from "../../reports/escape";

export function interVmMarkdown(results: InterVmResult[]): string {
    if (results.length === 0) return "";
    const out = [
        "",
        "### Inter-VM packet rate (nfvkit-ring, 64-byte packets)",
        "",
        "| Link | Burst | Guests: Mpps | ns/packet | Packets | Bad (lost/reordered/corrupt) | Longest gap | Round trip p50 / p99 / max | Host: Mpps | Host unchecked: Mpps (checked ÷ unchecked) | Host round trip p50 / p99 / max | Ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ];
    for (const r of results) {
        const rate = r.rate;
        out.push(
            `| ${linkPlace(r)} | ${r.burst} | ${rate ? formatFigure(rate.mpps) : `no samples (${r.noSamples ?? ""})`.replace(/\|/g, "\\|")} | ${rate ? formatFigure(rate.nsPerPacket) : ""} | ${rate?.packets ?? ""} | ${rate ? `${rate.lost}/${rate.reordered}/${rate.corrupt}` : ""} | ${gap(r)} | ${roundTrip(r.roundTrip)} | ${r.hostRate ? formatFigure(r.hostRate.mpps) : "not run"} | ${ceiling(r)} | ${roundTrip(r.hostRoundTrip)} | ${r.ratio === null ? "" : formatFigure(r.ratio)} |`,
        );
    }
    out.push("", "Commands:", "", ...results.flatMap((r) => r.commands.map((c) => `- \`${c.replace(/`/g, "'")}\``)));
    return out.join("\n") + "\n";
}

/** The consumer's longest wait between two arrivals, and when it began: a stalled producer shows here. */
function gap(r: InterVmResult): string {
    const g = r.rate?.maxGapNs;
    if (g === undefined || g === null) return "";
    return `${formatFigure(g / 1e6)} ms at ${formatFigure((r.rate?.maxGapAtNs ?? 0) / 1e9)} s (${r.rate?.packets} packets)`;
}

/** The host's ceiling (nothing checked) and what checking costs: checked Mpps ÷ unchecked Mpps. */
function ceiling(r: InterVmResult): string {
    const c = r.hostCeiling;
    if (!c) return "";
    return r.hostRate && c.mpps > 0 ? `${formatFigure(c.mpps)} (${formatFigure(r.hostRate.mpps / c.mpps)})` : formatFigure(c.mpps);
}

function roundTrip(rt: RingRoundTrip | null): string {
    if (!rt) return "";
    const us = (ns: number) => formatFigure(ns / 1000);
    return `${us(rt.p50Ns)} / ${us(rt.p99Ns)} / ${us(rt.maxNs)} µs`;
}

const W = 720;
const H = 360;
const M = { left: 70, right: 24, top: 48, bottom: 64 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** A chart of Mpps per second: guest to guest (blue), host to host (grey), the target (dashed red) when it fits the scale. */
export function interVmRateSvg(r: InterVmResult, target?: Bound): string {
    const title = `inter-VM rate on ${linkPlace(r)}`;
    const guest = r.rate?.perSecondMpps ?? [];
    const host = r.hostRate?.perSecondMpps ?? [];
    const parts = [
        `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(title)}</title>`,
        `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
        `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ];
    if (guest.length === 0 && host.length === 0) {
        parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeXml(r.noSamples ?? "no samples")}</text>`, "</svg>");
        return parts.join("\n") + "\n";
    }
    // The scale fits the measured figures; a target far above them (65 Mpps under TCG) is named, not drawn off the chart.
    const peak = Math.max(...guest, ...host, 1e-6);
    const targetFits = target !== undefined && target.value <= peak * 1.5;
    const yMax = niceCeil(Math.max(peak, targetFits ? target.value : 0) * 1.1);
    const seconds = Math.max(guest.length, host.length);
    const x = (i: number) => M.left + (seconds <= 1 ? PW / 2 : (i / (seconds - 1)) * PW);
    const y = (v: number) => M.top + PH - (v / yMax) * PH;
    for (let k = 0; k <= 5; k++) {
        const v = (yMax * k) / 5;
        parts.push(
            `<line x1="${M.left}" y1="${y(v).toFixed(1)}" x2="${M.left + PW}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`,
            `<text x="${M.left - 6}" y="${y(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${formatFigure(v)}</text>`,
        );
    }
    for (let i = 0; i < seconds; i++) {
        parts.push(`<text x="${x(i).toFixed(1)}" y="${M.top + PH + 18}" text-anchor="middle">${i}</text>`);
    }
    const line = (values: number[], colour: string, label: string) => {
        if (values.length === 0) return;
        const pts = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
        parts.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
        for (const [i, v] of values.entries()) {
            parts.push(
                `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${colour}"><title>${escapeXml(`${label}, second ${i}: ${formatFigure(v)} Mpps`)}</title></circle>`,
            );
        }
    };
    line(host, "#9e9e9e", "host processes");
    line(guest, "#4a78b5", "guest to guest");
    parts.push(
        `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`,
        `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`,
        `<text x="${M.left + PW / 2}" y="${H - 28}" text-anchor="middle">second of the run (the last one may be partial)</text>`,
        `<text x="18" y="${M.top + PH / 2}" text-anchor="middle" transform="rotate(-90 18 ${M.top + PH / 2})">Mpps</text>`,
    );
    if (target && targetFits) {
        const yy = y(target.value).toFixed(1);
        parts.push(
            `<line x1="${M.left}" y1="${yy}" x2="${M.left + PW}" y2="${yy}" stroke="#c62828" stroke-width="2" stroke-dasharray="6 4"/>`,
            `<text x="${M.left + 4}" y="${Number(yy) - 4}" fill="#c62828">${escapeXml(`target ${formatTarget(target)}`)}</text>`,
        );
    }
    const summary =
        `guests (blue): ${r.rate ? `${formatFigure(r.rate.mpps)} Mpps` : "no samples"}; host (grey): ${r.hostRate ? `${formatFigure(r.hostRate.mpps)} Mpps` : "not run"}` +
        (r.ratio !== null ? `; ratio ${formatFigure(r.ratio)}` : "") +
        (target && !targetFits ? `; target ${formatTarget(target)} is off this scale` : "");
    parts.push(`<text x="${M.left}" y="${H - 8}" font-size="11">${escapeXml(summary)}</text>`, "</svg>");
    return parts.join("\n") + "\n";
}

function niceCeil(v: number): number {
    const p = 10 ** Math.floor(Math.log10(v));
    const f = v / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

/** File name of a link's chart, e.g. `ring0-interVm.svg`. */
export function interVmChartName(r: InterVmResult): string {
    return `${r.link}-interVm.svg`.replace(/[^A-Za-z0-9._-]/g, "_");
}
