/**
 * The example GitHub Actions workflow (docs/examples/github-actions/preview.yml)
 * is checked by action-validator against GitHub's workflow schema (the
 * SchemaStore one), so a broken example fails CI; and it does what
 * docs/preview.md says: installs as .ci/run does, runs the preview command and
 * updates one comment found by the comment's own marker.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { validateWorkflow, type ValidationError } from "@action-validator/core";
import * as yaml from "js-yaml";
import { commentMarker } from "../../components/preview";

const file = path.join(__dirname, "../../docs/examples/github-actions/preview.yml");
const text = readFileSync(file, "utf8");

/** The validator's errors as `<path>: <title> (<detail>)`, nested one-of branches flattened, so a failure says what is wrong. */
function describe(errors: ValidationError[]): string[] {
    return errors.flatMap((e) => [
        `${"path" in e ? e.path : `line ${e.location?.line ?? "?"}`}: ${e.title}${e.detail ? ` (${e.detail})` : ""}`,
        ...("states" in e && e.states ? e.states.flatMap((s) => describe(s.errors)) : []),
    ]);
}

test("the example workflow passes action-validator's GitHub workflow schema", (t) => {
    const result = validateWorkflow(text);
    t.is(result.actionType, "workflow");
    t.deepEqual(describe(result.errors), []);
});

test("the validator catches a broken workflow (the check is not a no-op)", (t) => {
    const broken = text.replace("runs-on:", "runs_on:").replace("pull_request:", "pull_requests:");
    const found = describe(validateWorkflow(broken).errors).join("\n");
    t.regex(found, /runs_on/);
    t.regex(found, /\/on/);
});

test("the workflow installs as .ci/run does, runs npm run preview with --comment and updates one comment by its marker", (t) => {
    const doc = yaml.load(text) as {
        on: Record<string, unknown>;
        permissions: Record<string, string>;
        jobs: { preview: { steps: { run?: string; uses?: string; with?: { script?: string } }[] } };
    };
    t.truthy(doc.on.pull_request, "runs on pull requests");
    t.is(doc.permissions["pull-requests"], "write", "may write the comment");
    const steps = doc.jobs.preview.steps;
    const runs = steps.map((s) => s.run ?? "").join("\n");
    const at = (needle: string) => runs.indexOf(needle);
    for (const needle of ["bash tools/setup-host.sh", "npm ci", "tools/bootstrap.sh", "npm run --silent preview -- --stack", "--comment"]) {
        t.not(at(needle), -1, `runs ${needle}`);
    }
    t.true(
        at("bash tools/setup-host.sh") < at("npm ci") && at("npm ci") < at("tools/bootstrap.sh") && at("tools/bootstrap.sh") < at("npm run --silent preview"),
    );
    t.true(steps[0].uses?.startsWith("actions/checkout@"), "checks out first");

    const post = steps.find((s) => s.uses?.startsWith("actions/github-script@"));
    const script = post?.with?.script ?? "";
    // The script compiles as github-script runs it: the body of an async function.
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => unknown;
    t.notThrows(() => new AsyncFunction("github", "context", "core", "require", script));
    t.regex(script, /updateComment/);
    t.regex(script, /createComment/);
    // It finds its comment by the first line of the comment, which is the marker the preview writes.
    t.regex(script, /body\.split\("\\n"\)\[0\]/);
    t.true(commentMarker("lab").startsWith("<!--") && commentMarker("lab").endsWith("-->"), "the marker is hidden in the rendered comment");
});
