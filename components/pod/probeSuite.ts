/**
 * The pod's ProbeSuite: what `pulumi up` runs after every guest is up, built
 * from the plan. Its inputs are everything the probe pipeline needs to run
 * against the pod again later (`npm run probe` reads them back from the
 * state): the guests and their CPUs, every host with how it is reached (SSH
 * with pinned keys for a remote host; never this machine in its place) and
 * the kernel arguments its plan needs, and what each kind the stack names
 * derives from the plan (the inter-VM links; the migrations' destinations,
 * planned once from the plan and that host's facts, the receiver's address
 * and tool).
 */
import * as pulumi from "@pulumi/pulumi";
import type { GuestImage as ImageFiles } from "../types/guestImage";
import type { HostTarget } from "../host/access";
import type { GuestPlan, PodPlan } from "../plan/podPlan";
import type { PodInputsContext } from "../probes/kinds/kind";
import { PROBE_KINDS } from "../probes/kinds/registry";
import { ProbeSuite } from "../probes/ProbeSuite";
import type { ProbeSuiteConfig } from "../probes/suiteConfig";
import type { Targets } from "../probes/targets";
import type { Gate } from "../probes/verdict";

/** Probe settings of a pod (see components/probes/suiteConfig.ts and targets.ts). */
export interface PodProbesArgs {
    config: ProbeSuiteConfig;
    targets: Targets;
    /** `enforce`: a missed target fails `pulumi up`; `report`: results only. */
    gate: Gate;
    /** Where the reports are written, on the machine running pulumi. */
    resultsDir: string;
}

export interface ProbeSuiteArgsOfPod {
    probes: PodProbesArgs;
    image: pulumi.Input<ImageFiles>;
    /** How each host is reached, by name; absent: this machine's own libvirt. */
    hostAccess?: Record<string, pulumi.Input<HostTarget>>;
    /** The guests' UUIDs: a replaced guest is probed again. */
    guestIds: pulumi.Input<string>[];
}

export function createProbeSuite(name: string, parent: pulumi.Resource, plan: PodPlan, args: ProbeSuiteArgsOfPod, dependsOn: pulumi.Resource[]): ProbeSuite {
    const access = (host: string) => args.hostAccess?.[host];
    const withAccess = (host: string) => (access(host) ? { access: access(host)! } : {});
    const ctx: PodInputsContext = {
        plan,
        config: args.probes.config,
        programs: pulumi.output(args.image).apply((image) => ({ ...(image.programs ?? {}) })),
        access,
    };
    // Only the kinds the stack names: a kind's inputs may need what only its settings ask for (a migration's destination).
    const kinds = Object.fromEntries(PROBE_KINDS.filter((k) => k.named(args.probes.config) && k.podInputs).map((k) => [k.name, k.podInputs!(ctx)]));
    return new ProbeSuite(
        name,
        {
            title: `${pulumi.getProject()}/${pulumi.getStack()}`,
            guests: pulumi.all(
                plan.guests.map((g) =>
                    pulumi.output({ guest: g.name, host: g.host, uri: g.uri, domain: g.domainName, ...probeCpus(g), ...withAccess(g.host) }),
                ),
            ),
            guestIds: pulumi.all(args.guestIds),
            config: args.probes.config,
            targets: args.probes.targets,
            gate: args.probes.gate,
            resultsDir: args.probes.resultsDir,
            notes: plan.hosts.flatMap((h) => h.notes.map((n) => `host ${h.name}: ${n}`)),
            hosts: pulumi.all(plan.hosts.map((h) => pulumi.output({ name: h.name, uri: h.uri, kernelArgs: [...h.kernelArgs], ...withAccess(h.name) }))),
            kinds: pulumi.all(kinds),
        },
        // After every guest is up: the suite measures them.
        { parent, dependsOn },
    );
}

/** The plan's probe view as the plain CPU lists stack outputs and the probe suite carry. */
export function probeCpus(g: GuestPlan) {
    return {
        rtVcpus: [...g.probe.rtVcpus],
        housekeepingVcpus: [...g.probe.housekeepingVcpus],
        hostHousekeepingCpus: [...g.probe.hostHousekeepingCpus],
    };
}
