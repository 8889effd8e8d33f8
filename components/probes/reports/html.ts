/**
 * One HTML page per run (`results/<stack>/index.html`), for the people who
 * sign off a host: the verdict and the failures first, the checks table
 * with targets and sample counts, then each kind's own sections (the host
 * readiness, every histogram, the inter-VM rates against the host limit, the
 * migration timelines: each kind's `report.html`, so a new kind brings its
 * section without touching this file), each check's trend over the last
 * runs of history.jsonl against its target, the tools and their versions,
 * and the notes.
 *
 * One self-contained file that opens offline from disk: its charts are
 * inline SVG, its only style is inline CSS (system fonts), it has no script,
 * and its Content-Security-Policy forbids loading anything at all. Tables
 * scroll sideways on a phone, charts shrink to the screen, and print CSS
 * gives paper the same content without the contents list. Every value is
 * escaped. Pure: the caller gives the time, the commit and the history.
 */
import { createHash } from "node:crypto";
import { describeChange } from "../baseline";
import { checkLabel, type HistoryHost, type HistoryRun } from "../history";
import type { AnyProbeKind, Chart } from "../kinds/kind";
import { PROBE_KINDS } from "../kinds/registry";
import type { PipelinePartial } from "../resultsWriter";
import { formatNumber, formatTarget, unitSymbol, type Check, type Verdict } from "../verdict";
import { escapeHtml, renderBlocks, renderChart, renderTable, type HtmlCell, type HtmlSection, type HtmlTool } from "./htmlBlocks";
import { trendSvg } from "./trend";

/** Runs a trend chart draws. @default 20: about a month of nightly runs, still readable on a phone. */
export const DEFAULT_TREND_RUNS = 20;

export interface HtmlReportOptions {
    /** e.g. `nfv-testpod/lab`. */
    title: string;
    /** ISO time of the run. */
    generatedAt: string;
    /** The checkout's commit; null outside a git checkout. */
    commit: string | null;
    /** The pod's notes and the verdict's, in that order. */
    notes: string[];
    partial?: PipelinePartial;
    /** Wall time of the run, seconds. */
    seconds?: number | null;
    /** The hosts' facts (kernel, accelerator), as the history keeps them. */
    hosts?: readonly HistoryHost[];
    /** Whose sections to draw. @default the registry's */
    kinds?: readonly AnyProbeKind[];
    /** The history, oldest first, this run last (as history.jsonl holds it after the append). @default none: no trends */
    history?: readonly HistoryRun[];
    /** Lines of history.jsonl that could not be read. */
    historySkipped?: string[];
    /** Runs each trend draws. @default DEFAULT_TREND_RUNS */
    trendRuns?: number;
    /** The other files of the run, relative to the page, with what each holds. */
    files?: { path: string; what: string }[];
}

const CSS = `
:root{color-scheme:light;--fg:#1b1b1b;--muted:#5f6368;--line:#d9d9d9;--pass:#1b7f3b;--fail:#c62828;--warn:#a15c00;--bg-fail:#fdecea;--bg-pass:#e8f5e9;--bg-warn:#fff4e5}
*{box-sizing:border-box}
body{margin:0 auto;padding:16px;max-width:1100px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
p,ul{margin:.4em 0 .8em}code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.88em}
pre.code{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;border:1px solid var(--line);border-radius:4px;padding:8px}
.meta{color:var(--muted);font-size:.9em}
.verdict{border-radius:6px;padding:12px 16px;margin:12px 0;border:1px solid}
.verdict.pass{background:var(--bg-pass);border-color:var(--pass)}.verdict.fail{background:var(--bg-fail);border-color:var(--fail)}
.verdict .headline{font-size:1.2em;font-weight:600;margin:0}
.partial{background:var(--bg-warn);border:1px solid var(--warn);border-radius:6px;padding:8px 12px}
nav ol{columns:2 14em;margin:.4em 0;padding-left:1.4em}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.4em 0 1em;max-width:100%}
table{border-collapse:collapse;font-size:.9em;min-width:100%}
caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.pass{color:var(--pass);font-weight:600}td.fail{color:var(--fail);font-weight:600}td.warn{color:var(--warn);font-weight:600}
tr.failed td{background:var(--bg-fail)}
figure.chart{margin:8px 0 16px;max-width:100%}
figure.chart svg{display:block;max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:.8em}
.trends{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px 16px}
.trends figure{margin:0}
@media (max-width:600px){body{padding:10px;font-size:14px}nav ol{columns:1}h1{font-size:1.25em}th,td{padding:3px 5px}
 figure.chart{overflow-x:auto}figure.chart svg:not(.trend){min-width:560px}}
@media print{
 @page{margin:12mm}
 body{max-width:none;padding:0;font-size:10pt}
 nav{display:none}
 .scroll{overflow:visible}
 table{font-size:8pt;min-width:0}
 figure,tr,.verdict{break-inside:avoid}
 h2{break-after:avoid}
 .trends{grid-template-columns:repeat(2,1fr)}
 a{color:inherit;text-decoration:none}
}
`;

