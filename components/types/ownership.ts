/**
 * Who owns what the kit creates on a host: a domain, an shm file, a hugepage
 * reservation. The resource's URN alone is not enough: two checkouts, each
 * with its own backend, with the same project and stack name give the same
 * URNs (and so the same domain and file names). So every stamp carries the
 * URN *and* the stack's lineage: a random id that the stack's StackLineage
 * resource makes on the first `up` and keeps in the stack's state
 * (docs/ownership.md). Two states never share it; every checkout of one state
 * reads the same one; it travels with the state on `stack export`/`import`.
 *
 * A stamp is this resource's when its URN and its lineage are the resource's.
 * A stamp with no lineage was made by a kit from before lineages (or by an
 * operation called without one): it is a match only for a resource whose own
 * state has no lineage either, or for the update that moves that resource to
 * its stack's lineage (then it is stamped again). Anything else is foreign:
 * refused by create, never adopted, and left in place by delete.
 */

/** A stamp: what the kit writes on a host next to what it made. */
export interface OwnerStamp {
    /** URN of the resource that made it. */
    urn: string;
    /** Lineage of that resource's stack; absent in a stamp made by a kit from before lineages. */
    lineage?: string;
}

/**
 * The resource an operation acts for: its URN and its stack's lineage, as the
 * provider read them from the operation's inputs (create, update) or the
 * state (read, delete).
 */
export interface Owner extends OwnerStamp {
    /**
     * Update only: the lineage the resource's state had before this update
     * ("" when it had none). Its stamps on the host still carry that one, so
     * they are this resource's too; the update stamps them with `lineage`.
     */
    formerLineage?: string;
}

/** Whether `stamp` is this resource's (see the module's comment for the rule). */
export function isOwnStamp(stamp: OwnerStamp, owner: Owner): boolean {
    if (stamp.urn !== owner.urn) return false;
    const lineages = [owner.lineage ?? "", ...(owner.formerLineage === undefined ? [] : [owner.formerLineage])];
    return lineages.includes(stamp.lineage ?? "");
}

/** The stamp as this resource writes it: its URN, and its lineage when its stack has one. */
export function stampOf(owner: Owner): OwnerStamp {
    return owner.lineage ? { urn: owner.urn, lineage: owner.lineage } : { urn: owner.urn };
}

/**
 * Who made it, in words: the stack and resource, and, when it is the same
 * URN from another state, that other state's lineage against this one's.
 */
export function describeStamp(stamp: OwnerStamp, owner: Owner): string {
    const { stack, project, name } = urnWords(stamp.urn);
    const who = `resource ${name} of stack ${stack} (project ${project})`;
    if (stamp.urn !== owner.urn) return who;
    const theirs = stamp.lineage ? `lineage ${stamp.lineage}` : "no lineage: a kit from before lineages made it";
    const ours = owner.lineage ? `lineage ${owner.lineage}` : "no lineage";
    return `${who} in another state (${theirs}; this stack's state has ${ours}): a stack of the same project and name kept in another backend`;
}

/**
 * What to do about a foreign stamp with this resource's URN: bring the other
 * state down from where it lives, or, when that state is lost, remove the
 * thing by hand; or keep this stack apart under another name.
 */
export function foreignFix(owner: Owner, stamp: OwnerStamp, removeByHand: string): string {
    if (stamp.urn !== owner.urn) return removeByHand;
    const find = stamp.lineage
        ? `the checkout whose \`pulumi stack output lineage\` prints ${stamp.lineage}`
        : "the checkout and backend that brought it up with an earlier kit";
    return `run \`npm run down\` from ${find}; if that state is lost, ${removeByHand}; or bring this stack up under another stack name, whose domain and file names differ`;
}

function urnWords(urn: string): { stack: string; project: string; name: string } {
    const parts = urn.split("::");
    return { stack: parts[0]?.replace(/^urn:pulumi:/, "") ?? "", project: parts[1] ?? "", name: parts.slice(3).join("::") };
}
