/**
 * Times one `pulumi preview` of a synthetic pod with the real engine, in a
 * throwaway stack of the project's file backend, and measures the memory and
 * CPU of every process it starts. Leaves nothing behind: the stack is removed
 * and its config lives in a temporary folder, never in stacks/.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { projectRoot, pulumiEnv } from "../cli/engine";
import { watchTree, type TreeUsage } from "./processTree";
import { syntheticPod, type SyntheticPodSize } from "./syntheticPod";

/** What one preview cost. */
export interface PreviewMeasurement {
    stack: string;
    hosts: number;
    guests: number;
    links: number;
    /** Resources the preview would create (from its summary line). */
    toCreate: number;
    /** From starting `pulumi preview` to its exit, in seconds. */
    wallSeconds: number;
    /** User + system CPU seconds of the whole tree, from /usr/bin/time when installed (else summed from /proc samples). */
    cpuSeconds: number;
    /** Peak of the summed resident sets of the tree, in MiB. */
    peakTreeRssMiB: number;
    /** Largest single process's peak resident set (/usr/bin/time's %M), in MiB; undefined without /usr/bin/time. */
    peakProcessRssMiB?: number;
    /** Per role (engine, program, …): peak resident set and CPU seconds. */
    usage: TreeUsage;
}

export interface PreviewBenchOptions {
    /** Pod size. */
    size: SyntheticPodSize;
    /** Stack name. @default `bench-<hosts>` */
    stack?: string;
    /** Extra environment for the preview. */
    env?: NodeJS.ProcessEnv;
    /**
     * Write a V8 CPU profile of every Node.js process of the preview (the
     * program, the dynamic-provider host) into this folder, named after its pid.
     * @default none: profiling slows the run down
     */
    cpuProfileDir?: string;
    /** Lines of progress. */
    log?: (line: string) => void;
}

const TIME_BINARY = "/usr/bin/time";
const PROJECT_NAME = "nfv-testpod";

