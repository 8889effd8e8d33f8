import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";

/**
 * The stack's lineage (pod/stackLineageOperations.ts, docs/ownership.md): a
 * random id made on the first `up` and kept in the stack's state. Give
 * `lineage` to every resource that makes something on a host, so it stamps
 * the id there next to its URN.
 */
export class StackLineage extends pulumi.CustomResource {
    /** The id; unknown in the preview before the stack's first `up`. */
    declare readonly lineage: pulumi.Output<string>;

    constructor(name: string, opts?: pulumi.CustomResourceOptions) {
        super(tokens.stackLineage, name, { lineage: undefined }, opts);
    }
}