/** The page's whole policy: nothing may be loaded, no script may run; only this page's own style applies. */
export function contentSecurityPolicy(css = CSS): string {
    const hash = createHash("sha256").update(css).digest("base64");
    return `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; font-src 'none'; script-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'`;
}

export function htmlReport(verdict: Verdict, opts: HtmlReportOptions): string {
    const kinds = opts.kinds ?? PROBE_KINDS;
    const sections: { id: string; title: string; body: string }[] = [];
    const tools: HtmlTool[] = [];
    const add = (title: string, body: string) => {
        const base = slug(title);
        let id = base;
        for (let n = 2; sections.some((s) => s.id === id); n++) id = `${base}-${n}`;
        sections.push({ id, title, body });
    };

    add("Checks", checksTable(verdict));
    for (const kind of kinds) {
        const section = (verdict.sections as Record<string, unknown>)[kind.name];
        if (section === undefined) continue;
        const charts = kind.report.charts(section, verdict);
        const given = kind.report.html?.(section, verdict, charts) ?? { sections: fallbackSections(kind, section, verdict, charts) };
        // Every chart shows, even one the kind did not place: it goes to the end of the kind's last section.
        const placed = new Set(given.sections.flatMap((s) => s.blocks.flatMap((b) => ("chart" in b ? [b.chart.fileName] : []))));
        const left = charts.filter((c) => !placed.has(c.fileName));
        given.sections.forEach((s, i) => {
            const extra = i === given.sections.length - 1 ? left.map((c) => renderChart(c)).join("\n") : "";
            add(s.title, [renderBlocks(s.blocks), extra].filter(Boolean).join("\n"));
        });
        tools.push(...(given.tools ?? []));
    }
    if (opts.history && opts.history.length > 0)
        add(`Trends over the last ${Math.min(opts.history.length, opts.trendRuns ?? DEFAULT_TREND_RUNS)} runs`, trends(opts));
    if (tools.length > 0) {
        add(
            "Tools and versions",
            renderTable({
                head: ["Tool", "Version", "Where", "Command"],
                rows: tools.map((t) => [t.tool, t.version ?? "—", t.where, { text: t.command, code: true }]),
            }),
        );
    }
    const notes = [...(opts.notes ?? []), ...(opts.historySkipped ?? [])];
    if (notes.length > 0) add("Notes", `<ul>${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join("")}</ul>`);
    add("About this run", about(verdict, opts));

    const title = `Probes: ${opts.title}`;
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy())}">`,
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        `<title>${escapeHtml(title)}</title>`,
        `<style>${CSS}</style>`,
        "</head>",
        "<body>",
        "<header>",
        `<h1>${escapeHtml(title)}</h1>`,
        `<p class="meta">${escapeHtml(runLine(verdict, opts))}</p>`,
        verdictBox(verdict, opts),
        "</header>",
        `<nav aria-label="Contents"><ol>${sections.map((s) => `<li><a href="#${escapeHtml(s.id)}">${escapeHtml(s.title)}</a></li>`).join("")}</ol></nav>`,
        "<main>",
        ...sections.map((s) => `<section id="${escapeHtml(s.id)}">\n<h2>${escapeHtml(s.title)}</h2>\n${s.body}\n</section>`),
        "</main>",
        "</body>",
        "</html>",
        "",
    ].join("\n");
}

