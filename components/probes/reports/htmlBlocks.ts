/**
 * The words a kind's part of the HTML report is made of: plain data
 * (headings, paragraphs, lists, tables, charts, command lines) that the page
 * renders and escapes in one place, so no kind writes markup and no value
 * reaches the page unescaped. A kind returns them from its report hook
 * (`KindReport.html`, kinds/kind.ts); the page (html.ts) knows no kind.
 */
import type { Chart } from "../kinds/kind";

/** A table cell: text, a number, empty (null), or text with a mark (pass/fail colour), as code, or with a hover title. */
export type HtmlCell = string | number | null | { text: string; mark?: "pass" | "fail" | "warn"; code?: boolean; title?: string };

export type HtmlBlock =
    | { heading: string }
    | { paragraph: string }
    | { list: string[] }
    | { table: { caption?: string; head: string[]; rows: HtmlCell[][] } }
    /** A chart the kind drew (`report.charts`), inline; the page adds any chart a kind leaves out. */
    | { chart: Chart }
    | { code: string[] };

/** One section of the page, with its own entry in the contents. */
export interface HtmlSection {
    title: string;
    blocks: HtmlBlock[];
}

/** A tool a kind ran, for the page's one table of tools and versions. */
export interface HtmlTool {
    tool: string;
    /** As the tool reported it; null when it does not say (the kit's own programs). */
    version: string | null;
    /** Where it ran: a guest, a link, a move. */
    where: string;
    command: string;
}

/** What a kind gives the HTML report. */
export interface KindHtml {
    sections: HtmlSection[];
    tools?: HtmlTool[];
}

/** Escapes text for HTML element content and attribute values (quoted). */
export function escapeHtml(text: string): string {
    return (
        String(text)
            .replace(/&/g, "&amp;")
            .replace(/</g, "&lt;")
            .replace(/>/g, "&gt;")
            .replace(/"/g, "&quot;")
            .replace(/'/g, "&#39;")
            // Tool output may carry control characters (rtla's colour codes): they have no business in a page.
            // eslint-disable-next-line no-control-regex
            .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, "")
    );
}

/** A table in a box that scrolls sideways on a narrow screen instead of overflowing the page. */
export function renderTable(
    table: { caption?: string; head: string[]; rows: HtmlCell[][] },
    opts: { cls?: string; rowClass?: (row: number) => string | undefined } = {},
): string {
    const head = `<thead><tr>${table.head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join("")}</tr></thead>`;
    const body = table.rows
        .map((row, i) => {
            const cls = opts.rowClass?.(i);
            return `<tr${cls ? ` class="${escapeHtml(cls)}"` : ""}>${row.map(renderCell).join("")}</tr>`;
        })
        .join("\n");
    const caption = table.caption ? `<caption>${escapeHtml(table.caption)}</caption>` : "";
    return `<div class="scroll"><table${opts.cls ? ` class="${escapeHtml(opts.cls)}"` : ""}>${caption}${head}<tbody>\n${body}\n</tbody></table></div>`;
}

function renderCell(cell: HtmlCell): string {
    if (cell === null) return "<td></td>";
    if (typeof cell === "number") return `<td class="num">${escapeHtml(String(cell))}</td>`;
    if (typeof cell === "string") return `<td>${escapeHtml(cell)}</td>`;
    const cls = cell.mark ? ` class="${cell.mark}"` : "";
    const title = cell.title ? ` title="${escapeHtml(cell.title)}"` : "";
    const text = escapeHtml(cell.text);
    return `<td${cls}${title}>${cell.code ? `<code>${text}</code>` : text}</td>`;
}

/** An inline chart: the SVG as the kind's writer made it (its text already XML-escaped), with its file named beneath. */
export function renderChart(chart: Chart, folder = "histograms"): string {
    return `<figure class="chart">${chart.svg.trim()}<figcaption>${escapeHtml(`${folder}/${chart.fileName}`)}</figcaption></figure>`;
}

export function renderBlocks(blocks: readonly HtmlBlock[]): string {
    return blocks
        .map((b) => {
            if ("heading" in b) return `<h3>${escapeHtml(b.heading)}</h3>`;
            if ("paragraph" in b) return `<p>${escapeHtml(b.paragraph)}</p>`;
            if ("list" in b) return b.list.length === 0 ? "" : `<ul>${b.list.map((i) => `<li>${escapeHtml(i)}</li>`).join("")}</ul>`;
            if ("table" in b) return renderTable(b.table);
            if ("chart" in b) return renderChart(b.chart);
            return `<pre class="code">${b.code.map(escapeHtml).join("\n")}</pre>`;
        })
        .filter((s) => s !== "")
        .join("\n");
}
