/**
 * Runs the real Pulumi CLI the way a user does, but under the test's control:
 * started in the background so it can be killed with SIGKILL at a chosen
 * moment, and the kit's commands (`npm run up`, `npm run down`) run to
 * completion with their time measured. Also finds the engine's helper
 * processes, which must not outlive a killed CLI.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { projectRoot, pulumiEnv, runPulumi } from "../../tools/cli/engine";

export interface RunningCli {
    child: ChildProcess;
    /** stdout and stderr so far. */
    output(): string;
    /** Resolves with the exit code (null when killed). */
    exited: Promise<number | null>;
}

/** Starts `pulumi <args>` in `cwd` (the project by default). */
export function startPulumi(args: string[], cwd = projectRoot, env: NodeJS.ProcessEnv = {}): RunningCli {
    const child = spawn("pulumi", args, { cwd, env: pulumiEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout!.on("data", (d: Buffer) => (text += d));
    child.stderr!.on("data", (d: Buffer) => (text += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    return { child, output: () => text, exited };
}

/** Runs `pulumi <args>` in `cwd` to the end. */
export async function runPulumiIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
    const cli = startPulumi(args, cwd, env);
    const code = await cli.exited;
    return { code, output: cli.output() };
}

/** Runs one of the kit's commands (tools/cli/<name>.ts, what `npm run <name>` runs after the bootstrap) and times it. */
export async function runKitCommand(name: "up" | "down" | "probe", args: string[]): Promise<{ code: number | null; output: string; seconds: number }> {
    const started = Date.now();
    const child = spawn(path.join(projectRoot, "node_modules", ".bin", "tsx"), [path.join(projectRoot, "tools", "cli", `${name}.ts`), ...args], {
        cwd: projectRoot,
        env: pulumiEnv(),
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { code, output, seconds: (Date.now() - started) / 1000 };
}

/** Polls `condition` every 200 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<void> {
    const start = Date.now();
    while (!(await condition())) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

/**
 * The engine's helpers that the kit starts from this checkout: its language host, the program, and the
 * nfvkit provider plugin. Other checkouts' (other people's runs on a shared machine) are not ours to wait for.
 */
export function kitProcesses(): { pid: number; command: string }[] {
    const found: { pid: number; command: string }[] = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        let command: string;
        try {
            command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
        } catch {
            continue;
        }
        if (!command.includes(projectRoot)) continue;
        if (/pulumi-language-nodejs|components\/provider\/server\.ts|@pulumi\/pulumi\/cmd\/run/.test(command)) found.push({ pid: Number(entry), command });
    }
    return found;
}

/** What a stack's state holds (`pulumi stack export`): its resources and the operations a dead CLI left pending. */
export interface StackState {
    /** Each resource as `<type> <name>`. */
    resources: string[];
    /** Each pending operation as `<type> of <name>`, e.g. "creating of pod-vnf-domain". */
    pending: string[];
}

/** Reads a stack's state with `pulumi stack export`, as a user inspecting it would. */
export async function stackState(stack: string): Promise<StackState> {
    const r = await runPulumi(["stack", "export", "--stack", stack]);
    if (r.code !== 0) throw new Error(`pulumi stack export --stack ${stack} failed:\n${r.stdout}${r.stderr}`);
    const deployment = JSON.parse(r.stdout).deployment ?? {};
    const named = (urn: string) => urn.split("::").pop();
    return {
        resources: ((deployment.resources ?? []) as { type: string; urn: string }[]).map((res) => `${res.type} ${named(res.urn)}`),
        pending: ((deployment.pending_operations ?? []) as { type: string; resource: { urn: string } }[]).map(
            (op) => `${op.type} of ${named(op.resource.urn)}`,
        ),
    };
}
