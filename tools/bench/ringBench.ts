/**
 * `npm run bench -- ring`: the inter-VM probe's ring (nfvkit-ring) as main's
 * source builds it against the working tree's, side by side on this
 * machine's two CPUs. Both are compiled with the image builder's own gcc
 * command; each run is a consumer and a producer process on one 4 MiB file
 * in /dev/shm (as an ivshmem link's backing file), for bursts of 32 and 1,
 * checked and, where the build has it, unchecked (the ceiling: the same
 * 64-byte lines, nothing computed). The cases of a burst run one after
 * another, in reverse order every other round, so load from other work on
 * the machine falls on all of them; each figure is the median of the rounds.
 */
import { mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandFailure, hostAccess } from "../../components/host/access";
import { ProbeParseError } from "../../components/probes/parseError";
import { ringCommand, type RingArgs } from "../../components/probes/kinds/interVm/commands";
import { parseRingRate } from "../../components/probes/kinds/interVm/parse";
import { compileCommand } from "../../guest-images/programs";
import { projectRoot } from "../cli/engine";
import { median } from "./report";

/** One build of the ring: where its source came from, and the wire format it speaks. */
export interface RingBuild {
    name: "old" | "new";
    /** Where the source came from, e.g. `main:guest-images/ring/nfvkit-ring.c`. */
    source: string;
    binary: string;
    /** Its wire format (`nfvkit-ring version`); format 1 had no such command and no unchecked mode. */
    format: number;
}

export interface RingCase {
    build: "old" | "new";
    burst: number;
    checked: boolean;
}

/** Mpps of every round of one case, in run order. */
export interface RingCaseResult extends RingCase {
    mpps: number[];
}

export interface RingBenchOptions {
    /** Rounds; each case runs once per round. @default 5 */
    runs: number;
    /** Seconds of traffic per run. @default 2 */
    seconds: number;
    /** Consumer's and producer's CPUs. @default this machine's CPUs 1 and 0 (both 0 on a one-CPU machine) */
    cpus?: { consumer: number; producer: number };
    /** Git revision whose ring is the old side. @default "main" */
    baseRevision?: string;
    log: (line: string) => void;
}

export interface RingBenchResult {
    builds: RingBuild[];
    cpus: { consumer: number; producer: number };
    seconds: number;
    results: RingCaseResult[];
}

const RING_SOURCE = "ring/nfvkit-ring.c";
const BURSTS = [32, 1];

/** Compiles main's ring and the working tree's into `dir`, with the image builder's gcc command. */
export async function buildRings(dir: string, baseRevision: string): Promise<RingBuild[]> {
    const host = hostAccess();
    const oldDir = path.join(dir, "base");
    mkdirSync(path.join(oldDir, "ring"), { recursive: true });
    const oldSource = `${baseRevision}:guest-images/${RING_SOURCE}`;
    const shown = await host.run(["git", "show", oldSource], { cwd: projectRoot });
    writeFileSync(path.join(oldDir, RING_SOURCE), shown.stdout);
    const builds: RingBuild[] = [];
    for (const [name, cwd, source] of [
        ["old", oldDir, oldSource],
        ["new", path.join(projectRoot, "guest-images"), `working tree guest-images/${RING_SOURCE}`],
    ] as const) {
        const binary = path.join(dir, `nfvkit-ring-${name}`);
        await host.run(compileCommand(RING_SOURCE, binary), { cwd });
        builds.push({ name, source, binary, format: await ringFormat(binary) });
    }
    return builds;
}

/** The wire format a build speaks: `version` prints it; format 1 knew no such command (it printed its usage). */
async function ringFormat(binary: string): Promise<number> {
    const out = await hostAccess().run([binary, "version"], { nothrow: true });
    if (out.exitCode !== 0) return 1;
    const format = Number((JSON.parse(out.stdout.trim()) as { version?: unknown }).version);
    if (!Number.isInteger(format)) throw new ProbeParseError(`${binary} version`, "it printed no wire format", out.stdout);
    return format;
}

/** The cases of one burst, in the order of one round: each build checked, then the ceiling where the build has one. */
export function ringCases(builds: RingBuild[], burst: number): RingCase[] {
    const cases: RingCase[] = builds.map((b) => ({ build: b.name, burst, checked: true }));
    for (const b of builds) if (b.format >= 2) cases.push({ build: b.name, burst, checked: false });
    return cases;
}

