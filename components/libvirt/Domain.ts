import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { DomainInputs } from "./domainOperations";

/** Arguments of a {@link Domain}; see DomainInputs for what each field means. */
export type DomainArgs = { [K in keyof DomainInputs]: pulumi.Input<DomainInputs[K]> };

/**
 * One libvirt domain, defined, started and verified (guest agent answers, the
 * init's ready line is on the console, libvirt reports the asked pinning).
 * Pinning and FIFO priority changes are applied live; other changes replace it.
 */
export class Domain extends pulumi.CustomResource {
    declare readonly uri: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    declare readonly uuid: pulumi.Output<string>;
    declare readonly consoleLog: pulumi.Output<string>;
    declare readonly bootSeconds: pulumi.Output<number>;
    declare readonly pinning: pulumi.Output<Record<string, string>>;
    declare readonly observedVcpuPins: pulumi.Output<Record<string, string>>;
    /** libvirt's state of the domain when last created, updated or refreshed ("running", "shut off", ...). */
    declare readonly runState: pulumi.Output<string>;

    constructor(name: string, args: DomainArgs, opts?: pulumi.CustomResourceOptions) {
        super(tokens.domain, name, { uuid: undefined, bootSeconds: undefined, observedVcpuPins: undefined, runState: undefined, ...args }, opts);
    }
}
