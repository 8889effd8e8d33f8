import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { GuestImageInputs } from "./guestImageOperations";

export type GuestImageArgs = { [K in keyof GuestImageInputs]: pulumi.Input<GuestImageInputs[K]> };

/** The guest image on one host, copied there by content hash (skipped when the host has it). */
export class GuestImage extends pulumi.CustomResource {
    /** "copied" or "already there". */
    declare readonly copied: pulumi.Output<string>;

    constructor(name: string, args: GuestImageArgs, opts?: pulumi.CustomResourceOptions) {
        super(tokens.guestImage, name, { copied: undefined, ...args }, opts);
    }
}
