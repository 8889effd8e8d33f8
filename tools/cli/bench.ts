/**
 * `npm run bench [-- options]`: how long a real `pulumi preview` of a large
 * pod takes and how much memory it needs, at 1/4, 1/2 and full size
 * (64 hosts, 512 guests, 256 links), so people see how cost grows.
 * See docs/bench.md.
 *
 * Options:
 *   --hosts 16,32,64   sizes to run, in hosts (8 guests and 4 links per host)
 *   --profile          always profile the largest size's program (default: only when the target is missed)
 *   --no-profile       never profile
 *   --json FILE        also write the measurements as JSON
 *   --node-options "…" NODE_OPTIONS for every Node.js process of the previews (to try a remedy, e.g. --stack-trace-limit=0)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureGuestImage } from "../../guest-images/build";
import { summarizeCpuProfile, type CpuProfile } from "../bench/cpuProfile";
import { benchPreview, type PreviewMeasurement } from "../bench/previewBench";
import { defaultTarget, formatGrowth, formatMeasurements, formatProfile, formatVerdict } from "../bench/report";
import { projectRoot } from "./engine";

interface BenchArgs {
    hosts: number[];
    profile: "always" | "on-miss" | "never";
    json?: string;
    nodeOptions?: string;
}

const GUESTS_PER_HOST = 8;

function parseArgs(argv: string[]): BenchArgs {
    const args: BenchArgs = { hosts: [16, 32, 64], profile: "on-miss" };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--hosts") {
            const list = (argv[++i] ?? "").split(",").map(Number);
            if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
                throw new Error(`--hosts: expected a comma-separated list of whole numbers ≥ 1, e.g. 16,32,64 (got ${JSON.stringify(argv[i])})`);
            }
            args.hosts = [...new Set(list)].sort((x, y) => x - y);
        } else if (a === "--profile") args.profile = "always";
        else if (a === "--no-profile") args.profile = "never";
        else if (a === "--json") args.json = argv[++i];
        else if (a === "--node-options") args.nodeOptions = argv[++i];
        else throw new Error(`unknown option ${a}; options: --hosts 16,32,64  --profile  --no-profile  --json FILE  --node-options "FLAGS"`);
    }
    return args;
}

async function main(): Promise<void> {
    const args = parseArgs(process.argv.slice(2));
    if (!existsSync(path.join(projectRoot, ".state", "bin", "pulumi"))) {
        throw new Error("the Pulumi engine is not bootstrapped: run `bash tools/bootstrap.sh` (or `npm run bootstrap`) first");
    }
    const log = (line: string) => console.log(`  ${line}`);
    const env: NodeJS.ProcessEnv = args.nodeOptions ? { NODE_OPTIONS: args.nodeOptions } : {};
    if (args.nodeOptions) console.log(`NODE_OPTIONS for the previews: ${args.nodeOptions}`);

    // The program builds or finds the guest image; build it now so no timed run includes a build.
    console.log("Guest image (not timed):");
    const image = await ensureGuestImage({ log });
    log(`ready: ${image.hash}`);

    // One host first: it warms caches (tsx's transpile cache, the page cache) and shows the fixed cost.
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

    if (args.json) {
        writeFileSync(args.json, JSON.stringify({ target: defaultTarget, baseline, sized, met: verdict.met, profiles }, null, 2));
        console.log(`\nMeasurements written to ${args.json}`);
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
