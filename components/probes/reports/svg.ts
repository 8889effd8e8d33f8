/**
 * An SVG latency histogram (the latency kind draws one per guest and tool): bars on a log-scale count
 * axis (tails of a few samples stay visible next to millions), the target
 * as a dashed vertical line, labelled axes, and a note for samples beyond
 * the histogram's range. Self-contained (no CSS, no fonts to fetch).
 */
import { logBuckets, needsLogAxis } from "../logBuckets";
import { formatPercentile } from "../stats";
import type { Bound } from "../targets";
import type { LatencyStats } from "../types";
import { formatNumber, formatTarget } from "../verdict";
import { escapeXml } from "./escape";

export interface HistogramChart {
    /** Title drawn at the top, e.g. `cyclictest timer latency on vnf-a`. */
    title: string;
    stats: LatencyStats;
    /** Target drawn as a vertical line; omitted when the figure has none. */
    target?: Bound;
    /** What the text says when there is no histogram. @default "no histogram recorded" */
    emptyNote?: string;
}

const W = 720;
const H = 400;
const M = { left: 70, right: 24, top: 48, bottom: 64 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
/** The count axis starts half a decade below 1 so that a bucket holding one sample still shows. */
const LOG_FLOOR = -0.3;

export function histogramSvg(chart: HistogramChart): string {
    const { stats, target } = chart;
    const parts: string[] = [];
    parts.push(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
        `<title>${escapeXml(chart.title)}</title>`,
        `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
        `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    );
    const hist = stats.histogram;
    if (hist.length === 0) {
        // Still the sample count and the target, so a reader sees what was measured against what.
        const figures = `${stats.samples} samples${stats.expectedSamples != null ? ` of ${stats.expectedSamples} expected` : ""}, max ${show(stats.maxUs)}`;
        const targetText = target ? `target ${target.op === "<=" ? "≤ " : ""}${formatTarget(target)}` : "no target";
        parts.push(
            `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeXml(chart.emptyNote ?? "no histogram recorded")}</text>`,
            `<text x="${W / 2}" y="${H / 2 + 20}" text-anchor="middle">${escapeXml(figures)}</text>`,
            `<text x="${W / 2}" y="${H / 2 + 40}" text-anchor="middle" fill="#c62828">${escapeXml(targetText)}</text>`,
            "</svg>",
        );
        return parts.join("\n") + "\n";
    }
    if (needsLogAxis(hist)) {
        drawLogAxis(parts, stats, target);
        return parts.join("\n") + "\n";
    }
    const width = bucketWidth(hist.map((b) => b.us));
    const lastEdge = hist[hist.length - 1].us + width;
    const xMax = niceCeil(Math.max(lastEdge, target ? target.value * 1.1 : 0, 1));
    const x = (us: number) => M.left + (us / xMax) * PW;
    const y = drawCountAxis(parts, Math.max(...hist.map((b) => b.count)));
    // Bars.
    for (const b of hist) {
        const x0 = x(b.us);
        const w = Math.max(1, x(b.us + width) - x0 - (x(width) - x(0) > 3 ? 1 : 0));
        const top = y(b.count);
        parts.push(
            `<rect x="${x0.toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" height="${(M.top + PH - top).toFixed(1)}" fill="#4a78b5"><title>${formatNumber(b.us)} µs: ${b.count}</title></rect>`,
        );
    }
    // Latency axis.
    const step = niceStep(xMax / 8);
    for (let t = 0; t <= xMax + 1e-9; t += step) {
        const xx = x(t).toFixed(1);
        parts.push(
            `<line x1="${xx}" y1="${M.top + PH}" x2="${xx}" y2="${M.top + PH + 5}" stroke="#333"/>`,
            `<text x="${xx}" y="${M.top + PH + 18}" text-anchor="middle">${formatNumber(t)}</text>`,
        );
    }
    drawFrame(parts, "latency (µs)", x, target, stats);
    return parts.join("\n") + "\n";
}

/** The figures under every chart: samples (and expected), min, avg, max, p99, overflows. */
function summaryLine(stats: LatencyStats): string {
    return (
        `${stats.samples} samples${stats.expectedSamples != null ? ` of ${stats.expectedSamples} expected` : ""}, min ${show(stats.minUs)}, avg ${show(stats.avgUs)}, max ${show(stats.maxUs)}, p99 ${formatPercentile(stats, "p99")}` +
        (stats.overflow > 0 ? `; ${stats.overflow} over range (not drawn)` : "")
    );
}

/** The count axis both histogram charts share: log scale, one grid line per decade. Returns the y of a count. */
function drawCountAxis(parts: string[], maxCount: number): (count: number) => number {
    const decades = Math.max(1, Math.ceil(Math.log10(maxCount)));
    const y = (count: number) => M.top + PH - ((Math.log10(count) - LOG_FLOOR) / (decades - LOG_FLOOR)) * PH;
    for (let d = 0; d <= decades; d++) {
        const yy = y(10 ** d).toFixed(1);
        parts.push(
            `<line x1="${M.left}" y1="${yy}" x2="${M.left + PW}" y2="${yy}" stroke="#e0e0e0"/>`,
            `<text x="${M.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${countLabel(10 ** d)}</text>`,
        );
    }
    return y;
}

/**
 * A histogram spanning decades (TCG: 50 µs to 300 ms) on a log latency axis:
 * the tool's buckets re-bucketed 10 per decade (logBuckets.ts), one tick per
 * decade with its unit, the target line where it falls.
 */
function drawLogAxis(parts: string[], stats: LatencyStats, target: Bound | undefined): void {
    const bins = logBuckets(stats.histogram);
    const highUs = Math.max(bins[bins.length - 1].toUs, target ? target.value * 1.5 : 0, stats.rangeUs ?? 0);
    const lowDecade = Math.min(0, Math.floor(Math.log10(Math.max(1, bins.find((b) => b.fromUs > 0)?.fromUs ?? 1))));
    const highDecade = Math.max(lowDecade + 1, Math.ceil(Math.log10(highUs) - 1e-9));
    // [0, 1 µs) gets the strip left of 1 µs, as wide as one tenth of a decade.
    const x = (us: number) => M.left + ((Math.log10(Math.max(us, 10 ** (lowDecade - 0.1))) - (lowDecade - 0.1)) / (highDecade - lowDecade + 0.1)) * PW;
    const y = drawCountAxis(parts, Math.max(...bins.map((b) => b.count)));
    for (const b of bins) {
        const x0 = x(b.fromUs);
        const w = Math.max(1, x(b.toUs) - x0 - 1);
        const top = y(b.count);
        parts.push(
            `<rect x="${x0.toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" height="${(M.top + PH - top).toFixed(1)}" fill="#4a78b5"><title>${formatNumber(b.fromUs)}–${formatNumber(b.toUs)} µs: ${b.count}</title></rect>`,
        );
    }
    for (let d = lowDecade; d <= highDecade; d++) {
        const xx = x(10 ** d).toFixed(1);
        parts.push(
            `<line x1="${xx}" y1="${M.top + PH}" x2="${xx}" y2="${M.top + PH + 5}" stroke="#333"/>`,
            `<text x="${xx}" y="${M.top + PH + 18}" text-anchor="middle">${decadeLabel(d)}</text>`,
        );
    }
    drawFrame(parts, "latency (log scale, 10 buckets per decade)", x, target, stats);
}

/** What both histogram charts end with: the axes and their labels, the target line, the figures, the closing tag. */
function drawFrame(parts: string[], latencyLabel: string, x: (us: number) => number, target: Bound | undefined, stats: LatencyStats): void {
    parts.push(
        `<line x1="${M.left}" y1="${M.top + PH}" x2="${M.left + PW}" y2="${M.top + PH}" stroke="#333"/>`,
        `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + PH}" stroke="#333"/>`,
        `<text x="${M.left + PW / 2}" y="${H - 28}" text-anchor="middle">${latencyLabel}</text>`,
        `<text x="18" y="${M.top + PH / 2}" text-anchor="middle" transform="rotate(-90 18 ${M.top + PH / 2})">samples (log scale)</text>`,
    );
    if (target) {
        const xx = x(target.value).toFixed(1);
        const label = `target ${target.op === "<=" ? "≤ " : ""}${formatTarget(target)}`;
        parts.push(
            `<line x1="${xx}" y1="${M.top}" x2="${xx}" y2="${M.top + PH}" stroke="#c62828" stroke-width="2" stroke-dasharray="6 4"/>`,
            // Left-aligned past the line, so it never sits on the y axis labels.
            `<text x="${(Number(xx) + 4).toFixed(1)}" y="${M.top - 6}" fill="#c62828">${escapeXml(label)}</text>`,
        );
    }
    parts.push(`<text x="${M.left}" y="${H - 8}" font-size="11">${escapeXml(summaryLine(stats))}</text>`, "</svg>");
}

/** 10^d µs with its unit: 1 µs, 100 µs, 1 ms, 10 ms, 1 s. */
function decadeLabel(d: number): string {
    if (d < 3) return `${10 ** d} µs`;
    if (d < 6) return `${10 ** (d - 3)} ms`;
    return `${10 ** (d - 6)} s`;
}

function show(v: number | null): string {
    return v === null ? "n/a" : `${formatNumber(v)} µs`;
}

function countLabel(n: number): string {
    return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

/** Width of one bucket: the smallest gap between bucket edges, 1 µs when there is a single bucket. */
function bucketWidth(edges: number[]): number {
    let w = Infinity;
    for (let i = 1; i < edges.length; i++) w = Math.min(w, edges[i] - edges[i - 1]);
    return Number.isFinite(w) && w > 0 ? w : 1;
}

function niceStep(raw: number): number {
    const p = 10 ** Math.floor(Math.log10(raw));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

function niceCeil(v: number): number {
    const step = niceStep(v / 8);
    return Math.ceil(v / step) * step;
}
