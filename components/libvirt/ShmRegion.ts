import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { ShmRegionInputs } from "./shmOperations";

export type ShmRegionArgs = { [K in keyof ShmRegionInputs]: pulumi.Input<ShmRegionInputs[K]> };

/** The host file behind an ivshmem link; removed once its member guests are gone. */
export class ShmRegion extends pulumi.CustomResource {
    declare readonly path: pulumi.Output<string>;
    declare readonly sizeBytes: pulumi.Output<number>;

    constructor(name: string, args: ShmRegionArgs, opts?: pulumi.CustomResourceOptions) {
        super(tokens.shmRegion, name, args, opts);
    }
}
