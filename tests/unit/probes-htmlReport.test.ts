/**
 * The HTML report (index.html) on a run built from the real captures in
 * tests/fixtures/probes (tests/helpers/probeReportFixtures.ts): what a reader
 * finds and in which order, that it loads nothing and runs nothing, that
 * every value is escaped, that each kind brings its own section (and one
 * without a hook still shows its charts), the trends drawn from
 * history.jsonl, and the results writer that puts it next to the other
 * files. The page in a real browser: tests/e2e/htmlReport.test.ts.
 */
import test from "ava";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { historyEntry, parseHistory, type HistoryRun } from "../../components/probes/history";
import type { AnyProbeKind } from "../../components/probes/kinds/kind";
import { PROBE_KINDS } from "../../components/probes/kinds/registry";
import { markdownReport } from "../../components/probes/reports";
import { contentSecurityPolicy, htmlReport, type HtmlReportOptions } from "../../components/probes/reports/html";
import { trendSvg } from "../../components/probes/reports/trend";
import { writeResults } from "../../components/probes/resultsWriter";
import { composeVerdict, type Verdict } from "../../components/probes/verdict";
import { fixtureVerdict, looseTargets, type CyclictestCapture } from "../helpers/probeReportFixtures";

const OPTS: HtmlReportOptions = {
    title: "nfv-testpod/lab",
    generatedAt: "2026-05-03T10:12:44.000Z",
    commit: null,
    notes: ["host local: TCG: /dev/kvm is missing"],
};

function history(...captures: CyclictestCapture[]): HistoryRun[] {
    const lines = captures.map((capture, i) =>
        JSON.stringify(
            historyEntry(fixtureVerdict({ capture }), { time: `2026-05-0${i + 1}T02:00:00.000Z`, commit: null, title: "nfv-testpod/lab", partial: false }),
        ),
    );
    return parseHistory(lines.join("\n"), "history.jsonl").runs;
}

/** The text a reader sees (tags dropped, entities read), to find words in order. */
function text(html: string): string {
    return html
        .replace(/<style>[\s\S]*?<\/style>/g, "")
        .replace(/<[^>]+>/g, " ")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, "&")
        .replace(/\s+/g, " ");
}

test("the verdict and the failures first, then the checks with targets and sample counts, each kind's sections, trends, tools, notes", (t) => {
    const verdict = fixtureVerdict(); // the seed's targets: a TCG run misses most of them
    const html = htmlReport(verdict, { ...OPTS, history: history("cyclictest-2.4-1thread", "cyclictest-2.4-guest-tcg-h1000000") });
    const page = text(html);
    const order = [
        "Fail: 13 of 16 checks missed their targets (gate: report, not enforced)",
        "Failures",
        "timer latency on kat: max 72154 µs > target 15 µs",
        "network downtime of vnf (lab-2 → lab-1): 240 ms > target 25 ms",
        "Checks",
        "Host readiness",
        "Latency histograms",
        "Inter-VM rates against the host limit",
        "Migration timelines",
        "Trends over the last 2 runs",
        "Tools and versions",
        "Notes",
        "About this run",
    ];
    let at = 0;
    for (const words of order) {
        const found = page.indexOf(words, at);
        t.true(found >= 0, `"${words}" after position ${at}`);
        at = found;
    }
    // The checks table: one row per check, its measured figure, its target with the operator, its samples.
    const table = /<table class="checks">[\s\S]*?<\/table>/.exec(html)![0];
    t.is((table.match(/<tr( class="failed")?><td/g) ?? []).length, verdict.checks.length);
    t.is((table.match(/<tr class="failed">/g) ?? []).length, 13);
    t.regex(text(table), /fail timer latency \(max\) on kat 72154 µs ≤ 15 µs 6183 cyclictest thread 0 \(cpu 1\)/);
    t.regex(text(table), /pass inter-VM packets on ring0 \(peer → kat\) \(total\) 0 packets ≤ 0 packets — interVm/);
    // Every chart each kind draws is inline, and so is one trend per check.
    const charts = PROBE_KINDS.flatMap((k) => {
        const section = (verdict.sections as Record<string, unknown>)[k.name];
        return section === undefined ? [] : k.report.charts(section as never, verdict);
    });
    t.is(charts.length, 8, "5 latency histograms, 1 inter-VM rate, 2 migration timelines");
    for (const chart of charts) t.true(html.includes(chart.svg.trim()), `${chart.fileName} inline`);
    t.is((html.match(/<svg class="trend"/g) ?? []).length, verdict.checks.length);
    for (const title of [
        "cyclictest timer latency on kat",
        "inter-VM rate on ring0 (peer → kat)",
        "packet gaps during the migration of vnf (lab-1 → lab-2)",
        "trend of timer latency (max) on kat, cyclictest",
    ]) {
        t.true(page.includes(title), title);
    }
    // The inter-VM rates against the host limit, the migration's figures per move, the host's facts, the tools.
    t.regex(page, /ring0 \(peer → kat\) 32 29\.86 59\.72 0\.5 /);
    t.regex(page, /Downtime \(libvirt\) 83 ms 83 ms/);
    t.regex(page, /local 6\.1\.0-37-amd64 tcg/);
    t.regex(page, /cyclictest 2\.40 kat cyclictest -m -p 95 --policy=fifo -a 1 -t 1 -i 1000 -D 10/);
    t.regex(page, /nfvkit-ring — ring0 \(peer → kat\) nfvkit-ring consume/);
    t.regex(page, /host local: TCG: \/dev\/kvm is missing/);
});

