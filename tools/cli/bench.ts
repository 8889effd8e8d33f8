/**
 * `npm run bench [-- <what> options]`: the kit side by side with baselines,
 * as ratios (absolute times drift on a shared machine), and how the cost of
 * a preview grows with the pod. See docs/bench.md.
 *
 * What (default: up and preview):
 *   up        `pulumi up` / `destroy` / no-change `up` of the ci pod (probes off) against a
 *             plain virsh script (tools/bench/virsh-pod.sh) and an empty program, alternating;
 *             and where `up` spends its time
 *   preview   `pulumi preview` of the large synthetic pod against the floor program
 *             (tools/bench/floor): the same resource graph, nothing else
 *   sizes     preview cost at 1/4, 1/2 and full size, and its growth per guest
 *   ring      the inter-VM probe's ring (nfvkit-ring) built from main's source against the
 *             working tree's, on this machine's two CPUs: bursts 32 and 1, checked and unchecked,
 *             new ÷ old and checked ÷ unchecked (needs neither the engine nor the guest image)
 *
 * Options:
 *   --runs N           timed runs of each side, after a warm-up of each (default 3; ring: rounds, default 5)
 *   --seconds S        ring: seconds of traffic per run (default 2)
 *   --guest-components preview the pod with nfv-testpod:guestComponents true (an NfvGuest and an
 *                      IvshmemLink component per guest and link; the default of a stack), not false
 *   --floor-inputs W   preview: what the floor's resources carry: string (one string as long as the kit
 *                      resource's inputs; the default) or kit (the kit resource's own inputs)
 *   --hosts 16,32,64   sizes, in hosts (8 guests and 4 links per host); preview uses the largest (default 64)
 *   --profile          always profile the largest size's program (sizes; default: only when the target is missed)
 *   --no-profile       never profile
 *   --json FILE        also write the measurements as JSON
 *   --node-options "…" NODE_OPTIONS for every Node.js process of the previews (to try a remedy, e.g. --stack-trace-limit=0)
 *   --stack NAME       stack of the `up` runs (default bench-up); its name is in the domain names
 *   --guests 2,8       sizes of the `up` pod in guests (default 2: the ci pod; more: its host with that many
 *                      guests, half with an RT vCPU as far as the host isolates CPUs, at most 2 links)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureGuestImage } from "../../guest-images/build";
import { summarizeCpuProfile, type CpuProfile } from "../bench/cpuProfile";
import { benchPreview, type PreviewMeasurement } from "../bench/previewBench";
import { benchPreviewAgainstFloor } from "../bench/floorBench";
import { countByType } from "../bench/floorGraph";
import { benchUp } from "../bench/upBench";
import { benchRing, formatRingBench } from "../bench/ringBench";
import { defaultTarget, formatBreakdown, formatComparisons, formatGrowth, formatMeasurements, formatProfile, formatVerdict, median } from "../bench/report";
import { problemError, ProblemListError, type SpecProblem } from "../../components/spec/problems";
import { projectRoot } from "./engine";

type BenchPart = "up" | "preview" | "sizes" | "ring";

interface BenchArgs {
    parts: BenchPart[];
    runs: number;
    /** --runs as given; ring's default (5) differs from the others' (3). */
    runsGiven?: number;
    /** ring: seconds of traffic per run. */
    ringSeconds: number;
    /** The preview's pod setting nfv-testpod:guestComponents. */
    guestComponents: boolean;
    /** What the preview floor's custom resources carry. */
    floorInputs: "string" | "kit";
    hosts: number[];
    profile: "always" | "on-miss" | "never";
    json?: string;
    nodeOptions?: string;
    /** Stack of the kit's `up` runs; in every domain name, so two people benching on one libvirtd do not collide. */
    upStack?: string;
    /** Sizes of the `up` pod, in guests. */
    guests: number[];
}

const GUESTS_PER_HOST = 8;

