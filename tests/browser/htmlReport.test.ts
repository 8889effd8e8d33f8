/**
 * The HTML report in a real browser: Debian's Chromium, headless (installed
 * by tools/setup-host.sh), opens the index.html the results writer wrote for
 * two runs built from the real captures in tests/fixtures/probes. What a
 * person would check: it renders at a desktop's and a phone's width (the
 * screenshots are not blank), the verdict, the checks table and every
 * chart's title are on the rendered page, it prints, and opening it makes no
 * network request: none from the page, and a request slipped into it is
 * refused by its Content-Security-Policy (while the same request without the
 * policy does reach a local server and the net log, so the log would show one).
 */
import type { ExecutionContext } from "ava";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { writeResults, type ResultFiles } from "../../components/probes/resultsWriter";
import { chromiumAvailable, netLogRequests, runChromium } from "../helpers/chromium";
import { decodePng, inkShare, luminanceVariance } from "../helpers/png";
import { fixtureVerdict, looseTargets } from "../helpers/probeReportFixtures";
import { realTest } from "../helpers/realParts";

const real = realTest(chromiumAvailable(), "Debian's chromium (tools/setup-host.sh installs it)");

/** Screenshots land here too, for a person to look at after a run. */
const SHOTS = path.resolve("results", "test-html-report");

async function twoRuns(t: ExecutionContext): Promise<{ dir: string; files: ResultFiles }> {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-html-browser-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    await writeResults(dir, fixtureVerdict({ capture: "cyclictest-2.4-1thread", targets: looseTargets() }), { title: "nfv-testpod/lab", notes: [] });
    const files = await writeResults(dir, fixtureVerdict(), { title: "nfv-testpod/lab", notes: ["host local: TCG: /dev/kvm is missing"], seconds: 41 });
    return { dir, files };
}

