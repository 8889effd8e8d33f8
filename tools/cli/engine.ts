/**
 * How the kit's command-line entry points (and the end-to-end tests) run the
 * Pulumi CLI: the engine from tools/bootstrap.sh first on PATH, Node 22 next,
 * state in the local file backend under .state/ (no cloud account), and a
 * passphrase secrets provider.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import * as path from "node:path";

export const projectRoot = path.resolve(__dirname, "../..");

/**
 * The passphrase of local and CI stacks. Their config holds no secrets yet; a
 * lab stack with real credentials sets PULUMI_CONFIG_PASSPHRASE itself.
 */
const DEFAULT_PASSPHRASE = "nfvkit-local-stacks";

/** Environment for a pulumi process. */
export function pulumiEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const backendDir = path.join(projectRoot, ".state", "backend");
    mkdirSync(backendDir, { recursive: true });
    return {
        ...process.env,
        PATH: [path.join(projectRoot, ".state", "bin"), path.join(projectRoot, "node_modules", ".bin"), process.env.PATH].join(":"),
        PULUMI_BACKEND_URL: process.env.PULUMI_BACKEND_URL ?? `file://${backendDir}`,
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
 * terminal as it comes (long steps show progress); it is captured either way.
 */
export function runPulumi(args: string[], opts: { echo?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<PulumiResult> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", args, { cwd: projectRoot, env: pulumiEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => {
            stdout += d;
            if (opts.echo) process.stdout.write(d);
        });
        child.stderr.on("data", (d: Buffer) => {
            stderr += d;
            if (opts.echo) process.stderr.write(d);
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
}

/** Selects the stack, creating it in the file backend on first use. */
export function selectStack(stack: string): void {
    const r = spawnSync("pulumi", ["stack", "select", "--create", stack, "--non-interactive"], {
        cwd: projectRoot,
        env: pulumiEnv(),
        encoding: "utf8",
    });
    if (r.status !== 0) {
        throw new Error(`pulumi stack select --create ${stack} failed: ${r.stderr || r.stdout || r.error}`);
    }
}

/** Reads `pulumi stack output --json` of a stack. */
export async function stackOutputs(stack: string): Promise<Record<string, unknown>> {
    const r = await runPulumi(["stack", "output", "--json", "--show-secrets", "--stack", stack]);
    if (r.code !== 0) throw new Error(`pulumi stack output failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
}

/** `--stack <name>` from argv, or the default. */
export function stackFromArgv(argv: string[], fallback: string): string {
    const i = argv.indexOf("--stack");
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
}
