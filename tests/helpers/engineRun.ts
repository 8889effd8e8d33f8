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
import { projectRoot, pulumiEnv, runPulumi, spawnPulumi } from "../../tools/cli/engine";
import { inThisLane } from "./lane";

export interface RunningCli {
    child: ChildProcess;
    /** stdout and stderr so far. */
    output(): string;
    /** Resolves with the exit code (null when killed). */
    exited: Promise<number | null>;
}

/** Starts `pulumi <args>` in `cwd` (the project by default), with the kit's record of the run, as the kit starts it. */
export function startPulumi(args: string[], cwd = projectRoot, env: NodeJS.ProcessEnv = {}): RunningCli {
    const child = spawnPulumi(args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout!.on("data", (d: Buffer) => (text += d));
    child.stderr!.on("data", (d: Buffer) => (text += d));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    return { child, output: () => text, exited };
}

/** The process group of `pid`, from /proc/<pid>/stat (the field after the state); undefined once it is gone. */
function processGroupOf(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        // The command name is in parentheses and may hold spaces: the fields after its closing one are fixed.
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
    } catch {
        return undefined;
    }
}

/**
 * SIGKILL to the CLI and, at the same moment, to the process group of each of
 * the engine's helpers it started (the provider plugin, the language host, the
 * program): a crash of the whole run, as a power cut or the OOM killer makes
 * it, with no helper left to finish a step it had begun. A helper in this test
 * process's own group is killed by its pid alone.
 */
export function killCliAndPlugins(cli: RunningCli, root = projectRoot): void {
    const own = processGroupOf(process.pid);
    const helpers = kitProcesses(root).map((p) => ({ pid: p.pid, group: processGroupOf(p.pid) }));
    cli.child.kill("SIGKILL");
    for (const { pid, group } of helpers) {
        try {
            if (group !== undefined && group !== own && group > 1) process.kill(-group, "SIGKILL");
            else process.kill(pid, "SIGKILL");
        } catch {
            // Gone already: the helpers exit with the engine.
        }
    }
}

/** `pulumi stack export` of a stack: its resources and its pending operations, as the state holds them. */
export async function exportedState(stack: string): Promise<{ resources: { urn: string; type: string }[]; pending: { type: string; urn: string }[] }> {
    const r = await runPulumi(["stack", "export", "--stack", stack]);
    if (r.code !== 0) throw new Error(`pulumi stack export --stack ${stack} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
    const deployment = JSON.parse(r.stdout).deployment ?? {};
    return {
        resources: (deployment.resources ?? []).map((x: { urn: string; type: string }) => ({ urn: x.urn, type: x.type })),
        pending: (deployment.pending_operations ?? []).map((op: { type: string; resource: { urn: string } }) => ({ type: op.type, urn: op.resource.urn })),
    };
}

/** Runs `pulumi <args>` in `cwd` to the end. */
export async function runPulumiIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
    const cli = startPulumi(args, cwd, env);
    const code = await cli.exited;
    return { code, output: cli.output() };
}

/**
 * Runs one of the kit's commands (tools/cli/<name>.ts, what `npm run <name>` runs after the bootstrap) and times it;
 * `root` is the checkout it runs in (another copy of the project shares this one's node_modules and engine).
 */
export async function runKitCommand(
    name: "up" | "down" | "probe" | "preview",
    args: string[],
    root = projectRoot,
    extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string; seconds: number }> {
    const started = Date.now();
    const child = spawn(path.join(projectRoot, "node_modules", ".bin", "tsx"), [path.join(root, "tools", "cli", `${name}.ts`), ...args], {
        cwd: root,
        env: { ...pulumiEnv(), ...extraEnv },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    return { code, output, seconds: (Date.now() - started) / 1000 };
}

/**
 * Polls `condition` every `intervalMs` (200 ms by default) until it holds; fails after `timeoutMs` naming `what`.
 * A moment that lasts only tens of ms (a ledger entry's "changing" phase, a pin half applied) needs a short interval.
 */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 180_000, intervalMs = 200): Promise<void> {
    const start = Date.now();
    while (!(await condition())) {
        if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

/**
 * The engine's helpers that the kit starts from this checkout (or from the copy at `root`), in this test's lane:
 * its language host, the program, and the nfvkit provider plugin. Other checkouts' (other people's runs on a
 * shared machine) and the other lane's (the lab VM test npm test runs beside, tests/helpers/lane.ts) are not
 * ours to wait for, nor to kill.
 */
export function kitProcesses(root = projectRoot): { pid: number; command: string }[] {
    const found: { pid: number; command: string }[] = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        let command: string;
        try {
            command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
        } catch {
            continue;
        }
        if (!command.includes(root)) continue;
        if (/pulumi-language-nodejs|components\/provider\/server\.ts|@pulumi\/pulumi\/cmd\/run/.test(command) && inThisLane(Number(entry)))
            found.push({ pid: Number(entry), command });
    }
    return found;
}