function parseArgs(argv: string[]): BenchArgs {
    const args: BenchArgs = {
        parts: [],
        runs: 3,
        ringSeconds: 2,
        guestComponents: false,
        floorInputs: "string",
        hosts: [16, 32, 64],
        profile: "on-miss",
        guests: [2],
    };
    // Every bad argument at once, in the kit's one shape for bad input.
    const problems: SpecProblem[] = [];
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "up" || a === "preview" || a === "sizes" || a === "ring") args.parts.push(a);
        else if (a === "--guest-components") args.guestComponents = true;
        else if (a === "--floor-inputs") {
            const what = argv[++i];
            if (what === "string" || what === "kit") args.floorInputs = what;
            else problems.push({ path: "--floor-inputs", value: what, reason: "is not a floor input kind", fix: "write string or kit" });
        } else if (a === "--runs") {
            const n = Number(argv[++i]);
            if (!Number.isInteger(n) || n < 1)
                problems.push({ path: "--runs", value: argv[i], reason: "must be a whole number ≥ 1", fix: "write e.g. --runs 3" });
            args.runs = n;
            args.runsGiven = n;
        } else if (a === "--seconds") {
            const n = Number(argv[++i]);
            if (!Number.isFinite(n) || n <= 0 || n > 3600)
                problems.push({
                    path: "--seconds",
                    value: argv[i],
                    reason: "must be seconds of traffic per ring run, above 0 and at most 3600",
                    fix: "write e.g. --seconds 2",
                });
            args.ringSeconds = n;
        } else if (a === "--hosts") {
            const list = (argv[++i] ?? "").split(",").map(Number);
            if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
                problems.push({
                    path: "--hosts",
                    value: argv[i],
                    reason: "must be a comma-separated list of whole numbers ≥ 1",
                    fix: "write e.g. --hosts 16,32,64",
                });
            }
            args.hosts = [...new Set(list)].sort((x, y) => x - y);
        } else if (a === "--guests") {
            const list = (argv[++i] ?? "").split(",").map(Number);
            if (list.some((n) => !Number.isInteger(n) || n < 2 || n > 64)) {
                problems.push({
                    path: "--guests",
                    value: argv[i],
                    reason: "must be a comma-separated list of whole numbers from 2 to 64",
                    fix: "write e.g. --guests 2,8",
                });
            }
            args.guests = [...new Set(list)].sort((x, y) => x - y);
        } else if (a === "--profile") args.profile = "always";
        else if (a === "--no-profile") args.profile = "never";
        else if (a === "--json") args.json = argv[++i];
        else if (a === "--node-options") args.nodeOptions = argv[++i];
        else if (a === "--stack") {
            const name = argv[++i] ?? "";
            if (!/^[a-z][a-z0-9-]{0,30}$/.test(name))
                problems.push({
                    path: "--stack",
                    value: name,
                    reason: "is not a short stack name of a-z, 0-9 and -",
                    fix: "write e.g. --stack bench-up-alice",
                });
            args.upStack = name;
        } else
            problems.push({
                path: "",
                value: a,
                reason: "is not an argument of npm run bench",
                fix: 'use [up] [preview] [sizes] [ring] --runs N  --seconds S  --guest-components  --floor-inputs string|kit  --hosts 16,32,64  --guests 2,8  --profile  --no-profile  --json FILE  --node-options "FLAGS"  --stack NAME',
            });
    }
    if (problems.length > 0) throw new ProblemListError(problems, "npm run bench arguments");
    if (args.parts.length === 0) args.parts = ["up", "preview"];
    return args;
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    const log = (line: string) => console.log(`  ${line}`);
    const results: Record<string, unknown> = {};
    if (args.parts.includes("ring")) results.ring = await ring(args, log);
    if (args.parts.every((p) => p === "ring")) return writeJson(args, results);
    if (!existsSync(path.join(projectRoot, ".state", "bin", "pulumi"))) {
        throw problemError(
            "this checkout",
            ".state/bin/pulumi",
            undefined,
            "is missing: the Pulumi engine is not bootstrapped",
            "run `bash tools/bootstrap.sh` (or `npm run bootstrap`) first",
        );
    }
    const env: NodeJS.ProcessEnv = args.nodeOptions ? { NODE_OPTIONS: args.nodeOptions } : {};
    if (args.nodeOptions) console.log(`NODE_OPTIONS for the previews: ${args.nodeOptions}`);
    console.log(`Machine: ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg()[0].toFixed(1)}`);

    // The program builds or finds the guest image; build it now so no timed run includes a build.
    console.log("Guest image (not timed):");
    const image = await ensureGuestImage({ log });
    log(`ready: ${image.hash}`);

    const comparisons: Parameters<typeof formatComparisons>[0] = [];
    if (args.parts.includes("up")) {
        const ups: Record<string, unknown> = {};
        for (const guests of args.guests) {
            console.log(
                `\nup and destroy of the ci pod's host with ${guests} guests (probes off) against a plain virsh script, ${args.runs} runs each, alternating:`,
            );
            const up = await benchUp({ runs: args.runs, log, stack: args.upStack, guests });
            ups[guests] = up;
            // Issue 22's targets: the engine's fixed start weighs less as the pod grows, so the bigger pod's are tighter.
            const small = guests <= 2;
            comparisons.push(
                {
                    what: `up, ${guests} guests (pulumi up --skip-preview)`,
                    kit: up.kitUp,
                    baselineName: "virsh script up",
                    baseline: up.scriptUp,
                    target: small ? 1.15 : 1.05,
                },
                {
                    what: `destroy, ${guests} guests`,
                    kit: up.kitDestroy,
                    baselineName: "virsh script down",
                    baseline: up.scriptDown,
                    target: small ? 1.5 : 1.2,
                },
                {
                    what: `no-change up, ${guests} guests`,
                    kit: up.kitNoChangeUp,
                    baselineName: "empty program up",
                    baseline: up.emptyProgramUp,
                    target: small ? 1.2 : undefined,
                },
            );
            console.log(`\nWhere the kit's up of ${guests} guests spends its time (NFVKIT_TIMING_LOG; seconds from the CLI's start):\n`);
            for (const line of formatBreakdown(up.breakdowns)) console.log(`  ${line}`);
            console.log(`  (the whole up: median ${median(up.kitUp).toFixed(2)} s)`);
            console.log(`\nWhere the kit's destroy of ${guests} guests spends its time:\n`);
            for (const line of formatBreakdown(up.destroyBreakdowns)) console.log(`  ${line}`);
            console.log(`  (the whole destroy: median ${median(up.kitDestroy).toFixed(2)} s)`);
        }
        // One size: the JSON keeps the shape it had.
        results.up = args.guests.length === 1 ? ups[args.guests[0]] : ups;
    }
    if (args.parts.includes("preview")) {
        const hosts = args.hosts[args.hosts.length - 1];
        const setting = `nfv-testpod:guestComponents: ${args.guestComponents}`;
        console.log(
            `\npreview of ${hosts} hosts, ${hosts * GUESTS_PER_HOST} guests (${setting}), against the floor program${args.floorInputs === "kit" ? " with the kit's own inputs" : ""}, ${args.runs} runs each, alternating:`,
        );
        const preview = await benchPreviewAgainstFloor({
            size: { hosts },
            runs: args.runs,
            guestComponents: args.guestComponents,
            floorInputs: args.floorInputs,
            env,
            log,
        });
        results.preview = { ...preview, graph: countByType(preview.graph) };
        comparisons.push({
            what: `preview, ${hosts * GUESTS_PER_HOST} guests`,
            kit: preview.kit.map((m) => m.wallSeconds),
            baselineName: "floor program preview",
            baseline: preview.floor.map((m) => m.wallSeconds),
            target: 1.15,
        });
        console.log("");
        for (const line of formatMeasurements([...preview.kit, ...preview.floor])) console.log(`  ${line}`);
        console.log("\n  the graph, by type:");
        for (const c of countByType(preview.graph)) console.log(`    ${String(c.count).padStart(5)}  ${c.type} (${c.kind})`);
        const verdict = formatVerdict(
            [
                {
                    ...preview.kit[0],
                    wallSeconds: median(preview.kit.map((m) => m.wallSeconds)),
                    peakTreeRssMiB: median(preview.kit.map((m) => m.peakTreeRssMiB)),
                },
            ],
            defaultTarget,
        );
        for (const line of verdict.lines) console.log(`  ${line} (medians)`);
    }
    if (comparisons.length > 0) {
        console.log("\nSide by side (medians; ratio = kit / baseline):\n");
        for (const line of formatComparisons(comparisons)) console.log(`  ${line}`);
    }
    if (args.parts.includes("sizes")) results.sizes = await sizes(args, env, log);
    writeJson(args, results);
}

