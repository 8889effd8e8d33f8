/**
 * `npm run preview` on a broken stack file, as a pull request runs it: in a
 * separate git worktree of the repo (the test never edits this checkout), the
 * comment lists every problem with its line, path, value, reason and fix, the
 * exit is non-zero, and not even a stack is made in the backend. It boots
 * nothing; the comment on a change to a running pod is a step of the shared
 * ci pod (ciPod.test.ts).
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../tools/cli/engine";
import { runPreview } from "../helpers/checkout";
import { runPulumiIn } from "../helpers/engineRun";
import { domainsWithPrefix } from "../helpers/host";

// A name of this test only, so it never meets another stack on the shared libvirtd.
const STACK = "preview-e2e";

/** A worktree of the repo's HEAD in a temporary folder, with the project's node_modules, its own state backend, and the engine of this checkout. */
function worktree(t: import("ava").ExecutionContext): { dir: string; env: NodeJS.ProcessEnv } {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "nfvkit-preview-e2e-"));
    const dir = path.join(tmp, "checkout");
    execFileSync("git", ["-C", projectRoot, "worktree", "add", "--detach", dir, "HEAD"], { stdio: "ignore" });
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"));
    const backend = path.join(tmp, "backend");
    mkdirSync(backend);
    t.teardown(() => {
        execFileSync("git", ["-C", projectRoot, "worktree", "remove", "--force", dir], { stdio: "ignore" });
        rmSync(tmp, { recursive: true, force: true });
    });
    return {
        dir,
        env: {
            PULUMI_BACKEND_URL: `file://${backend}`,
            PATH: [path.join(projectRoot, ".state", "bin"), path.join(projectRoot, "node_modules", ".bin"), process.env.PATH].join(":"),
        },
    };
}

test.serial("a broken stack file gets a comment listing every problem with line, path, value, reason and fix; exit 1; nothing created", async (t) => {
    const { dir, env } = worktree(t);
    const stack = `${STACK}-bad`;
    const ci = readFileSync(path.join(dir, "stacks", "Pulumi.ci.yaml"), "utf8").replace(/^encryptionsalt:.*\n/m, "");
    const broken = ci
        .replace("        rtVcpus: []\n        memory: 256M", "        rtVcpus: []\n        memory: lots")
        .replace("members: [vnf, peer]", "members: [vnf, ghost]");
    writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), broken);

    const commentFile = path.join(dir, "..", "comment.md");
    const preview = await runPreview(dir, env, ["--stack", stack, "--comment", commentFile]);
    t.is(preview.code, 1, preview.output);
    const lineOf = (text: string) => broken.split("\n").findIndex((l) => l.includes(text)) + 1;
    t.is(
        readFileSync(commentFile, "utf8"),
        [
            `<!-- nfvkit-preview stack=${stack} -->`,
            `**nfvkit preview for stack ${stack}:** ❌ 2 problems in the stack config; nothing was previewed`,
            "",
            `**Validation:** ❌ 2 problems in \`stacks/Pulumi.${stack}.yaml\`; nothing was previewed and nothing was created.`,
            "",
            `- line ${lineOf("memory: lots")}, \`nfv-testpod:pod.guests[1].memory\`: is not a memory size (got \`"lots"\`). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"`,
            `- line ${lineOf("members: [vnf, ghost]")}, \`nfv-testpod:pod.links[0].members[1]\`: is not a guest of this pod (got \`"ghost"\`). Fix: use one of "vnf", "peer"`,
            "",
        ].join("\n"),
    );
    // Without --comment the same Markdown goes to stdout.
    const printed = await runPreview(dir, env, ["--stack", stack]);
    t.is(printed.code, 1);
    t.is(printed.stdout, readFileSync(commentFile, "utf8"));
    t.deepEqual(await domainsWithPrefix(`nfv-testpod-${stack}`), []);
    const stacks = await runPulumiIn(dir, ["stack", "ls", "--json"], env);
    t.false(stacks.output.includes(stack), "not even a stack was created in the backend");
});
