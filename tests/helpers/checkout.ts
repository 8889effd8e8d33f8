/**
 * Another checkout of the project, as a teammate or a pull request's CI job
 * has it: the project's files in a folder of their own, and the kit's
 * commands run there.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../tools/cli/engine";

/**
 * The project's files as a fresh checkout has them (tracked and new, not ignored), in a new folder under /tmp;
 * node_modules is shared, as an install would give the same. The caller removes the folder.
 */
export function copyCheckout(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-checkout-b-"));
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: projectRoot });
    execFileSync("tar", ["-C", projectRoot, "--null", "-T", "-", "-cf", path.join(dir, "project.tar")], { input: files });
    execFileSync("tar", ["-C", dir, "-xf", path.join(dir, "project.tar")]);
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

/**
 * `npm run preview -- <args>` as run in the checkout `dir` (after the bootstrap, which this checkout's test run
 * has done: `env` gives its engine on PATH and the state backend).
 */
export function runPreview(dir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(path.join(dir, "node_modules", ".bin", "tsx"), [path.join(dir, "tools", "cli", "preview.ts"), ...args], {
            cwd: dir,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let output = "";
        child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
        child.stderr.on("data", (d: Buffer) => (output += d));
        child.on("close", (code) => resolve({ code, stdout, output }));
    });
}