/** `2026-05-03 10:12:44 UTC · commit 1a2b3c4 · 312 s · lab-1: 6.1.0-rt, kvm`. */
function runLine(verdict: Verdict, opts: HtmlReportOptions): string {
    const hosts = (opts.hosts ?? []).map((h) => `${h.host}: kernel ${h.kernel ?? "not read"}, ${h.accel ?? "accelerator unknown"}`);
    return [
        `${opts.generatedAt.replace("T", " ").replace(/\.\d+Z$/, "Z")}`,
        opts.commit ? `commit ${opts.commit.slice(0, 12)}` : "not run from a git checkout",
        opts.seconds != null ? `${Math.round(opts.seconds)} s` : null,
        ...hosts,
    ]
        .filter((x): x is string => x !== null)
        .join(" · ");
}

/** The verdict and the failures, first thing on the page. */
function verdictBox(verdict: Verdict, opts: HtmlReportOptions): string {
    const failed = verdict.checks.filter((c) => !c.pass).length;
    const total = verdict.checks.length;
    const headline = verdict.stopped
        ? `Stopped before probing: ${verdict.stopped.split("\n")[0]}`
        : verdict.pass
          ? `Pass: all ${total} checks met their targets (gate: ${verdict.gate})`
          : `Fail: ${failed} of ${total} checks missed their targets (gate: ${verdict.gate}${verdict.gate === "report" ? ", not enforced" : ""})`;
    const failures = verdict.stopped ? verdict.stopped.split("\n").slice(1, -1) : verdict.failures;
    const partial = opts.partial
        ? `<p class="partial"><strong>Partial run (${escapeHtml(opts.partial.reason)})</strong>: the figures are what was measured until then` +
          `${opts.partial.runs?.length ? ` (${escapeHtml(opts.partial.runs.join("; "))})` : ""}` +
          `${opts.partial.notRun?.length ? `; never started: ${escapeHtml(opts.partial.notRun.join(", "))}` : ""}.</p>`
        : "";
    return (
        `<div class="verdict ${verdict.pass && !verdict.stopped ? "pass" : "fail"}" id="verdict">` +
        `<p class="headline">${escapeHtml(headline)}</p>` +
        (failures.length > 0
            ? `<h2 id="failures">Failures</h2><ul>${failures.map((f) => `<li>${escapeHtml(f.replace(/^\s*-\s*/, ""))}</li>`).join("")}</ul>`
            : "") +
        `</div>${partial}`
    );
}

/** One row per judged figure: measured, target with its operator, samples, where, the baseline's change when there is one. */
function checksTable(verdict: Verdict): string {
    if (verdict.checks.length === 0) return "<p>No checks: nothing was asked of this run.</p>";
    const withBaseline = verdict.checks.some((c) => c.change !== undefined);
    // What a reader compares comes first (figure, measured, target), so a phone shows it before the table scrolls.
    const head = ["Result", "Figure", "Measured", "Target", "Samples", "Probe", "Where", ...(withBaseline ? ["Against the baseline"] : [])];
    const rows = verdict.checks.map((c) => {
        const row: HtmlCell[] = [
            { text: c.pass ? "pass" : "fail", mark: c.pass ? "pass" : "fail", ...(c.message ? { title: c.message } : {}) },
            `${c.name} (${c.statistic})${c.name.includes(c.guest) ? "" : ` on ${c.guest}`}`,
            { text: measured(c), ...(c.pass ? {} : { mark: "fail" as const }) },
            targetText(c),
            c.samples ?? "—",
            c.probe,
            c.where ?? "",
        ];
        if (withBaseline) row.push(c.change ? `${describeChange(c.change)} (${c.change.worseBy.toFixed(2)}× worse-by)` : "no baseline figure");
        return row;
    });
    return renderTable({ head, rows }, { cls: "checks", rowClass: (i) => (verdict.checks[i].pass ? undefined : "failed") });
}