/** One run: consumer and producer on a fresh 4 MiB region; the consumer's Mpps. Throws on any failure or bad packet. */
async function runOnce(build: RingBuild, c: RingCase, seconds: number, cpus: { consumer: number; producer: number }, region: string): Promise<number> {
    writeFileSync(region, "");
    truncateSync(region, 4 << 20);
    const session = 1 + Math.floor(Math.random() * 2 ** 40);
    const common = { file: region, session, burst: c.burst, waitSec: 10, unchecked: c.checked ? undefined : true } satisfies Partial<RingArgs>;
    const host = hostAccess();
    const timeoutMs = (seconds + 30) * 1000;
    const consume = ringCommand({ ...common, role: "consume", cpu: cpus.consumer }, build.binary);
    const produce = ringCommand({ ...common, role: "produce", cpu: cpus.producer, seconds }, build.binary);
    // Both sides run to their end before either's failure is said: one side's failure often shows as the other's.
    const [consumer, producer] = await Promise.all([host.run(consume, { timeoutMs, nothrow: true }), host.run(produce, { timeoutMs, nothrow: true })]);
    if (producer.exitCode !== 0) throw commandFailure("local", produce, producer);
    if (consumer.exitCode !== 0) throw commandFailure("local", consume, consumer);
    const rate = parseRingRate(consumer.stdout, build.format);
    // Two processes on one machine's memory lose nothing: a bad packet here is a bug of the ring.
    const what = `${build.name} ring, burst ${c.burst}${c.checked ? "" : ", unchecked"}`;
    if (rate.lost + rate.reordered + rate.corrupt > 0) throw new Error(`${what}: bad packets in a clean run: ${JSON.stringify(rate.events)}`);
    return rate.mpps;
}

/** Builds both rings, then runs every case `runs` times, alternating. */
export async function benchRing(opts: RingBenchOptions): Promise<RingBenchResult> {
    const cpus = opts.cpus ?? (os.cpus().length > 1 ? { consumer: 1, producer: 0 } : { consumer: 0, producer: 0 });
    const dir = path.join(os.tmpdir(), `nfvkit-ring-bench-${process.pid}`);
    const region = path.join("/dev/shm", `nfvkit-ring-bench-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    try {
        const builds = await buildRings(dir, opts.baseRevision ?? "main");
        for (const b of builds) opts.log(`${b.name}: ${b.source}, wire format ${b.format}`);
        const results: RingCaseResult[] = [];
        for (const burst of BURSTS) {
            const cases = ringCases(builds, burst).map((c) => ({ ...c, mpps: [] as number[] }));
            results.push(...cases);
            for (let round = 0; round < opts.runs; round++) {
                const order = round % 2 === 0 ? cases : [...cases].reverse();
                for (const c of order)
                    c.mpps.push(
                        await runOnce(
                            builds.find((b) => b.name === c.build)!,
                            c,
                            opts.seconds,
                            cpus,
                            region,
                        ),
                    );
                opts.log(`burst ${burst}, round ${round + 1}: ${cases.map((c) => `${caseName(c)} ${c.mpps[round].toFixed(1)}`).join(", ")} Mpps`);
            }
        }
        return { builds, cpus, seconds: opts.seconds, results };
    } finally {
        rmSync(region, { force: true });
        rmSync(dir, { recursive: true, force: true });
    }
}

function caseName(c: RingCase): string {
    return `${c.build}${c.checked ? "" : " unchecked"}`;
}

/** The medians per burst, with new ÷ old (checked) and checked ÷ unchecked for each build that has a ceiling. Pure. */
export function formatRingBench(r: RingBenchResult): string[] {
    const find = (build: string, burst: number, checked: boolean) => r.results.find((c) => c.build === build && c.burst === burst && c.checked === checked);
    const ratio = (a: RingCaseResult | undefined, b: RingCaseResult | undefined) => (a && b ? `${(median(a.mpps) / median(b.mpps)).toFixed(2)}x` : "-");
    const names = r.builds.map((b) => b.name);
    const ceilings = names.filter((n) => r.results.some((c) => c.build === n && !c.checked));
    const header = [
        "burst",
        ...names.map((n) => `${n} checked`),
        ...ceilings.map((n) => `${n} unchecked`),
        "new ÷ old",
        ...ceilings.map((n) => `${n} checked ÷ unchecked`),
    ];
    const rows = BURSTS.filter((b) => r.results.some((c) => c.burst === b)).map((b) => [
        String(b),
        ...names.map((n) => median(find(n, b, true)?.mpps ?? [NaN]).toFixed(1)),
        ...ceilings.map((n) => median(find(n, b, false)?.mpps ?? [NaN]).toFixed(1)),
        ratio(find("new", b, true), find("old", b, true)),
        ...ceilings.map((n) => ratio(find(n, b, true), find(n, b, false))),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}
