/**
 * `npm run bench -- up`: the kit's `pulumi up` and `pulumi destroy` of the ci
 * pod (probes off) against a plain virsh script (tools/bench/virsh-pod.sh)
 * bringing up the same domains from the XML the kit rendered, run
 * alternately, A then B then B then A, so load from other work on the
 * machine falls on both. Also times a no-change `up` and, next to it, the
 * `up` of an empty program (the engine's, the language host's and the SDK's
 * start-up cost). With NFVKIT_TIMING_LOG set, the program and the provider
 * log their steps (components/timing.ts), which gives the `up` breakdown.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandFailure } from "../../components/host/access/errors";
import { ProblemListError } from "../../components/spec/problems";
import { loadStack } from "../../components/stack";
import { projectRoot, pulumiEnv } from "../cli/engine";
import { readSpans, type TimingSpan } from "../../components/timing";
import { initStack, removeStack, stateResources, type StateResource } from "./benchStack";
import { FLOOR_DIR, FLOOR_PROJECT } from "./floorBench";

export interface UpBenchOptions {
    /** Timed runs of each side (after one warm-up run of each). @default 3 */
    runs: number;
    /** Stack of the kit's runs; its name is in every domain name, so it must not collide with other users of the host. @default "bench-up" */
    stack?: string;
    /**
     * Guests of the pod. 2 is the ci pod as it is; more is the ci pod's host with that many guests of the ci
     * pod's sizes (podOfSize): the sizes labs use, where the engine's fixed start weighs less. @default 2
     */
    guests?: number;
    log: (line: string) => void;
}

/** Seconds per run, in run order. */
export interface UpBenchResult {
    kitUp: number[];
    kitNoChangeUp: number[];
    kitDestroy: number[];
    scriptUp: number[];
    scriptDown: number[];
    emptyProgramUp: number[];
    /** Per kit `up` run: its steps relative to the CLI's start. */
    breakdowns: StepTiming[][];
    /** The same for each `destroy`. */
    destroyBreakdowns: StepTiming[][];
}

/** One step of an `up`, over all its subjects (guests run in parallel). */
export interface StepTiming {
    what: string;
    subjects: number;
    /** Seconds from the CLI's start to the first subject's start. */
    startsAt: number;
    /** Seconds from the first subject's start to the last one's end. */
    wall: number;
    /** Longest single subject, seconds. */
    longest: number;
}

const SCRIPT = path.join(projectRoot, "tools", "bench", "virsh-pod.sh");

