/**
 * One check's trend over the last runs of the history (history.jsonl), as an
 * SVG for the HTML report: one point per run (blue when it met its target,
 * red when not, the newest run ringed), joined by a line, the target as a
 * dashed red line where it fits the scale. A figure spread over more than
 * two decades (TCG: 50 µs one run, 300 ms the next) gets a log axis. Pure;
 * no CSS, no fonts to fetch.
 */
import type { Bound } from "../targets";
import { formatNumber, formatTarget, unitSymbol } from "../verdict";
import { escapeXml } from "./escape";

export interface TrendPoint {
    /** The run's 1-based place in history.jsonl. */
    run: number;
    /** ISO time of the run. */
    time: string;
    /** The figure; null when the run measured nothing for this check (drawn as a grey mark on the axis). */
    value: number | null;
    pass: boolean;
}

export interface TrendChart {
    title: string;
    /** Oldest first; the last one is the newest run. */
    points: TrendPoint[];
    target: Pick<Bound, "op" | "value" | "unit">;
}

const W = 380;
const H = 220;
const M = { left: 56, right: 14, top: 40, bottom: 52 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

export function trendSvg(chart: TrendChart): string {
    const { points, target } = chart;
    const unit = unitSymbol(target.unit);
    const show = (v: number) => `${formatNumber(v)}${unit ? ` ${unit}` : ""}`;
    const parts = [
        `<svg class="trend" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
        `<title>${escapeXml(chart.title)}</title>`,
        `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
        `<text x="${W / 2}" y="18" text-anchor="middle" font-size="12" font-weight="bold">${escapeXml(clip(chart.title, 58))}</text>`,
    ];
    const values = points.map((p) => p.value).filter((v): v is number => v !== null);
    const targetText = `target ${target.op === "<=" ? "≤ " : ""}${formatTarget(target)}`;
    if (values.length === 0) {
        parts.push(
            `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeXml(`no figure in the last ${points.length} run(s)`)}</text>`,
            `<text x="${W / 2}" y="${H / 2 + 18}" text-anchor="middle" fill="#c62828">${escapeXml(targetText)}</text>`,
            "</svg>",
        );
        return parts.join("\n") + "\n";
    }
    const peak = Math.max(...values);
    // The target is drawn unless it lies far above the figures (65 Mpps against 0.3 under TCG): then it is named instead.
    const targetFits = target.value <= Math.max(peak, 1e-9) * 3;
    const span = [...values, ...(targetFits ? [target.value] : [])];
    const log = Math.min(...span) > 0 && Math.max(...span) / Math.min(...span) > 100;
    let y: (v: number) => number;
    if (log) {
        const d0 = Math.floor(Math.log10(Math.min(...span)));
        const d1 = Math.max(d0 + 1, Math.ceil(Math.log10(Math.max(...span))));
        y = (v: number) => M.top + PH - ((Math.log10(v) - d0) / (d1 - d0)) * PH;
        for (let d = d0; d <= d1; d++) gridLine(parts, y(10 ** d), formatNumber(10 ** d));
    } else {
        const top = niceCeil(Math.max(...span) * 1.1);
        y = (v: number) => M.top + PH - (v / top) * PH;
        for (let k = 0; k <= 4; k++) gridLine(parts, y((top * k) / 4), formatNumber((top * k) / 4));
    }
    const x = (i: number) => M.left + (points.length <= 1 ? PW / 2 : (i / (points.length - 1)) * PW);
    if (targetFits) {
        const yy = y(target.value).toFixed(1);
        parts.push(
            `<line x1="${M.left}" y1="${yy}" x2="${M.left + PW}" y2="${yy}" stroke="#c62828" stroke-width="1.5" stroke-dasharray="6 4"/>`,
            `<text x="${M.left + 4}" y="${Number(yy) - 4}" fill="#c62828">${escapeXml(targetText)}</text>`,
        );
    }
    // The line joins runs that have a figure; a run without one breaks nothing but shows as a grey mark.
    const joined = points.flatMap((p, i) => (p.value === null ? [] : [`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`]));
    if (joined.length > 1) parts.push(`<polyline points="${joined.join(" ")}" fill="none" stroke="#4a78b5" stroke-width="1.5"/>`);
    const labelEvery = Math.ceil(points.length / 10);
    points.forEach((p, i) => {
        const xx = x(i).toFixed(1);
        const newest = i === points.length - 1;
        const when = p.time.slice(0, 16).replace("T", " ");
        if (p.value === null) {
            parts.push(
                `<rect class="missing" x="${(x(i) - 3).toFixed(1)}" y="${M.top + PH - 3}" width="6" height="6" fill="#9e9e9e"><title>${escapeXml(`run #${p.run} (${when}): no figure`)}</title></rect>`,
            );
        } else {
            const colour = p.pass ? "#4a78b5" : "#c62828";
            parts.push(
                `<circle class="run" cx="${xx}" cy="${y(p.value).toFixed(1)}" r="${newest ? 5 : 3.5}" fill="${colour}"${newest ? ' stroke="#111" stroke-width="1.5"' : ""}>` +
                    `<title>${escapeXml(`run #${p.run} (${when}): ${show(p.value)}, ${p.pass ? "met" : "missed"} its target`)}</title></circle>`,
            );
        }
        if (i % labelEvery === 0 || newest) parts.push(`<text x="${xx}" y="${M.top + PH + 16}" text-anchor="middle">#${p.run}</text>`);
    });
    const last = points[points.length - 1];
    const first = points[0];
    parts.push(
        `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`,
        `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`,
        `<text x="${M.left + PW / 2}" y="${M.top + PH + 32}" text-anchor="middle">${escapeXml(
            `run in history.jsonl (${first.time.slice(0, 10)} to ${last.time.slice(0, 10)})${log ? "; log scale" : ""}`,
        )}</text>`,
        `<text x="${M.left}" y="${H - 4}" font-size="10">${escapeXml(
            `newest #${last.run}: ${last.value === null ? "no figure" : show(last.value)}` + (targetFits ? "" : `; ${targetText} is off this scale`),
        )}</text>`,
        "</svg>",
    );
    return parts.join("\n") + "\n";
}

function gridLine(parts: string[], yy: number, label: string): void {
    parts.push(
        `<line x1="${M.left}" y1="${yy.toFixed(1)}" x2="${M.left + PW}" y2="${yy.toFixed(1)}" stroke="#e0e0e0"/>`,
        `<text x="${M.left - 6}" y="${yy.toFixed(1)}" text-anchor="end" dominant-baseline="middle">${escapeXml(label)}</text>`,
    );
}

function clip(text: string, max: number): string {
    return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function niceCeil(v: number): number {
    if (v <= 0) return 1;
    const p = 10 ** Math.floor(Math.log10(v));
    const f = v / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}
