/**
 * Times one `pulumi preview` of a synthetic pod with the real engine, in a
 * throwaway stack of the project's file backend, and measures the memory and
 * CPU of every process it starts. Leaves nothing behind: the stack is removed
 * and its config lives in a temporary folder, never in stacks/.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandFailure } from "../../components/host/access/errors";
import { projectRoot, pulumiEnv } from "../cli/engine";
import { initStack, PROJECT_NAME, removeStack, stateResources } from "./benchStack";
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
    /**
     * Another Pulumi program to preview instead of the kit's (the bench's floor
     * program): its folder, its project name and its stack config.
     * @default the kit's program with the synthetic pod of `size`
     */
    program?: { dir: string; project: string; config: Record<string, unknown>; describe: string };
    /** The stack's `nfv-testpod:guestComponents`. @default the project's default (true) */
    guestComponents?: boolean;
    /** Also write the preview's steps as JSON (`pulumi preview --json`) to this file; adds the JSON's cost to the run. */
    jsonFile?: string;
}

const TIME_BINARY = "/usr/bin/time";

/** Runs one preview and measures it; throws when the preview fails or leaves resources. */
export async function benchPreview(opts: PreviewBenchOptions): Promise<PreviewMeasurement> {
    const spec = syntheticPod(opts.size);
    const stack = opts.stack ?? `bench-${opts.size.hosts}`;
    const project = opts.program?.project ?? PROJECT_NAME;
    const cwd = opts.program?.dir ?? projectRoot;
    const scratch = mkdtempSync(path.join(os.tmpdir(), "nfvkit-bench-"));
    try {
        const configFile = initStack(
            stack,
            scratch,
            opts.program?.config ?? {
                [`${PROJECT_NAME}:pod`]: spec,
                ...(opts.guestComponents === undefined ? {} : { [`${PROJECT_NAME}:guestComponents`]: opts.guestComponents }),
            },
            project,
        );
        const what = opts.program?.describe ?? `${spec.hosts.length} hosts, ${spec.guests.length} guests, ${spec.links?.length ?? 0} links`;
        opts.log?.(`${stack}: ${what}; config ${configFile}`);

        const timeFile = path.join(scratch, "time.out");
        const withTime = existsSync(TIME_BINARY);
        const previewArgs = ["preview", "--stack", stack, "--config-file", configFile, "--non-interactive", ...(opts.jsonFile ? ["--json"] : ["--diff=false"])];
        const [command, args] = withTime ? [TIME_BINARY, ["-f", "%e %U %S %M", "-o", timeFile, "pulumi", ...previewArgs]] : ["pulumi", previewArgs];

        const started = process.hrtime.bigint();
        const env: NodeJS.ProcessEnv = { ...opts.env };
        if (opts.cpuProfileDir) {
            env.NODE_OPTIONS = [env.NODE_OPTIONS ?? process.env.NODE_OPTIONS, "--cpu-prof", `--cpu-prof-dir=${opts.cpuProfileDir}`].filter(Boolean).join(" ");
        }
        const child = spawn(command, args, { cwd, env: pulumiEnv(env), stdio: ["ignore", "pipe", "pipe"] });
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
        if (code !== 0)
            throw commandFailure("local", ["pulumi", "preview", "--stack", stack], {
                exitCode: code,
                stdout: stdout.slice(-4000),
                stderr: stderr.slice(-4000),
            });

        let toCreate = Number(/(\d+) to create/.exec(stdout)?.[1] ?? NaN);
        if (opts.jsonFile) {
            writeFileSync(opts.jsonFile, stdout);
            toCreate = (JSON.parse(stdout) as { changeSummary?: { create?: number } }).changeSummary?.create ?? NaN;
        }
        const left = stateResources(stack, scratch).length;
        // A preview that creates something is a bug of the kit: stop the bench on it.
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
            removeStack(stack, scratch, project);
        } finally {
            rmSync(scratch, { recursive: true, force: true });
        }
    }
}
