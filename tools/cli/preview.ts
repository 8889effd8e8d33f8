/**
 * `npm run preview -- --stack <name> [--comment <file>] [--config-file <file>]`
 *
 * What a change to a stack would do, as a pull request comment: the stack is
 * loaded as `pulumi up` loads it (loadStack: its hosts reached through their
 * pinned access, the same validation, the same plan), and previewed by the
 * real engine (`pulumi preview --json`, which creates nothing), and the
 * engine's steps are told in guest terms (components/preview/). Writes the
 * Markdown to <file>, or to stdout without --comment. Exits 1 when the stack
 * has problems or the engine's preview fails; the comment then says why.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { podChanges, readEnginePreview, renderPreviewComment, type EnginePreview, type PreviewCommentInput } from "../../components/preview";
import { projectRoot, runPulumi, selectStack } from "./engine";
import { loadCommandStack } from "./stack";

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
    const done = (input: PreviewCommentInput, ok: boolean) => ({ markdown: renderPreviewComment(input), ok });
    // The same load as the program's: prefix <project>-<stack>, hosts reached through their pinned access, one validation.
    const checked = await loadCommandStack(opts.stack, { configFile: opts.configFile });
    try {
        return await previewLoaded(opts, checked, done);
    } finally {
        await checked.close();
    }
}

async function previewLoaded(
    opts: Options,
    checked: Awaited<ReturnType<typeof loadCommandStack>>,
    done: (input: PreviewCommentInput, ok: boolean) => { markdown: string; ok: boolean },
): Promise<{ markdown: string; ok: boolean }> {
    const file = checked.file ?? opts.configFile ?? opts.stack;
    const shownFile = path.isAbsolute(file) && file.startsWith(`${projectRoot}/`) ? path.relative(projectRoot, file) : file;
    const base: PreviewCommentInput = { stack: opts.stack, file: shownFile, problems: [] };
    if (checked.problems.length > 0 || !checked.plan) return done({ ...base, problems: checked.problems }, false);
    const planned: PreviewCommentInput = { ...base, plan: checked.plan, probes: checked.probes, targets: checked.targets, gate: checked.gate };

    // The engine's own preview: it runs the program and asks the provider to diff, and creates nothing.
    try {
        selectStack(opts.stack);
    } catch (err) {
        return done({ ...planned, engineErrors: [(err as Error).message.trim()] }, false);
    }
    const run = await runPulumi(["preview", "--json", "--stack", opts.stack, ...checked.configArgs]);
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

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
        console.error(err instanceof Error ? err.stack : err);
        process.exitCode = 2;
    },
);
