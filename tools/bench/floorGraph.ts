/**
 * The resource graph of a preview, as the floor program (tools/bench/floor)
 * registers it again: from `pulumi preview --json`, every component and
 * custom resource with its parent, its dependencies and the size of its
 * inputs. Also counts the graph by type, for the before/after tables of
 * docs/bench.md.
 */

/** One resource of the graph; parents and dependencies come earlier in `nodes`. */
export interface FloorNode {
    kind: "component" | "custom";
    /** The kit's type token (components keep it; custom resources become floor:index:Resource). */
    type: string;
    name: string;
    /** Index of the parent in `nodes`; -1 for the stack. */
    parent: number;
    dependsOn: number[];
    /** Length of the resource's inputs as JSON; the floor's custom resource gets a string input of this length. */
    inputBytes: number;
    /**
     * The kit resource's own inputs, as the preview showed them (unknowns as the engine's placeholder string),
     * when the graph was taken with `keepInputs`: the floor then registers these instead of one string.
     */
    inputs?: Record<string, unknown>;
}

export interface FloorGraph {
    nodes: FloorNode[];
}

interface PreviewStep {
    urn: string;
    newState?: { type: string; custom: boolean; parent?: string; dependencies?: string[]; inputs?: Record<string, unknown> };
}

const STACK_TYPE = "pulumi:pulumi:Stack";

/** The graph of the resources a `pulumi preview --json` would create (the stack itself and providers left out: every program has them). */
export function floorGraphOf(previewJson: string, opts: { keepInputs?: boolean } = {}): FloorGraph {
    const steps = (JSON.parse(previewJson) as { steps?: PreviewStep[] }).steps ?? [];
    const states = new Map(
        steps.filter((s) => s.newState && s.newState.type !== STACK_TYPE && !s.newState.type.startsWith("pulumi:providers:")).map((s) => [s.urn, s.newState!]),
    );
    const index = new Map<string, number>();
    const nodes: FloorNode[] = [];
    const visit = (urn: string): number => {
        const known = index.get(urn);
        if (known !== undefined) return known;
        const state = states.get(urn);
        if (!state) return -1;
        const parent = state.parent ? visit(state.parent) : -1;
        const dependsOn = (state.dependencies ?? []).map(visit).filter((i) => i >= 0);
        const name = urn.split("::").slice(3).join("::");
        nodes.push({
            kind: state.custom ? "custom" : "component",
            type: state.type,
            name,
            parent,
            dependsOn,
            inputBytes: state.custom ? JSON.stringify(state.inputs ?? {}).length : 0,
            ...(opts.keepInputs && state.custom ? { inputs: state.inputs ?? {} } : {}),
        });
        index.set(urn, nodes.length - 1);
        return nodes.length - 1;
    };
    for (const urn of states.keys()) visit(urn);
    return { nodes };
}

/** Resources per type, most first: what a graph is made of. */
export function countByType(graph: FloorGraph): { type: string; kind: FloorNode["kind"]; count: number }[] {
    const counts = new Map<string, { type: string; kind: FloorNode["kind"]; count: number }>();
    for (const n of graph.nodes) {
        const c = counts.get(n.type) ?? { type: n.type, kind: n.kind, count: 0 };
        c.count++;
        counts.set(n.type, c);
    }
    return [...counts.values()].sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
}