test("one file that loads nothing and runs nothing: no script, no external reference, a CSP that forbids every load, its style allowed by hash", (t) => {
    const html = htmlReport(fixtureVerdict(), { ...OPTS, history: history("cyclictest-2.4-1thread") });
    t.notRegex(html, /<script|<link|<img|<iframe|<object|<embed|@import|url\(/i);
    t.notRegex(html, /\b(src|href|xlink:href)="(?!#)/, "the only links are to the page's own sections");
    t.notRegex(html, /style="/, "no style attributes: the CSP allows only the one style element");
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1].replace(/&#39;/g, "'");
    t.is(csp, contentSecurityPolicy());
    t.regex(
        csp,
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; img-src 'none'; font-src 'none'; script-src 'none'; connect-src 'none'; base-uri 'none'; form-action 'none'$/,
    );
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    t.is(
        `'sha256-${createHash("sha256").update(style).digest("base64")}'`,
        /style-src ('[^']+')/.exec(csp)![1],
        "the page's style is the one the policy allows",
    );
    t.regex(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    t.regex(style, /@media print\{/);
    t.regex(style, /\.scroll\{overflow-x:auto/);
    t.is((html.match(/<table/g) ?? []).length, (html.match(/<div class="scroll"><table/g) ?? []).length, "every table scrolls on a narrow screen");
});

test("every value is escaped: a hostile guest name, note, tool command and title never become markup", (t) => {
    const evil = `<script>alert("x")</script>`;
    const base = fixtureVerdict();
    const verdict: Verdict = {
        ...base,
        checks: base.checks.map((c) => ({ ...c, guest: c.guest === "kat" ? evil : c.guest, where: c.where && `${c.where} '"><img src=x onerror=alert(1)>` })),
        failures: [...base.failures, `${evil} failed`],
        notes: [...base.notes],
    };
    verdict.sections.latency!.results[0] = { ...verdict.sections.latency!.results[0], guest: evil };
    verdict.sections.latency!.results[0].result = { ...verdict.sections.latency!.results[0].result, command: "cyclictest </pre><b>bold</b>" };
    const html = htmlReport(verdict, { ...OPTS, title: `lab ${evil}`, notes: [`a note with ${evil} & an ampersand`] });
    t.notRegex(html, /<script|<img|<b>/i);
    t.true(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    t.true(html.includes("cyclictest &lt;/pre&gt;&lt;b&gt;bold&lt;/b&gt;"));
    t.true(html.includes("a note with &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; an ampersand"));
    t.true(html.includes("&#39;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
});

test("a kind brings its own section through its report hook; one without a hook still shows its Markdown and its charts", (t) => {
    const chart = { fileName: "agent-rtt.svg", svg: '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><title>agent round trip</title></svg>' };
    const stand = (name: string, html?: AnyProbeKind["report"]["html"]): AnyProbeKind => ({
        ...PROBE_KINDS[0],
        name,
        report: {
            markdown: () => "\n### Agent round trips\n\n| guest | ms |\n|---|---|\n| vnf | 3 |\n",
            json: () => ({}),
            charts: () => [chart],
            ...(html ? { html } : {}),
        },
    });
    const withHook = stand("agent", () => ({
        sections: [{ title: "Agent round trips", blocks: [{ paragraph: "each guest agent, timed" }] }],
        tools: [{ tool: "qemu-ga", version: "7.2", where: "vnf", command: "guest-ping" }],
    }));
    const verdict = composeVerdict("report", [{ name: "agent", section: {}, judged: { checks: [], notes: [] } }]);
    const hooked = text(htmlReport(verdict, { ...OPTS, kinds: [withHook] }));
    t.regex(hooked, /Agent round trips each guest agent, timed .*histograms\/agent-rtt\.svg/, "a chart the kind did not place ends its section");
    t.regex(hooked, /qemu-ga 7\.2 vnf guest-ping/);
    const fallback = htmlReport(verdict, { ...OPTS, kinds: [stand("agent")] });
    t.regex(fallback, /<h2>agent<\/h2>\n<pre class="code">### Agent round trips\n\n\| guest \| ms \|/);
    t.true(fallback.includes(chart.svg));
    t.regex(text(fallback), /Pass: all 0 checks met their targets/);
});

test("trends: each check over the last runs of history.jsonl, against its target; the newest run ringed; capped at the last N", (t) => {
    const runs = history("cyclictest-2.4-1thread", "cyclictest-2.4-2threads", "cyclictest-2.4-guest-tcg-h1000000");
    const html = htmlReport(fixtureVerdict(), { ...OPTS, history: runs, trendRuns: 2 });
    const trend = html
        .split('<svg class="trend"')
        .find((svg) => svg.includes("<title>trend of timer latency (max) on kat, cyclictest</title>"))!
        .split("</svg>")[0];
    const points = [...trend.matchAll(/<circle class="run"[^>]*>(?:<title>([^<]*)<\/title>)/g)].map((m) => m[1]);
    t.deepEqual(points, ["run #2 (2026-05-02 02:00): 1918 µs, missed its target", "run #3 (2026-05-03 02:00): 72154 µs, missed its target"]);
    t.regex(trend, /stroke="#111"/, "the newest run is ringed");
    t.regex(trend, />target ≤ 15 µs</);
    t.regex(trend, /log scale/, "15 µs to 72 ms spans decades");
    t.regex(text(html), /Trends over the last 2 runs .* #3 .* #2 /);
    // A run without the figure shows as a grey mark, and a target far above a rate is named, not drawn.
    const svg = trendSvg({
        title: "trend of inter-VM rate",
        target: { op: ">=", value: 65, unit: "Mpps" },
        points: [
            { run: 1, time: "2026-05-01T02:00:00.000Z", value: 0.35, pass: false },
            { run: 2, time: "2026-05-02T02:00:00.000Z", value: null, pass: false },
            { run: 3, time: "2026-05-03T02:00:00.000Z", value: 0.41, pass: false },
        ],
    });
    t.is((svg.match(/<circle class="run"/g) ?? []).length, 2);
    t.regex(svg, /<rect class="missing"[^>]*><title>run #2 \(2026-05-02 02:00\): no figure<\/title>/);
    t.regex(svg, /newest #3: 0\.41 Mpps; target ≥ 65 Mpps is off this scale/);
    t.notRegex(svg, /stroke-dasharray/);
});

test("the results writer puts index.html beside the other files, appends history.jsonl, and probes.md links to the page", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-html-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const first = await writeResults(dir, fixtureVerdict({ targets: looseTargets(), capture: "cyclictest-2.4-1thread" }), {
        title: "nfv-testpod/lab",
        notes: [],
    });
    const second = await writeResults(dir, fixtureVerdict({ targets: looseTargets() }), { title: "nfv-testpod/lab", notes: [], seconds: 41 });
    t.is(second.html, path.join(dir, "index.html"));
    t.is(second.history, path.join(dir, "history.jsonl"));
    t.is(first.history, second.history);
    const lines = readFileSync(second.history, "utf8").trim().split("\n");
    t.is(lines.length, 2, "one line per run");
    t.deepEqual(
        lines.map((l) => JSON.parse(l).checks.find((c: { metric: string }) => c.metric === "timer.maxUs").figure),
        [1422, 72154],
    );
    const html = readFileSync(second.html, "utf8");
    t.regex(text(html), /Trends over the last 2 runs/);
    t.regex(text(html), /histograms\/kat-cyclictest\.svg a chart of this page, as its own file/);
    const md = readFileSync(second.markdown, "utf8");
    t.regex(
        md,
        /^## Probes: ✅ all 16 checks passed \(gate: report\)\n\nFull report, with every chart and each check's trend over the last runs: \[index\.html\]\(index\.html\) \(next to this file\)\.\n/,
    );
    t.notRegex(markdownReport(fixtureVerdict()), /index\.html/, "no link unless the writer puts the page beside it");
});
