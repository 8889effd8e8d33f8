import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { HugepageReservationInputs } from "./hugepageOperations";

export type HugepageReservationArgs = { [K in keyof HugepageReservationInputs]: pulumi.Input<HugepageReservationInputs[K]> };

/** Hugepages added to one NUMA node's pool for the pod, and given back on destroy. */
export class HugepageReservation extends pulumi.CustomResource {
    declare readonly count: pulumi.Output<number>;
    declare readonly poolAfter: pulumi.Output<number>;

    constructor(name: string, args: HugepageReservationArgs, opts?: pulumi.CustomResourceOptions) {
        super(tokens.hugepageReservation, name, { poolAfter: undefined, ...args }, opts);
    }
}
