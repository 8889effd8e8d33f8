import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { SriovPfInputs, SriovPfOutputs } from "./sriovOperations";

export type SriovPfArgs = { [K in keyof SriovPfInputs]: pulumi.Input<SriovPfInputs[K]> };

/** One SR-IOV PF with the VFs the pod asks for (count, MAC, VLAN, trust, spoofchk, driver); destroy puts the PF back as it was. */
export class SriovPf extends pulumi.CustomResource {
    declare readonly pciAddress: pulumi.Output<string>;
    declare readonly state: pulumi.Output<SriovPfOutputs["state"]>;
    declare readonly before: pulumi.Output<SriovPfOutputs["before"]>;

    constructor(name: string, args: SriovPfArgs, opts?: pulumi.CustomResourceOptions) {
        super(tokens.sriovPf, name, { pciAddress: undefined, state: undefined, before: undefined, ...args }, opts);
    }
}
