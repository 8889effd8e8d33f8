/**
 * The example probe workflow (docs/examples/github-actions/probe.yml) is
 * checked by action-validator against GitHub's workflow schema, and does what
 * docs/probes.md says: probes the stack with the history carried in the
 * Actions cache, publishes results/<stack>/ (index.html among it) as the
 * run's artifact, and points probes.md's link to index.html at that artifact
 * in the job summary and the one pull-request comment it keeps.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import * as yaml from "js-yaml";
import { markdownReport } from "../../components/probes/reports";
import { fixtureVerdict } from "../helpers/probeReportFixtures";

const text = readFileSync(path.join(__dirname, "../../docs/examples/github-actions/probe.yml"), "utf8");

interface Step {
    id?: string;
    run?: string;
    uses?: string;
    if?: string;
    with?: Record<string, string>;
    env?: Record<string, string>;
}

test("the probe workflow passes action-validator's GitHub workflow schema", (t) => {
    const result = validateWorkflow(text);
    t.is(result.actionType, "workflow");
    t.deepEqual(
        result.errors.map((e) => e.title),
        [],
    );
});

test("it restores the history, probes, saves the history, publishes results/<stack>/ and links the page from the comment", async (t) => {
    const doc = yaml.load(text) as { on: Record<string, unknown>; jobs: { probe: { env: Record<string, string>; steps: Step[] } } };
    t.truthy(doc.on.schedule);
    t.truthy(doc.on.pull_request);
    const steps = doc.jobs.probe.steps;
    const index = (pred: (s: Step) => boolean) => steps.findIndex(pred);
    const restore = index((s) => s.uses?.startsWith("actions/cache/restore@") ?? false);
    const probe = index((s) => s.run?.includes("npm run --silent probe -- --stack") ?? false);
    const save = index((s) => s.uses?.startsWith("actions/cache/save@") ?? false);
    const upload = index((s) => s.uses?.startsWith("actions/upload-artifact@") ?? false);
    const post = index((s) => s.uses?.startsWith("actions/github-script@") ?? false);
    t.true(restore >= 0 && restore < probe && probe < save && save < upload && upload < post, `order ${[restore, probe, save, upload, post]}`);
    t.is(steps[restore].with!.path, "results/${{ env.STACK }}/history.jsonl");
    t.is(steps[save].with!.path, steps[restore].with!.path);
    t.is(steps[save].with!.key, steps[restore].with!.key);
    t.regex(steps[probe].run!, /--compare -1/);
    t.is(steps[upload].with!.path, "results/${{ env.STACK }}/", "the whole results folder: index.html, probes.*, history.jsonl, histograms/");
    t.is(steps[post].env!.ARTIFACT_URL, "${{ steps.artifact.outputs.artifact-url }}");
    t.is(steps[upload].id, "artifact");

    // The script, run as github-script runs it, on a real probes.md: the link to index.html points at the artifact.
    const script = steps[post].with!.script;
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;
    const run = new AsyncFunction("github", "context", "core", "require", "process", script);
    const md = markdownReport(fixtureVerdict(), { htmlLink: "index.html" });
    let summary = "";
    const posted: string[] = [];
    const fakeFs = { existsSync: () => true, readFileSync: () => md };
    const rest = {
        issues: {
            listComments: "list",
            createComment: async ({ body }: { body: string }) => (posted.push(body), { data: { html_url: "u" } }),
            updateComment: async () => undefined,
        },
    };
    await run(
        { paginate: async () => [], rest },
        { eventName: "pull_request", runId: 42, repo: { owner: "o", repo: "r" }, issue: { number: 7 } },
        { summary: { addRaw: (s: string) => ({ write: async () => void (summary = s) }) }, warning: () => undefined, info: () => undefined },
        (name: string) => (name === "fs" ? fakeFs : require(name)),
        { env: { STACK: "lab", ARTIFACT_URL: "https://github.com/o/r/actions/runs/42/artifacts/9" } },
    );
    t.regex(
        summary,
        /\[index\.html\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/42\/artifacts\/9\) \(in this run's artifact probes-lab-42: download it, open index\.html\)/,
    );
    t.is(posted.length, 1);
    t.true(posted[0].startsWith("<!-- nfvkit-probes:lab -->\n## Probes: ❌ 13 of 16 checks failed"));
});