function pulumiSync(args: string[], cwd: string): { status: number; out: string } {
    const r = spawnSync("pulumi", args, { cwd, env: pulumiEnv(), encoding: "utf8" });
    return { status: r.status ?? 1, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ?? ""}` };
}

/**
 * Creates the stack from a scratch project folder of the same project name:
 * `pulumi stack init` writes the stack's config file (its encryption salt)
 * next to the Pulumi.yaml it finds, and the real one would put it in stacks/.
 * Returns the config file, which holds the salt.
 */
function initStack(stack: string, scratch: string): string {
    writeFileSync(path.join(scratch, "Pulumi.yaml"), `name: ${PROJECT_NAME}\nruntime: nodejs\n`);
    let r = pulumiSync(["stack", "init", stack, "--non-interactive"], scratch);
    if (r.status !== 0 && /already exists/.test(r.out)) {
        // Left by an interrupted bench; bench stacks are throwaway by name.
        removeStack(stack, scratch);
        r = pulumiSync(["stack", "init", stack, "--non-interactive"], scratch);
    }
    if (r.status !== 0) throw new Error(`pulumi stack init ${stack} failed: ${r.out}`);
    return path.join(scratch, `Pulumi.${stack}.yaml`);
}

function removeStack(stack: string, cwd: string): void {
    const r = pulumiSync(["stack", "rm", stack, "--yes", "--force"], cwd);
    if (r.status !== 0 && !/no stack named/i.test(r.out)) throw new Error(`pulumi stack rm ${stack} failed: ${r.out}`);
    // The file backend keeps a backup of a removed stack and its empty lock folder; a throwaway stack needs neither.
    const backend = pulumiEnv().PULUMI_BACKEND_URL ?? "";
    if (backend.startsWith("file://")) {
        const root = path.join(backend.slice("file://".length), ".pulumi");
        for (const leftover of [
            path.join(root, "stacks", PROJECT_NAME, `${stack}.json.bak`),
            path.join(root, "stacks", PROJECT_NAME, `${stack}.json.bak.attrs`),
            path.join(root, "locks", "organization", PROJECT_NAME, stack),
        ]) {
            rmSync(leftover, { recursive: true, force: true });
        }
    }
}

/** Resources in the stack's state; a preview must leave it at none. */
function resourcesInState(stack: string, cwd: string): number {
    const r = spawnSync("pulumi", ["stack", "export", "--stack", stack], { cwd, env: pulumiEnv(), encoding: "utf8", maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`pulumi stack export ${stack} failed: ${r.stderr}`);
    return (JSON.parse(r.stdout).deployment?.resources ?? []).length;
}

/** Runs one preview and measures it; throws when the preview fails or leaves resources. */
export async function benchPreview(opts: PreviewBenchOptions): Promise<PreviewMeasurement> {
    const spec = syntheticPod(opts.size);
    const stack = opts.stack ?? `bench-${opts.size.hosts}`;
    const scratch = mkdtempSync(path.join(os.tmpdir(), "nfvkit-bench-"));
    try {
        const configFile = initStack(stack, scratch);
        const salted = (yaml.load(readFileSync(configFile, "utf8")) ?? {}) as Record<string, unknown>;
        writeFileSync(configFile, yaml.dump({ ...salted, config: { [`${PROJECT_NAME}:pod`]: spec } }, { lineWidth: -1 }));
        opts.log?.(`${stack}: ${spec.hosts.length} hosts, ${spec.guests.length} guests, ${spec.links?.length ?? 0} links; config ${configFile}`);

        const timeFile = path.join(scratch, "time.out");
        const withTime = existsSync(TIME_BINARY);
        const previewArgs = ["preview", "--stack", stack, "--config-file", configFile, "--non-interactive", "--diff=false"];
        const [command, args] = withTime ? [TIME_BINARY, ["-f", "%e %U %S %M", "-o", timeFile, "pulumi", ...previewArgs]] : ["pulumi", previewArgs];

        const started = process.hrtime.bigint();
        const env: NodeJS.ProcessEnv = { ...opts.env };
        if (opts.cpuProfileDir) {
            env.NODE_OPTIONS = [env.NODE_OPTIONS ?? process.env.NODE_OPTIONS, "--cpu-prof", `--cpu-prof-dir=${opts.cpuProfileDir}`].filter(Boolean).join(" ");
        }
        const child = spawn(command, args, { cwd: projectRoot, env: pulumiEnv(env), stdio: ["ignore", "pipe", "pipe"] });
        const watcher = watchTree(child.pid!);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        const code = await new Promise<number>((resolve, reject) => {
            child.on("error", reject);
            child.on("close", (c) => resolve(c ?? 1));
        });
        const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
        const usage = watcher.stop();
        if (code !== 0) throw new Error(`pulumi preview --stack ${stack} failed (exit ${code}):\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);

        const toCreate = Number(/(\d+) to create/.exec(stdout)?.[1] ?? NaN);
        const left = resourcesInState(stack, scratch);
        if (left !== 0) throw new Error(`pulumi preview --stack ${stack} left ${left} resources in the stack's state; a preview must create nothing`);

        let cpuSeconds = Object.values(usage.roles).reduce((sum, r) => sum + r.cpuSeconds, 0);
        let peakProcessRssMiB: number | undefined;
        if (withTime) {
            const [, user, system, maxRssKiB] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
            cpuSeconds = user + system;
            peakProcessRssMiB = maxRssKiB / 1024;
        }
        return {
            stack,
            hosts: spec.hosts.length,
            guests: spec.guests.length,
            links: spec.links?.length ?? 0,
            toCreate,
            wallSeconds,
            cpuSeconds,
            peakTreeRssMiB: usage.peakRssKiB / 1024,
            peakProcessRssMiB,
            usage,
        };
    } finally {
        try {
            removeStack(stack, scratch);
        } finally {
            rmSync(scratch, { recursive: true, force: true });
        }
    }
}