real("the report renders at desktop and phone widths: not blank, the verdict, the checks table and every chart's title on the page", async (t) => {
    const { dir, files } = await twoRuns(t);
    const url = pathToFileURL(files.html).href;
    mkdirSync(SHOTS, { recursive: true });
    // A blank page, to show what the measures read when nothing is drawn.
    const blank = path.join(dir, "blank.html");
    writeFileSync(blank, '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>');
    for (const [name, width, target] of [
        ["blank", 1280, blank],
        ["desktop", 1280, files.html],
        ["phone", 390, files.html],
    ] as const) {
        const png = path.join(SHOTS, `${name}.png`);
        const r = await runChromium([`--window-size=${width},2400`, `--screenshot=${png}`], pathToFileURL(target).href);
        t.is(r.code, 0, r.stderr.slice(-2000));
        const pixels = decodePng(readFileSync(png));
        const variance = luminanceVariance(pixels);
        const ink = inkShare(pixels);
        t.log(`${name}: ${pixels.width}x${pixels.height}, luminance variance ${variance.toFixed(0)}, ink ${(ink * 100).toFixed(1)} % (${png})`);
        t.is(pixels.width, width);
        if (name === "blank") {
            t.true(variance < 1 && ink === 0, "a blank page reads as blank");
            continue;
        }
        t.true(variance > 500, `${name}: luminance variance ${variance.toFixed(0)}: text, tables and charts`);
        t.true(ink > 0.02, `${name}: ${(ink * 100).toFixed(1)} % of the pixels carry ink`);
    }

    const dom = (await runChromium(["--dump-dom"], url)).stdout;
    const page = dom
        .replace(/<[^>]+>/g, " ")
        .replace(/&gt;/g, ">")
        .replace(/&lt;/g, "<")
        .replace(/&amp;/g, "&")
        .replace(/\s+/g, " ");
    t.regex(page, /Fail: 13 of 16 checks missed their targets \(gate: report, not enforced\)/);
    t.regex(page, /timer latency on kat: max 72154 µs > target 15 µs/);
    const table = /<table class="checks">[\s\S]*?<\/table>/.exec(dom)?.[0] ?? "";
    t.is((table.match(/<tr( class="failed")?><td/g) ?? []).length, 16, "one row per check");
    t.regex(table, /<th scope="col">Target<\/th><th scope="col">Samples<\/th>/);
    // Every chart the run wrote under histograms/, by its title, and each check's trend over both runs.
    const titles = readdirSync(path.join(dir, "histograms")).map(
        (f) => /<title>([^<]+)<\/title>/.exec(readFileSync(path.join(dir, "histograms", f), "utf8"))![1],
    );
    t.is(titles.length, 8);
    for (const title of titles) t.true(dom.includes(`<title>${title}</title>`), `chart "${title}" on the page`);
    const trends = [...dom.matchAll(/<svg class="trend"[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    t.is(trends.length, 16, "one trend per check");
    const timer = trends.find((s) => s.includes("<title>trend of timer latency (max) on kat, cyclictest</title>"))!;
    t.deepEqual(
        [...timer.matchAll(/<circle class="run"[^>]*><title>([^<]+)<\/title>/g)].map((m) => m[1].replace(/\(\d{4}-[^)]+\)/, "(time)")),
        ["run #1 (time): 1422 µs, met its target", "run #2 (time): 72154 µs, missed its target"],
        "both runs drawn",
    );

    // Paper: the print style gives every section, over several pages.
    const pdf = path.join(SHOTS, "print.pdf");
    t.is((await runChromium(["--no-pdf-header-footer", `--print-to-pdf=${pdf}`], url)).code, 0);
    const pages = Number(/\/Type \/Pages\b[\s\S]*?\/Count (\d+)/.exec(readFileSync(pdf, "latin1"))?.[1] ?? 0);
    t.log(`printed: ${pages} pages`);
    t.true(pages >= 3, `${pages} pages`);
});

real("opening the report makes no network request; one slipped into it is refused by its policy", async (t) => {
    const { dir, files } = await twoRuns(t);
    const hits: string[] = [];
    const server = createServer((req, res) => {
        hits.push(req.url ?? "");
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.teardown(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const html = readFileSync(files.html, "utf8");
    const pageRequests = async (file: string) => {
        const log = path.join(dir, `${path.basename(file)}.netlog.json`);
        const r = await runChromium([`--log-net-log=${log}`, "--dump-dom"], pathToFileURL(file).href);
        t.is(r.code, 0, r.stderr.slice(-2000));
        const all = netLogRequests(log);
        t.log(`${path.basename(file)}: ${all.length} URL request(s): ${all.map((q) => `${q.url.split("?")[0]} (${q.initiator})`).join(", ") || "none"}`);
        // Chromium's own services (update, account checks) have no origin; whatever the page asks for carries its own.
        return all.filter((q) => q.initiator !== "not an origin").map((q) => q.url);
    };

    t.deepEqual(await pageRequests(files.html), [], "the report asks for nothing");

    // The same request the report would make if a chart pulled in an image: with the report's policy, refused.
    const injected = path.join(dir, "injected.html");
    writeFileSync(injected, html.replace("<body>", `<body><img src="http://127.0.0.1:${port}/injected.png" alt="">`));
    t.deepEqual(await pageRequests(injected), []);
    t.deepEqual(hits, [], "the local server saw nothing");

    // Without the policy it goes out, and both the server and the net log see it: the check above can see a request.
    const control = path.join(dir, "control.html");
    writeFileSync(
        control,
        html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "").replace("<body>", `<body><img src="http://127.0.0.1:${port}/control.png" alt="">`),
    );
    t.deepEqual(await pageRequests(control), [`http://127.0.0.1:${port}/control.png`]);
    t.deepEqual(hits, ["/control.png"]);

    // Self-contained: the page works from any folder, without the files beside it.
    const alone = mkdtempSync(path.join(tmpdir(), "nfvkit-html-alone-"));
    t.teardown(() => rmSync(alone, { recursive: true, force: true }));
    copyFileSync(files.html, path.join(alone, "index.html"));
    const dom = (await runChromium(["--dump-dom"], pathToFileURL(path.join(alone, "index.html")).href)).stdout;
    t.is((dom.match(/<svg /g) ?? []).length, (html.match(/<svg /g) ?? []).length, "every chart still drawn");
});
