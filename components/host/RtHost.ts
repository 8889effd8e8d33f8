import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { RtHostInputs, RtHostOutputs } from "./rtHostOperations";

export type RtHostArgs = { [K in keyof RtHostInputs]: pulumi.Input<RtHostInputs[K]> };

/** A host the kit manages as an RT KVM host: PREEMPT_RT kernel, the pod's boot args, runtime tuning, checked after. */
export class RtHost extends pulumi.CustomResource {
    declare readonly kernelRelease: pulumi.Output<string>;
    declare readonly rebooted: pulumi.Output<boolean>;
    declare readonly rebootSeconds: pulumi.Output<number>;
    declare readonly convergedAt: pulumi.Output<string>;
    declare readonly checks: pulumi.Output<RtHostOutputs["checks"]>;

    constructor(name: string, args: RtHostArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            tokens.rtHost,
            name,
            { kernelRelease: undefined, rebooted: undefined, rebootSeconds: undefined, convergedAt: undefined, checks: undefined, before: undefined, ...args },
            opts,
        );
    }
}