interface Timed {
    seconds: number;
    output: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Timed> {
    return new Promise((resolve, reject) => {
        const started = process.hrtime.bigint();
        const child = spawn(command, args, { cwd, env: pulumiEnv(env), stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d));
        child.stderr.on("data", (d: Buffer) => (output += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            if (code === 0) resolve({ seconds, output });
            else reject(commandFailure("local", [command, ...args], { exitCode: code, stderr: output.slice(-4000) }));
        });
    });
}

/**
 * The ci stack's config, loaded as every command loads a stack, with the probes off: the pod the issue measured.
 * Not offline: the ci stack declares no topology, so this machine's is read, as `npm run up -- --stack ci` reads it.
 */
async function ciPodConfig(guests: number): Promise<{ config: Record<string, unknown>; shape: string }> {
    const ci = await loadStack("ci", { projectDir: projectRoot });
    if (ci.problems.length > 0) throw new ProblemListError(ci.problems, "stack ci");
    const pod = ci.config["nfv-testpod:pod"] as CiPod;
    const sized = guests === 2 ? { pod, shape: "the ci pod" } : podOfSize(pod, guests);
    return { config: { ...ci.config, "nfv-testpod:pod": sized.pod, "nfv-testpod:probes": { enabled: false } }, shape: sized.shape };
}

/** The parts of the ci pod's spec that podOfSize reads. */
interface CiPod {
    hosts: { name: string; isolatedCpus: string; hugepages: { node: number; size: string; count: number }[] }[];
    guests: { name: string; vcpus: number; rtVcpus: number[]; memory: string; pageSize: string }[];
    links: { name: string; size: string; members: string[] }[];
}

/**
 * The ci pod's host with `guests` guests: half of them like vnf (a real-time vCPU beside a housekeeping
 * one) as far as the host has isolated CPUs for (each RT vCPU gets one of its own; this 2-core machine
 * isolates one), the rest like peer; a link of the ci pod's size between each of the first
 * pairs, at most 2; the hugepages for all of them.
 */
export function podOfSize(ci: CiPod, guests: number): { pod: CiPod; shape: string } {
    const [vnf, peer] = ci.guests;
    const host = ci.hosts[0];
    const isolated = host.isolatedCpus.split(",").reduce((n, part) => {
        const [a, b] = part.split("-").map(Number);
        return n + (b === undefined ? 1 : b - a + 1);
    }, 0);
    const rt = Math.min(Math.floor(guests / 2), isolated);
    const list = Array.from({ length: guests }, (_, i) => ({ ...(i < rt ? vnf : peer), name: `g${i}` }));
    const links = Array.from({ length: Math.min(2, Math.floor(guests / 2)) }, (_, i) => ({
        ...ci.links[0],
        name: `ring${i}`,
        members: [`g${2 * i}`, `g${2 * i + 1}`],
    }));
    const pagesPerGuest = host.hugepages[0].count / ci.guests.length;
    const pod = { ...ci, hosts: [{ ...host, hugepages: [{ ...host.hugepages[0], count: pagesPerGuest * guests }] }], guests: list, links };
    return { pod, shape: `${guests} guests (${rt} with a real-time vCPU, ${links.length} links)` };
}

/**
 * Writes the virsh script's folder from the kit's state: each domain's XML as
 * the kit rendered it, its console log and ready line, the hugepages and the
 * shm files, with the kit's name prefix swapped for the script's, so the two
 * never touch each other's objects.
 */
export function scriptFolder(resources: StateResource[], kitPrefix: string, scriptPrefix: string, dir: string): void {
    const swap = (text: string) => text.split(kitPrefix).join(scriptPrefix);
    const outs = (type: string) => resources.filter((r) => r.type === type).map((r) => r.outputs ?? {});
    const guests: string[] = [];
    for (const d of outs("nfvkit:libvirt:Domain")) {
        const name = swap(String(d.name));
        writeFileSync(path.join(dir, `${name}.xml`), swap(String(d.xml)));
        guests.push(`${name} ${swap(String(d.consoleLog))} ${d.readyPattern}`);
    }
    // Called after the kit's up: a state without domains is a bug of the bench.
    if (guests.length === 0) throw new Error("the kit's stack holds no domain to copy");
    writeFileSync(path.join(dir, "guests"), guests.map((l) => `${l}\n`).join(""));
    writeFileSync(
        path.join(dir, "hugepages"),
        outs("nfvkit:host:HugepageReservation")
            .map((h) => `${h.node} ${h.sizeKiB} ${h.count}\n`)
            .join(""),
    );
    writeFileSync(
        path.join(dir, "shm"),
        outs("nfvkit:libvirt:ShmRegion")
            .map((s) => `${swap(String(s.path))}\n`)
            .join(""),
    );
}

/** The steps of one `up` from its timing log, relative to the CLI's start (`t0`, ms). */
export function stepTimings(spans: TimingSpan[], t0: number): StepTiming[] {
    const byStep = new Map<string, TimingSpan[]>();
    for (const s of spans) byStep.set(s.what, [...(byStep.get(s.what) ?? []), s]);
    return [...byStep.entries()]
        .map(([what, list]) => {
            const start = Math.min(...list.map((s) => s.start));
            const end = Math.max(...list.map((s) => s.end));
            return {
                what,
                subjects: new Set(list.map((s) => s.subject)).size,
                startsAt: (start - t0) / 1000,
                wall: (end - start) / 1000,
                longest: Math.max(...list.map((s) => s.end - s.start)) / 1000,
            };
        })
        .sort((a, b) => a.startsAt - b.startsAt);
}

export async function benchUp(opts: UpBenchOptions): Promise<UpBenchResult> {
    const stack = opts.stack ?? "bench-up";
    const emptyStack = `${stack}-empty`;
    const kitPrefix = `nfv-testpod-${stack}`;
    const scriptPrefix = `nfv-testpod-${stack}-sh`;
    // Before the scratch folder: a stack that does not load leaves nothing in /tmp.
    const { config, shape } = await ciPodConfig(opts.guests ?? 2);
    opts.log(`pod: ${shape}`);
    const scratch = mkdtempSync(path.join(os.tmpdir(), `nfvkit-${stack}-`));
    const emptyScratch = path.join(scratch, "empty");
    const scriptDir = path.join(scratch, "virsh");
    mkdirSync(emptyScratch);
    mkdirSync(scriptDir);
    const result: UpBenchResult = {
        kitUp: [],
        kitNoChangeUp: [],
        kitDestroy: [],
        scriptUp: [],
        scriptDown: [],
        emptyProgramUp: [],
        breakdowns: [],
        destroyBreakdowns: [],
    };
    const configFile = initStack(stack, scratch, config);
    const emptyGraph = path.join(scratch, "empty-graph.json");
    writeFileSync(emptyGraph, JSON.stringify({ nodes: [] }));
    const emptyConfig = initStack(emptyStack, emptyScratch, { [`${FLOOR_PROJECT}:graph`]: emptyGraph }, FLOOR_PROJECT);
    const kitArgs = ["--stack", stack, "--config-file", configFile, "--non-interactive", "--yes", "--skip-preview", "--diff=false"];
    const kit = (verb: string, env: NodeJS.ProcessEnv = {}) => run("pulumi", [verb, ...kitArgs], projectRoot, env);
    let kitUpNow = false;
    let scriptUpNow = false;

    const kitSide = async (timedRun: boolean) => {
        const timingLog = path.join(scratch, `timing-${result.kitUp.length}.jsonl`);
        const t0 = Date.now();
        kitUpNow = true;
        const up = await kit("up", timedRun ? { NFVKIT_TIMING_LOG: timingLog } : {});
        const noChange = await kit("up");
        // A second up that changes something is a bug of the kit (its diff or its read), not a slow run: stop here.
        if (!/\b(\d+) unchanged\b/.test(noChange.output) || /\b\d+ (created|updated|replaced)\b/.test(noChange.output)) {
            throw new Error(`the second pulumi up of ${stack} changed something; it should change nothing:\n${noChange.output.slice(-2000)}`);
        }
        if (!timedRun) scriptFolder(stateResources(stack, scratch), kitPrefix, scriptPrefix, scriptDir);
        const destroyLog = path.join(scratch, `timing-destroy-${result.kitUp.length}.jsonl`);
        const t1 = Date.now();
        const destroy = await kit("destroy", timedRun ? { NFVKIT_TIMING_LOG: destroyLog } : {});
        kitUpNow = false;
        const empty = await run(
            "pulumi",
            ["up", "--stack", emptyStack, "--config-file", emptyConfig, "--non-interactive", "--yes", "--skip-preview"],
            FLOOR_DIR,
        );
        opts.log(
            `kit${timedRun ? "" : " (warm-up)"}: up ${up.seconds.toFixed(1)} s, no-change up ${noChange.seconds.toFixed(1)} s, destroy ${destroy.seconds.toFixed(1)} s; empty program up ${empty.seconds.toFixed(1)} s`,
        );
        if (!timedRun) return;
        result.kitUp.push(up.seconds);
        result.kitNoChangeUp.push(noChange.seconds);
        result.kitDestroy.push(destroy.seconds);
        result.emptyProgramUp.push(empty.seconds);
        result.breakdowns.push(stepTimings(readSpans(timingLog), t0));
        result.destroyBreakdowns.push(stepTimings(readSpans(destroyLog), t1));
    };
    const scriptSide = async (timedRun: boolean) => {
        scriptUpNow = true;
        const up = await run("bash", [SCRIPT, "up", scriptDir], projectRoot);
        const down = await run("bash", [SCRIPT, "down", scriptDir], projectRoot);
        scriptUpNow = false;
        opts.log(`virsh script${timedRun ? "" : " (warm-up)"}: up ${up.seconds.toFixed(1)} s, down ${down.seconds.toFixed(1)} s`);
        if (!timedRun) return;
        result.scriptUp.push(up.seconds);
        result.scriptDown.push(down.seconds);
    };

    try {
        // Warm-up: the compiled program and plugin (tools/engine/compiled.cjs), the page cache, libvirt; and the kit's XML for the script.
        await kitSide(false);
        await scriptSide(false);
        for (let i = 0; i < opts.runs; i++) {
            // A B, B A, A B ...: neither side always runs on a machine the other just warmed.
            if (i % 2 === 0) {
                await kitSide(true);
                await scriptSide(true);
            } else {
                await scriptSide(true);
                await kitSide(true);
            }
        }
        return result;
    } finally {
        // Leave nothing: no domain, no shm file, no hugepage of either side.
        if (kitUpNow) await kit("destroy").catch((err: Error) => opts.log(`cleanup: ${err.message}`));
        if (scriptUpNow) await run("bash", [SCRIPT, "down", scriptDir], projectRoot).catch((err: Error) => opts.log(`cleanup: ${err.message}`));
        removeStack(stack, scratch);
        removeStack(emptyStack, emptyScratch, FLOOR_PROJECT);
        rmSync(scratch, { recursive: true, force: true });
    }
}