function writeJson(args: BenchArgs, results: Record<string, unknown>): void {
    if (!args.json) return;
    writeFileSync(args.json, JSON.stringify(results, null, 2));
    console.log(`\nMeasurements written to ${args.json}`);
}

async function ring(args: BenchArgs, log: (line: string) => void): Promise<Record<string, unknown>> {
    const runs = args.runsGiven ?? 5;
    console.log(
        `nfvkit-ring, main's source against the working tree's: bursts 32 and 1, checked and unchecked, ${args.ringSeconds} s a run, ${runs} rounds, alternating ` +
            `(machine: ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}):`,
    );
    const r = await benchRing({ runs, seconds: args.ringSeconds, log });
    console.log(`\nMedians, Mpps (consumer on CPU ${r.cpus.consumer}, producer on CPU ${r.cpus.producer}; unchecked: the same lines, nothing checked):\n`);
    for (const line of formatRingBench(r)) console.log(`  ${line}`);
    console.log("");
    return { ...r };
}

async function sizes(args: BenchArgs, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<Record<string, unknown>> {
    // One host first: it warms caches (the compiled program and plugin, the page cache) and shows the fixed cost.
    console.log("\nBaseline, 1 host (fixed cost; also warms caches):");
    const baseline = await benchPreview({ size: { hosts: 1 }, log, env });
    log(`${baseline.wallSeconds.toFixed(1)} s`);

    const sized: PreviewMeasurement[] = [];
    for (const hosts of args.hosts) {
        console.log(`\n${hosts} hosts, ${hosts * GUESTS_PER_HOST} guests:`);
        const m = await benchPreview({ size: { hosts }, log, env });
        log(`${m.wallSeconds.toFixed(1)} s, peak ${m.peakTreeRssMiB.toFixed(0)} MiB`);
        sized.push(m);
    }

    console.log(
        `\nPreview cost (machine: ${os.cpus().length} CPUs, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; peak MiB = summed VmRSS of every process of the preview, sampled every 100 ms):\n`,
    );
    for (const line of formatMeasurements([baseline, ...sized])) console.log(`  ${line}`);
    console.log("");
    for (const line of formatGrowth(sized)) console.log(`  ${line}`);
    const verdict = formatVerdict(sized, defaultTarget);
    for (const line of verdict.lines) console.log(`  ${line}`);

    const profileWanted = args.profile === "always" || (args.profile === "on-miss" && verdict.met === false);
    let profiles: { role: string; pid: number; summary: ReturnType<typeof summarizeCpuProfile> }[] = [];
    if (profileWanted && sized.length > 0) {
        const hosts = args.hosts[args.hosts.length - 1];
        console.log(`\nProfiling the program at ${hosts} hosts (node --cpu-prof; slower than the timed run):`);
        const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-bench-prof-"));
        try {
            const m = await benchPreview({ size: { hosts }, log, env, cpuProfileDir: dir, stack: `bench-${hosts}-prof` });
            profiles = readdirSync(dir)
                .filter((f) => f.endsWith(".cpuprofile"))
                .map((f) => {
                    const pid = Number(f.split(".")[3]);
                    const role = (Object.entries(m.usage.pids).find(([, pids]) => pids.includes(pid))?.[0] ?? "node") as string;
                    return { role, pid, summary: summarizeCpuProfile(JSON.parse(readFileSync(path.join(dir, f), "utf8")) as CpuProfile, projectRoot) };
                })
                .filter((p) => p.summary.totalMs > 500);
            for (const p of profiles) {
                console.log("");
                for (const line of formatProfile(`${p.role} (pid ${p.pid})`, p.summary)) console.log(`  ${line}`);
            }
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    }

    return { target: defaultTarget, baseline, sized, met: verdict.met, profiles };
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
