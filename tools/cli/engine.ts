/**
 * How the kit's command-line entry points (and the end-to-end tests) run the
 * Pulumi CLI: the engine from tools/bootstrap.sh first on PATH, Node 22 next,
 * state in the local file backend under .state/ (no cloud account), and a
 * passphrase secrets provider.
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from "node:child_process";
import { mkdirSync } from "node:fs";
import * as path from "node:path";
import { commandFailure } from "../../components/host/access/errors";
import { readProject } from "../../components/stack/loadStack";
import { StringDecoder } from "node:string_decoder";
import { clearDeadLocks, recordRun } from "./runRecords";
import { removeHalfWrittenAttrs } from "./halfWrittenAttrs";
import { describePending, takePendingCreates, type ExportedDeployment } from "./interruptedCreates";

export const projectRoot = path.resolve(__dirname, "../..");

/**
 * The passphrase of local and CI stacks. Their config holds no secrets yet; a
 * lab stack with real credentials sets PULUMI_CONFIG_PASSPHRASE itself.
 */
const DEFAULT_PASSPHRASE = "nfvkit-local-stacks";

/**
 * The project's own state backend, a folder in the checkout. `metadata=skip`: the engine's blob
 * store then writes no attributes sidecar beside each file, which it writes in place and a killed
 * CLI can leave empty (halfWrittenAttrs.ts); nothing the kit or the engine reads is in it.
 */
export function kitBackendUrl(): string {
    const backendDir = path.join(projectRoot, ".state", "backend");
    mkdirSync(backendDir, { recursive: true });
    return `file://${backendDir}?metadata=skip`;
}

/** Environment for a pulumi process. */
export function pulumiEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
        ...process.env,
        PATH: [path.join(projectRoot, ".state", "bin"), path.join(projectRoot, "node_modules", ".bin"), process.env.PATH].join(":"),
        PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL ?? kitBackendUrl(),
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? DEFAULT_PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
        ...extra,
    };
}

export interface PulumiResult {
    code: number;
    stdout: string;
    stderr: string;
}

/**
 * Runs `pulumi <args>` in the project. With `echo`, output streams to this
 * terminal as it comes (long steps show progress); with `onStdoutLine` or
 * `onStderrLine`, each whole line goes there as it comes (`npm run up` shows
 * the engine's `--json` events its own way). Captured either way.
 */
