/**
 * Throwaway stacks for the benches, in the project's file backend under
 * .state/. A bench stack's config file (its encryption salt and the pod) lives
 * in a scratch folder and is passed with `--config-file`, so nothing is
 * written to stacks/; removing the stack leaves no backup or lock behind.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { commandFailure } from "../../components/host/access/errors";
import { pulumiEnv } from "../cli/engine";
import { fileBackendFolder } from "../cli/backendStore";

/** The name in the project's Pulumi.yaml: a bench stack belongs to the kit's own project. */
export const PROJECT_NAME = "nfv-testpod";

export function pulumiSync(args: string[], cwd: string): { status: number; out: string } {
    const r = spawnSync("pulumi", args, { cwd, env: pulumiEnv(), encoding: "utf8", maxBuffer: 256 << 20 });
    return { status: r.status ?? 1, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ?? ""}` };
}

/**
 * Creates the stack from a scratch project folder of the given project name:
 * `pulumi stack init` writes the stack's config file (its encryption salt)
 * next to the Pulumi.yaml it finds, and the real one would put it in stacks/.
 * Writes `config` into that file and returns its path.
 */
export function initStack(stack: string, scratch: string, config: Record<string, unknown>, project = PROJECT_NAME): string {
    writeFileSync(path.join(scratch, "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\n`);
    let r = pulumiSync(["stack", "init", stack, "--non-interactive"], scratch);
    if (r.status !== 0 && /already exists/.test(r.out)) {
        // Left by an interrupted bench; bench stacks are throwaway by name.
        removeStack(stack, scratch, project);
        r = pulumiSync(["stack", "init", stack, "--non-interactive"], scratch);
    }
    if (r.status !== 0) throw commandFailure("local", ["pulumi", "stack", "init", stack], { exitCode: r.status, stderr: r.out });
    const configFile = path.join(scratch, `Pulumi.${stack}.yaml`);
    const salted = (yaml.load(readFileSync(configFile, "utf8")) ?? {}) as Record<string, unknown>;
    writeFileSync(configFile, yaml.dump({ ...salted, config }, { lineWidth: -1 }));
    return configFile;
}

/** Removes the stack with `--force` (a preview bench's stack holds nothing; an up bench destroys first). */
export function removeStack(stack: string, cwd: string, project = PROJECT_NAME): void {
    const r = pulumiSync(["stack", "rm", stack, "--yes", "--force"], cwd);
    if (r.status !== 0 && !/no stack named/i.test(r.out))
        throw commandFailure("local", ["pulumi", "stack", "rm", stack], { exitCode: r.status, stderr: r.out });
    // The file backend keeps a backup of a removed stack and its empty lock folder; a throwaway stack needs neither.
    const folder = fileBackendFolder(pulumiEnv().PULUMI_BACKEND_URL);
    if (folder !== undefined) {
        const root = path.join(folder, ".pulumi");
        for (const leftover of [
            path.join(root, "stacks", project, `${stack}.json.bak`),
            path.join(root, "stacks", project, `${stack}.json.bak.attrs`),
            path.join(root, "locks", "organization", project, stack),
        ]) {
            rmSync(leftover, { recursive: true, force: true });
        }
    }
}

/** One resource of a stack's state, as `pulumi stack export` writes it. */
export interface StateResource {
    urn: string;
    type: string;
    parent?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The resources in the stack's state. */
export function stateResources(stack: string, cwd: string): StateResource[] {
    const r = spawnSync("pulumi", ["stack", "export", "--stack", stack], { cwd, env: pulumiEnv(), encoding: "utf8", maxBuffer: 256 << 20 });
    if (r.status !== 0)
        throw commandFailure("local", ["pulumi", "stack", "export", "--stack", stack], { exitCode: r.status, signal: r.signal, stderr: r.stderr });
    return JSON.parse(r.stdout).deployment?.resources ?? [];
}
