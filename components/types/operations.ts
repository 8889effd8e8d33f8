/**
 * What one resource type of the nfvkit provider implements. Each
 * `*Operations.ts` module (domain, shm file, hugepage reservation, probe
 * suite) exports these functions; components/provider/provider.ts routes the
 * engine's calls to them by type token. The contract sits low in the tree, so
 * the operations (host/, libvirt/, probes/) never import the provider that
 * routes to them.
 */
import type * as provider from "@pulumi/pulumi/provider";
import type { Progress } from "../progress";
import type { Owner } from "./ownership";

/**
 * Who is asking: the resource's URN (project, stack, type and name) and its
 * stack's lineage, the identity the kit stamps on what it creates
 * (types/ownership.ts). The provider takes the lineage from the resource's
 * `lineage` input: the inputs in create and update, the state in read and
 * delete; an update also gives the state's former one.
 */
export interface OperationContext extends Owner {
    /**
     * The operation's progress: a long step names itself here, so the line that says it is still at work says at what.
     * @default none: nothing is said (tests that call an operation directly)
     */
    progress?: Progress;
}

export interface ResourceOperations {
    check?(olds: any, news: any, ctx: OperationContext): Promise<provider.CheckResult>;
    diff(id: string, olds: any, news: any, ctx: OperationContext): Promise<provider.DiffResult>;
    create(inputs: any, ctx: OperationContext): Promise<provider.CreateResult>;
    /** What is really there now: `pulumi refresh` records it, and the next `up` repairs the difference. An empty id means gone. */
    read(id: string, props: any, ctx: OperationContext): Promise<provider.ReadResult>;
    update?(id: string, olds: any, news: any, ctx: OperationContext): Promise<provider.UpdateResult>;
    delete(id: string, props: any, ctx: OperationContext): Promise<void>;
    /**
     * Inputs that make nothing on the host: a name for messages (the pod spec's
     * host name), or a setting of the next change (a reboot timeout). A change
     * of one of them alone is an update that stores the new value and touches
     * nothing; the provider does it, so the kind needs no `update` for it and
     * its `diff` leaves these keys out (components/provider/provider.ts).
     * @default none
     */
    storedOnly?: readonly string[];
}

/** project, stack and resource name of a URN (`urn:pulumi:<stack>::<project>::<type chain>::<name>`). */
export function urnParts(urn: string): { stack: string; project: string; type: string; name: string } {
    const parts = urn.split("::");
    const stack = parts[0]?.replace(/^urn:pulumi:/, "") ?? "";
    const typeChain = parts[2] ?? "";
    return { stack, project: parts[1] ?? "", type: typeChain.split("$").pop() ?? "", name: parts.slice(3).join("::") };
}
