/**
 * The floor of a preview: a bare Pulumi program that registers the same
 * resource graph as the kit's program did (the same components, the same
 * number of custom resources with inputs of the same size, the same parents
 * and dependencies) and does nothing else: no spec, no plan, no XML, no host
 * facts, no guest image. Its custom resources are served by a provider
 * plugin of the same kind as the kit's (Node.js, tsx, the SDK's provider
 * server: ./provider) that accepts everything and does nothing. What the kit costs above this is the kit's own; what this costs
 * is the SDK's and the engine's. tools/bench/floorGraph.ts writes the graph
 * from a preview of the kit (`pulumi preview --json`).
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { FloorGraph, FloorNode } from "../floorGraph";

/** A component of the given type, as the kit's are: registered, then its outputs. */
class Component extends pulumi.ComponentResource {
    constructor(type: string, name: string, opts: pulumi.ComponentResourceOptions) {
        super(type, name, {}, opts);
    }
    complete(): void {
        this.registerOutputs({});
    }
}

/**
 * A custom resource of the no-op floor provider: one string input as long as the kit resource's inputs, or, in a
 * graph taken with the kit's inputs (`npm run bench -- preview --floor-inputs kit`), those same inputs.
 */
class Leaf extends pulumi.CustomResource {
    constructor(node: FloorNode, opts: pulumi.CustomResourceOptions) {
        super("floor:index:Resource", node.name, node.inputs ?? { payload: "x".repeat(node.inputBytes) }, opts);
    }
}

const graph = JSON.parse(readFileSync(new pulumi.Config().require("graph"), "utf8")) as FloorGraph;
const made: pulumi.Resource[] = [];
const components: Component[] = [];
for (const node of graph.nodes) {
    const opts: pulumi.CustomResourceOptions = {
        ...(node.parent >= 0 ? { parent: made[node.parent] } : {}),
        ...(node.dependsOn.length > 0 ? { dependsOn: node.dependsOn.map((i) => made[i]) } : {}),
    };
    if (node.kind === "component") {
        const c = new Component(node.type, node.name, opts);
        components.push(c);
        made.push(c);
    } else {
        made.push(new Leaf(node, opts));
    }
}
// As the kit's components do: each says it is complete.
for (const c of components) c.complete();
