/**
 * What `npm run down` does with the creates a killed run never saw finish.
 *
 * The engine records a create as a "pending operation" before it asks the
 * provider, and only moves the resource into the state's resources when the
 * provider answers. A CLI killed in between leaves the resource (its inputs,
 * URN, parent and dependencies) in `pending_operations` only, while the host
 * may already hold what the create made: a domain defined and booting, a
 * ledger entry, pages added to a pool. `pulumi refresh --clear-pending-creates`
 * drops those records, so a `destroy` after it never sees them. `npm run up`
 * is fine with that (the create runs again and adopts what carries its URN);
 * `npm run down` is not.
 *
 * So `down` first takes each pending create into the state's resources, as a
 * resource whose create did not report: its outputs are its inputs (every
 * delete of the kit finds what to remove from those: the domain name and URI,
 * the shm path, the pool), and its id is INTERRUPTED_CREATE_ID. The refresh
 * that follows asks the provider's own `read` whether each exists and is this
 * resource's (a domain by its owner stamp, a shm file or a reservation by its
 * ledger entry); what the create never made, or what another owner holds, is
 * dropped there. `destroy` then removes the rest with the provider's own
 * `delete`, in the engine's dependency order. Pure: plain data in and out.
 */

/** A resource as `pulumi stack export` writes it: the fields read or set here, the rest carried as they are. */
export interface ExportedResource {
    urn: string;
    type: string;
    custom?: boolean;
    id?: string;
    delete?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    [field: string]: unknown;
}

/** One operation the engine had started and not seen finish: "creating", "updating", "deleting", "reading", "importing". */
export interface PendingOperation {
    type: string;
    resource: ExportedResource;
}

/** The `deployment` of `pulumi stack export`. */
export interface ExportedDeployment {
    resources?: ExportedResource[];
    pending_operations?: PendingOperation[];
    [field: string]: unknown;
}

/**
 * The id of a resource taken from a pending create. The engine needs one to
 * delete a custom resource, and the create never returned its own; the kit's
 * deletes find what to remove from the outputs, never from the id. A domain's
 * refresh puts its UUID there.
 */
export const INTERRUPTED_CREATE_ID = "interrupted-create";

/** "creating of vnf-domain, deleting of ...": a pending operation in a person's words, for the line that says the run was interrupted. */
export function describePending(ops: PendingOperation[]): string {
    return ops.map((op) => `${op.type} of ${op.resource.urn.split("::").pop()}`).join(", ");
}

/**
 * The deployment with every pending create taken into its resources and no
 * pending operation left (`pulumi stack import` would drop the others with a
 * warning each; the refresh after it reads what they touched), and the URNs
 * taken.
 *
 * The engine begins a create only once the resource's parent is registered
 * and its dependencies are created, so the pending creates, in the order they
 * were begun and after every resource already in the state, keep the order a
 * state needs (a resource after its parent and its dependencies). A pending
 * create of a provider made nothing on any host and nothing can use it: it is
 * left out. One whose URN is already in the state (a replacement that makes
 * the new one first) goes in marked for deletion, as the engine marks an old
 * resource it replaces.
 */
export function takePendingCreates(deployment: ExportedDeployment): { deployment: ExportedDeployment; taken: string[] } {
    const resources = [...(deployment.resources ?? [])];
    const inState = new Set(resources.map((r) => r.urn));
    const taken: string[] = [];
    for (const op of deployment.pending_operations ?? []) {
        const r = op.resource;
        if (op.type !== "creating" || r.type.startsWith("pulumi:providers:")) continue;
        resources.push({
            ...r,
            // A component has no id (the state refuses one); a custom resource needs one to be deleted.
            ...(r.custom ? { id: r.id || INTERRUPTED_CREATE_ID } : {}),
            outputs: { ...(r.inputs ?? {}), ...(r.outputs ?? {}) },
            ...(inState.has(r.urn) ? { delete: true } : {}),
        });
        inState.add(r.urn);
        taken.push(r.urn);
    }
    return { deployment: { ...deployment, resources, pending_operations: [] }, taken };
}
