/**
 * The stack's lineage: a random id made once, by the create of the stack's
 * StackLineage, and kept in the stack's state from then on. Every resource
 * that makes something on a host takes it as an input and stamps it there
 * next to its URN (types/ownership.ts), so two stacks of the same project and
 * name kept in two backends (two clones, each with its own default backend)
 * never take each other's domains, shm files or hugepages: their states, and
 * so their lineages, differ. Any checkout of one state reads the same id from
 * it, and `stack export`/`import` carries it along with the state. It touches
 * no host. The Operations of the nfvkit provider's StackLineage.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { randomUUID } from "node:crypto";

export interface StackLineageOutputs {
    /** The id: a random UUID, made on the stack's first `up`. */
    lineage: string;
}

/** Never changes: a new lineage would make everything the stack made on its hosts look foreign to it. */
export async function diff(): Promise<provider.DiffResult> {
    return { changes: false };
}

export async function create(): Promise<provider.CreateResult> {
    const lineage = randomUUID();
    return { id: lineage, outs: { lineage } satisfies StackLineageOutputs };
}

/**
 * It lives in the state alone: what the state holds is the truth. One with no
 * lineage is a create that a killed run never finished (`npm run down` takes
 * it into the state with its inputs as its outputs): nothing was stamped with
 * it, so it is gone.
 */
export async function read(id: string, props: Partial<StackLineageOutputs>): Promise<provider.ReadResult> {
    if (!props.lineage) return { id: "", props: {} };
    return { id, props: { lineage: props.lineage } satisfies StackLineageOutputs };
}

/** Nothing on any host to remove; the engine deletes it after every resource that took it as an input. */
export async function deleteLineage(): Promise<void> {}
export { deleteLineage as delete };