function measured(c: Check): string {
    if (c.measuredUs === null) return "no samples";
    const unit = unitSymbol(c.target.unit);
    return `${formatNumber(c.measuredUs)}${unit ? ` ${unit}` : ""}`;
}

/** The operator always shown, ≤ included. */
function targetText(c: Pick<Check, "target">): string {
    return c.target.op === "<=" ? `≤ ${formatTarget(c.target)}` : formatTarget(c.target);
}

/** Each check of this run: its figure over the last runs that have it, against its target; then the runs themselves. */
function trends(opts: HtmlReportOptions): string {
    const runs = (opts.history ?? []).slice(-(opts.trendRuns ?? DEFAULT_TREND_RUNS));
    const newest = runs[runs.length - 1];
    const figures = newest.checks.map((c) => {
        const points = runs.flatMap((r) => {
            const found = r.checks.find((x) => x.id === c.id);
            return found ? [{ run: r.index, time: r.time, value: found.figure, pass: found.pass }] : [];
        });
        const title = `trend of ${checkLabel(c)}`;
        return `<figure class="chart">${trendSvg({ title, points, target: { ...c.target, unit: c.unit } }).trim()}<figcaption>${escapeHtml(
            `${title}: ${points.length} run(s)`,
        )}</figcaption></figure>`;
    });
    const table = renderTable({
        caption: "The runs drawn",
        head: ["Run", "Time", "Commit", "Gate", "Result", "Failed checks", "Hosts"],
        rows: [...runs]
            .reverse()
            .map((r) => [
                `#${r.index}`,
                r.time.replace("T", " ").replace(/\.\d+Z$/, "Z"),
                r.commit ? { text: r.commit.slice(0, 12), code: true } : "—",
                r.gate,
                { text: r.partial ? "partial" : r.pass ? "pass" : "fail", mark: r.partial ? "warn" : r.pass ? "pass" : "fail" },
                r.checks.filter((c) => !c.pass).length,
                r.hosts.map((h) => `${h.host}: ${h.kernel ?? "?"}, ${h.accel ?? "?"}`).join("; "),
            ]),
    });
    const intro =
        runs.length === 1
            ? "This is the first run in history.jsonl: each trend has one point so far."
            : `Each check of this run, over the last ${runs.length} runs of history.jsonl (ringed: this run; red: missed its target).`;
    return `<p>${escapeHtml(intro)}</p>\n<div class="trends">\n${figures.join("\n")}\n</div>\n${table}`;
}

function about(verdict: Verdict, opts: HtmlReportOptions): string {
    const facts: HtmlCell[][] = [
        ["Title", opts.title],
        ["Time", opts.generatedAt],
        ["Commit", opts.commit ? { text: opts.commit, code: true } : "not run from a git checkout"],
        ["Gate", verdict.gate],
        ["Duration", opts.seconds != null ? `${formatNumber(opts.seconds)} s` : "—"],
        ...(opts.hosts ?? []).map((h): HtmlCell[] => [
            `Host ${h.host}`,
            `kernel ${h.kernel ?? "not read"}, guests under ${h.accel ?? "an unknown accelerator"}`,
        ]),
    ];
    const files = opts.files ?? [];
    return (
        renderTable({ head: ["Fact", "Value"], rows: facts }) +
        (files.length > 0
            ? `\n${renderTable({ caption: "Files next to this page", head: ["File", "What it holds"], rows: files.map((f) => [{ text: f.path, code: true }, f.what]) })}`
            : "")
    );
}

/** A kind without an HTML hook: its Markdown section as text and its charts, so nothing it reports is lost. */
function fallbackSections(kind: AnyProbeKind, section: unknown, verdict: Verdict, charts: Chart[]): HtmlSection[] {
    const text = kind.report.markdown(section, verdict).trim();
    return [{ title: kind.name, blocks: [...(text ? [{ code: text.split("\n") }] : []), ...charts.map((chart) => ({ chart }))] }];
}

function slug(title: string): string {
    return (
        title
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, "-")
            .replace(/^-|-$/g, "") || "section"
    );
}
