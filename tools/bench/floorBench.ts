/**
 * `npm run bench -- preview`: the kit's `pulumi preview` of the large
 * synthetic pod against the floor program (tools/bench/floor), which
 * registers the same resource graph and does nothing else, run alternately.
 * The graph is taken from one untimed `pulumi preview --json` of the kit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../cli/engine";
import { countByType, floorGraphOf, type FloorGraph } from "./floorGraph";
import { benchPreview, type PreviewMeasurement } from "./previewBench";
import type { SyntheticPodSize } from "./syntheticPod";

export const FLOOR_DIR = path.join(projectRoot, "tools", "bench", "floor");
export const FLOOR_PROJECT = "nfvkit-bench-floor";

export interface FloorBenchOptions {
    size: SyntheticPodSize;
    /** Timed runs of each side, after one warm-up run of each. @default 3 */
    runs: number;
    env?: NodeJS.ProcessEnv;
    /** The kit's stack setting `nfv-testpod:guestComponents`. */
    guestComponents: boolean;
    /**
     * What the floor's custom resources carry: one string as long as the kit resource's inputs ("string", the
     * floor the issue set), or the kit resource's own inputs ("kit"), so the engine handles the same values on both
     * sides and what is left is the kit's program.
     */
    floorInputs?: "string" | "kit";
    log: (line: string) => void;
}

export interface FloorBenchResult {
    graph: FloorGraph;
    kit: PreviewMeasurement[];
    floor: PreviewMeasurement[];
}

export async function benchPreviewAgainstFloor(opts: FloorBenchOptions): Promise<FloorBenchResult> {
    const { size, log, env, guestComponents } = opts;
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-bench-floor-"));
    try {
        // Untimed: the kit's graph (and a warm-up of the kit's side).
        const json = path.join(dir, "preview.json");
        await benchPreview({ size, log, env, guestComponents, stack: `bench-${size.hosts}-graph`, jsonFile: json });
        const graph = floorGraphOf(readFileSync(json, "utf8"), { keepInputs: opts.floorInputs === "kit" });
        const graphFile = path.join(dir, "graph.json");
        writeFileSync(graphFile, JSON.stringify(graph));
        const counts = countByType(graph);
        log(`graph: ${graph.nodes.length} resources (${counts.map((c) => `${c.count} ${c.type}`).join(", ")})`);
        const components = graph.nodes.filter((n) => n.kind === "component").length;
        const program = {
            dir: FLOOR_DIR,
            project: FLOOR_PROJECT,
            config: { [`${FLOOR_PROJECT}:graph`]: graphFile },
            describe: `floor program, ${components} components and ${graph.nodes.length - components} custom resources${opts.floorInputs === "kit" ? " with the kit's inputs" : ""}`,
        };
        const floorRun = () => benchPreview({ size, log, env, program, stack: `bench-floor-${size.hosts}` });
        const kitRun = () => benchPreview({ size, log, env, guestComponents, stack: `bench-${size.hosts}` });
        await floorRun(); // warm-up
        const kit: PreviewMeasurement[] = [];
        const floor: PreviewMeasurement[] = [];
        for (let i = 0; i < opts.runs; i++) {
            const pair = i % 2 === 0 ? [kitRun, floorRun] : [floorRun, kitRun];
            for (const side of pair) {
                const m = await side();
                (side === kitRun ? kit : floor).push(m);
                log(`${side === kitRun ? "kit  " : "floor"}: ${m.wallSeconds.toFixed(1)} s, peak ${m.peakTreeRssMiB.toFixed(0)} MiB`);
            }
        }
        return { graph, kit, floor };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
