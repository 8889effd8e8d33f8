/**
 * `npm run preview -- --stack <name> [--comment <file>] [--config-file <file>]`
 *
 * What a change to a stack would do, as a pull request comment: the stack is
 * validated (the same validateStack as `pulumi up`), planned, and previewed by
 * the real engine (`pulumi preview --json`, which creates nothing), and the
 * engine's steps are told in guest terms (components/preview/). Writes the
 * Markdown to <file>, or to stdout without --comment. Exits 1 when the stack
 * has problems or the engine's preview fails; the comment then says why.
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { HostFacts } from "../../components/host/facts";
import { podChanges, readEnginePreview, renderPreviewComment, type EnginePreview, type PreviewCommentInput } from "../../components/preview";
import { configNamespace, discoverableSpec, validateStack, type StackFile } from "../../components/validate";
import { readStackFileAt } from "./stackFileOnDisk";
import { projectRoot, runPulumi, selectStack } from "./engine";

interface Options {
    stack: string;
    comment?: string;
    configFile?: string;
}

function parseArgs(argv: string[]): Options | string {
    const opts: Options = { stack: "local" };
    for (let i = 0; i < argv.length; i++) {
        const value = argv[i + 1];
        const flag = argv[i];
        if (flag !== "--stack" && flag !== "--comment" && flag !== "--config-file") return `unknown argument ${JSON.stringify(flag)}`;
        if (value === undefined || value.startsWith("--")) return `${flag} needs a value`;
        if (flag === "--stack") opts.stack = value;
        else if (flag === "--comment") opts.comment = value;
        else opts.configFile = value;
        i++;
    }
    return opts;
}

async function main(argv: string[]): Promise<number> {
    const opts = parseArgs(argv);
    if (typeof opts === "string") {
        console.error(`${opts}\nusage: npm run preview -- --stack <name> [--comment <file>] [--config-file <stack file>]`);
        return 2;
    }
    const comment = await preview(opts);
    if (opts.comment) {
        writeFileSync(opts.comment, comment.markdown);
        console.log(`${comment.markdown.split("\n")[1]}\n(comment written to ${opts.comment})`);
    } else process.stdout.write(comment.markdown);
    return comment.ok ? 0 : 1;
}

async function preview(opts: Options): Promise<{ markdown: string; ok: boolean }> {
    const file = opts.configFile ?? path.join(projectRoot, "stacks", `Pulumi.${opts.stack}.yaml`);
    const shownFile = path.isAbsolute(file) && file.startsWith(`${projectRoot}/`) ? path.relative(projectRoot, file) : file;
    const base: PreviewCommentInput = { stack: opts.stack, file: shownFile, problems: [] };
    const done = (input: PreviewCommentInput, ok: boolean) => ({ markdown: renderPreviewComment(input), ok });

    let source: StackFile;
    try {
        source = readStackFileAt(file);
    } catch (err) {
        const problem = { path: "", value: undefined, shown: "no file", reason: `cannot be read: ${(err as Error).message}`, fix: "give the stack's file" };
        return done({ ...base, problems: [problem] }, false);
    }
    if (source.problems.length > 0) return done({ ...base, problems: source.problems }, false);

    // The same names and checks as the program: prefix <project>-<stack>, host facts read the same way.
    const project = /^name:\s*(\S+)/m.exec(readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8"))?.[1] ?? "nfv-testpod";
    const spec = source.config[`${configNamespace}:pod`];
    const hostFacts = spec === undefined ? {} : await discover(spec);
    const checked = validateStack({
        config: source.config,
        secretKeys: source.secretKeys,
        hostFacts,
        namePrefix: `${project}-${opts.stack}`,
        kind: source.kind,
        lineOf: source.lineOf,
    });
    if (checked.problems.length > 0 || !checked.plan) return done({ ...base, problems: checked.problems }, false);
    const planned: PreviewCommentInput = { ...base, plan: checked.plan, probes: checked.probes, targets: checked.targets, gate: checked.gate };

    // The engine's own preview: it runs the program and asks the provider to diff, and creates nothing.
    try {
        selectStack(opts.stack);
    } catch (err) {
        return done({ ...planned, engineErrors: [(err as Error).message.trim()] }, false);
    }
    const run = await runPulumi(["preview", "--json", "--stack", opts.stack, ...(opts.configFile ? ["--config-file", opts.configFile] : [])]);
    let engine: EnginePreview | undefined;
    let unreadable = "";
    try {
        engine = readEnginePreview(run.stdout);
    } catch (err) {
        unreadable = (err as Error).message;
    }
    if (run.code !== 0 || !engine) {
        const errors = engine && engine.errors.length > 0 ? engine.errors : engineErrorLines(run.stderr, run.stdout);
        return done({ ...planned, engineErrors: run.code === 0 ? [unreadable, ...errors] : errors }, false);
    }
    return done({ ...planned, changes: podChanges(engine.steps, checked.plan), counts: engine.counts }, true);
}

/** The engine's own words when it printed no JSON: its error lines first, then the rest of what it said (its PATH warnings left out). */
function engineErrorLines(stderr: string, stdout: string): string[] {
    const lines = `${stderr}\n${stdout}`
        .split("\n")
        .map((l) => l.trimEnd())
        .filter((l) => l !== "" && !l.startsWith("warning: using pulumi-"));
    const errors = lines.filter((l) => l.startsWith("error:"));
    return [...errors, ...lines.filter((l) => !l.startsWith("error:"))].slice(0, 20);
}

async function discover(spec: unknown): Promise<Record<string, HostFacts>> {
    const { discoverHosts } = await import("../../components/host/discover");
    return discoverHosts(discoverableSpec(spec), { log: (line) => console.error(line) });
}

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
        console.error(err instanceof Error ? err.stack : err);
        process.exitCode = 2;
    },
);
