import * as pulumi from "@pulumi/pulumi";
import { tokens } from "../tokens";
import type { ProbeSuiteInputs } from "./inputs";

export type ProbeSuiteArgs = { [K in keyof ProbeSuiteInputs]: pulumi.Input<ProbeSuiteInputs[K]> };

/**
 * The post-deploy probes of a pod (every kind the stack names: host gate, latency, inter-VM, migration) and their verdict. Runs again
 * whenever a guest is replaced or a target or setting changes; fails the
 * update when the gate enforces and a target is missed.
 */
export class ProbeSuite extends pulumi.CustomResource {
    declare readonly pass: pulumi.Output<boolean>;
    declare readonly failures: pulumi.Output<string[]>;
    declare readonly checks: pulumi.Output<unknown[]>;
    declare readonly files: pulumi.Output<{ json: string; markdown: string; junit: string; html: string; history: string; histograms: string[] }>;
    declare readonly suiteSeconds: pulumi.Output<number>;

    constructor(name: string, args: ProbeSuiteArgs, opts?: pulumi.CustomResourceOptions) {
        super(tokens.probeSuite, name, { pass: undefined, failures: undefined, checks: undefined, files: undefined, suiteSeconds: undefined, ...args }, opts);
    }
}