export function runPulumi(
    args: string[],
    opts: {
        echo?: boolean;
        env?: NodeJS.ProcessEnv;
        /** Written to its standard input, which is then closed (`pulumi stack import` reads the state there, so it is never in a file). */
        input?: string;
        onStdoutLine?: (line: string) => void;
        onStderrLine?: (line: string) => void;
    } = {},
): Promise<PulumiResult> {
    return new Promise((resolve, reject) => {
        const child = spawnPulumi(args, { env: opts.env, stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
        if (opts.input !== undefined) child.stdin!.end(opts.input);
        const out = { stdout: "", stderr: "" };
        const ends: (() => void)[] = [];
        for (const [name, stream, onLine, terminal] of [
            ["stdout", child.stdout!, opts.onStdoutLine, process.stdout],
            ["stderr", child.stderr!, opts.onStderrLine, process.stderr],
        ] as const) {
            let partLine = "";
            // A character split between two reads stays whole.
            const decoder = new StringDecoder("utf8");
            stream.on("data", (d: Buffer) => {
                out[name] += d;
                if (opts.echo) terminal.write(d);
                if (onLine) {
                    const lines = (partLine + decoder.write(d)).split("\n");
                    partLine = lines.pop() ?? "";
                    for (const line of lines) onLine(line);
                }
            });
            ends.push(() => partLine !== "" && onLine?.(partLine));
        }
        child.on("error", reject);
        child.on("close", (code) => {
            for (const end of ends) end();
            resolve({ code: code ?? 1, ...out });
        });
    });
}

/**
 * Selects the stack, creating it in the file backend on first use; `env` as runPulumi's (another PULUMI_BACKEND_URL).
 * Every kit command on a stack starts here, so this is where what a killed CLI left half-written in a file backend
 * is removed (halfWrittenAttrs.ts), said on standard error.
 */
export function selectStack(stack: string, env: NodeJS.ProcessEnv = {}, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): void {
    const fullEnv = pulumiEnv(env);
    removeHalfWrittenAttrs(fullEnv.PULUMI_BACKEND_URL, readProject(projectRoot).name, stack, log);
    const args = ["stack", "select", "--create", stack, "--non-interactive"];
    const r = spawnSync("pulumi", args, { cwd: projectRoot, env: fullEnv, encoding: "utf8" });
    if (r.status !== 0) {
        throw commandFailure("local", ["pulumi", ...args], {
            exitCode: r.status,
            signal: r.signal,
            stdout: r.stdout,
            stderr: r.stderr || String(r.error ?? ""),
        });
    }
}

/** `pulumi <args>` in the project, its standard output; a failure is a HostCommandError. */
export async function pulumiOutput(args: string[]): Promise<string> {
    const r = await runPulumi(args);
    if (r.code !== 0) throw commandFailure("local", ["pulumi", ...args], { exitCode: r.code, stdout: r.stdout, stderr: r.stderr });
    return r.stdout;
}

/** Reads `pulumi stack output --json` of a stack. */
export async function stackOutputs(stack: string): Promise<Record<string, unknown>> {
    return JSON.parse(await pulumiOutput(["stack", "output", "--json", "--show-secrets", "--stack", stack]));
}

/** The arguments after `--stack <name>` is taken out, passed on to pulumi as they are (e.g. `--config-file`, `--target`). */
export function passThroughArgs(argv: string[]): string[] {
    const args = argv.slice(2);
    const i = args.indexOf("--stack");
    if (i >= 0) args.splice(i, 2);
    return args;
}

/** `--stack <name>` from argv, or the default. */
export function stackFromArgv(argv: string[], fallback: string): string {
    const i = argv.indexOf("--stack");
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
}

/**
 * A file backend locks a stack while a CLI runs on it, and a CLI killed with
 * SIGKILL leaves its lock behind: every later command then fails with "the
 * stack is currently locked". The kit removes such a lock, out loud, only
 * when its own record of the run shows the run is over for sure (this
 * machine, and an earlier boot or a pid that is gone); any other lock stops
 * the command with one message naming its holder and the `pulumi cancel` and
 * `rm` that remove it by hand (runRecords.ts, lockOwner.ts).
 */
export function clearStaleLocks(stack: string, log: (line: string) => void): void {
    clearDeadLocks(pulumiEnv().PULUMI_BACKEND_URL, readProject(projectRoot).name, stack, log);
}

/**
 * Starts `pulumi <args>` with the kit's record of the run (runRecords.ts),
 * which is removed when it exits unless its lock outlived it. Every pulumi
 * the kit and its tests start goes through here.
 */
export function spawnPulumi(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdio: StdioOptions }): ChildProcess {
    const env = pulumiEnv(opts.env);
    const startedAt = new Date();
    const child = spawn("pulumi", args, { cwd: opts.cwd ?? projectRoot, env, stdio: opts.stdio });
    const finish = recordRun(child.pid, args, env, startedAt);
    child.on("close", finish);
    return child;
}

/**
 * After a CLI that died mid-run (killed, crashed, host rebooted), the state
 * keeps "pending operations": creates and deletes the engine started but never
 * saw finish. `pulumi up` then only warns, and keeps the pending creates for
 * ever. What to do with the pending creates depends on what comes next:
 *
 * - before `up` ("adopt"): `pulumi refresh --clear-pending-creates`. The
 *   create runs again and the kit's providers adopt what carries their URN
 *   (a domain's owner stamp, a ledger entry), so dropping the records is safe.
 * - before `destroy` ("remove"): no create runs again, so dropping them would
 *   leave what they made on the hosts. Each is first taken into the state
 *   (interruptedCreates.ts, `pulumi stack import`); the refresh then reads
 *   whether each exists and is its own, and `destroy` removes it with the
 *   provider's own delete.
 *
 * Either way it says so. Returns whether there was anything to recover.
 */
export async function recoverInterruptedRun(
    stack: string,
    log: (line: string) => void,
    configArgs: string[] = [],
    next: "adopt" | "remove" = "adopt",
    /** For the refresh: the stack's current host access (stack.ts currentAccessEnvOf), so it reads with the newest key and pins. */
    env: NodeJS.ProcessEnv = {},
): Promise<boolean> {
    clearStaleLocks(stack, log);
    const exported = await runPulumi(["stack", "export", "--stack", stack]);
    if (exported.code !== 0) return false;
    const state = JSON.parse(exported.stdout) as { deployment?: ExportedDeployment };
    const pending = state.deployment?.pending_operations ?? [];
    if (!state.deployment || pending.length === 0) return false;
    log(`The last run of stack ${stack} was interrupted (${describePending(pending)} did not finish).`);
    if (next === "adopt") {
        log("Running `pulumi refresh --clear-pending-creates` first: it reads what is really on the hosts; the kit adopts what it made.");
    } else {
        const { deployment, taken } = takePendingCreates(state.deployment);
        if (taken.length > 0) {
            log(
                `Taking the ${taken.length} create(s) it did not finish into the state (pulumi stack import), so that the refresh reads ` +
                    "whether each made something that is its own, and destroy removes that.",
            );
            const args = ["stack", "import", "--stack", stack];
            const imported = await runPulumi(args, { input: JSON.stringify({ ...state, deployment }) });
            if (imported.code !== 0)
                throw commandFailure("local", ["pulumi", ...args], { exitCode: imported.code, stdout: imported.stdout, stderr: imported.stderr }).withFix(
                    "the state is still as the interrupted run left it: fix what pulumi says here, then run npm run down again",
                );
        }
        log("Running `pulumi refresh` first: it reads what is really on the hosts.");
    }
    const args = ["refresh", "--yes", "--skip-preview", "--clear-pending-creates", "--stack", stack, ...configArgs];
    const refresh = await runPulumi(args, { echo: true, env });
    if (refresh.code !== 0)
        throw commandFailure("local", ["pulumi", ...args], { exitCode: refresh.code, stdout: refresh.stdout, stderr: refresh.stderr }).withFix(
            `the stack still has pending operations: read the refresh's words above, fix their cause, then run this again`,
        );
    return true;
}
