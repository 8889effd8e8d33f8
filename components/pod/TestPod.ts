import * as pulumi from "@pulumi/pulumi";
import type { GuestImage as ImageFiles } from "../types/guestImage";
import type { HostTarget } from "../host/access";
import { createGuestDomain, NfvGuest, type GuestOutputs } from "../guest/NfvGuest";
import type { HostFacts } from "../host/facts";
import type { HugepageReservation } from "../host/HugepageReservation";
import type { HostCheck } from "../host/readiness";
import {
    assessHosts,
    createImages,
    createReservations,
    createRtHosts,
    createSriovPfs,
    managedHostSummaries,
    type AccessOf,
    type ManagedHostSummary,
} from "./hostResources";
import { summarizeReadiness } from "../host/readiness";
import { createLinkRegion, IvshmemLink } from "../link/IvshmemLink";
import { formatPlacementTable } from "../plan/placement";
import type { PodPlan } from "../plan/podPlan";
import { accessNeed } from "../validate/hostAccess";
import { validatePodSpec } from "../validate/validateStack";
import type { ProbeSuite } from "../probes/ProbeSuite";
import { StackLineage } from "./StackLineage";
import { createProbeSuite, probeCpus, type PodProbesArgs } from "./probeSuite";
import { stackNamePrefix } from "../spec/names";
import { ProblemListError, type SpecProblem } from "../spec/problems";
import { tokens } from "../tokens";

export type { HostFacts } from "../host/facts";
export type { ManagedHostSummary } from "./hostResources";

export interface TestPodArgs {
    /**
     * The pod's plan, as validateStack, validatePodSpec or loadStack made it
     * (placement, hugepages, names, kernel arguments): TestPod walks it and
     * never checks or plans again. Give this, or `spec`.
     */
    plan?: PodPlan;
    /**
     * The pod spec, for a program that has no plan: hosts, guests, links (see
     * docs/pod-spec.md). It goes through the one validation (validatePodSpec,
     * with `hostFacts` and `namePrefix`) before anything is created. Ignored
     * when `plan` is given (the plan was validated when it was made).
     */
    spec?: unknown;
    /**
     * With `spec`: prefix of every libvirt object name the pod creates (domains, shm files).
     * @default stackNamePrefix(project, stack), "<project>-<stack>": two stacks on one host never collide.
     */
    namePrefix?: string;
    /**
     * With `spec`: where the spec sits, so errors name a path the user can find.
     * @default "nfv-testpod:pod"
     */
    specPath?: string;
    /**
     * Per host name: what the kit read there (discoverHosts). The running kernel's facts
     * give the readiness table and reboot notices; with `spec`, topology, accelerator and
     * memory locking are planned from them. Hosts absent here get TCG and their declared topology.
     */
    hostFacts?: Record<string, HostFacts>;
    /** The guest image every guest boots (built by guest-images/build.ts). */
    image: pulumi.Input<ImageFiles>;
    /**
     * Reserve the guests' hugepages on their hosts, and give them back on destroy.
     * @default true: a fresh host has no hugepages, and a leftover reservation wastes memory.
     */
    reserveHugepages?: boolean;
    /** Guest boot timeout in seconds. @default NfvGuest's default. */
    bootTimeoutSec?: number;
    /**
     * Whether the kit may reboot hosts with `manage: true` when their kernel or boot args change.
     * @default false: `up` then stops with what the host needs, and the operator reboots it
     */
    allowHostReboot?: boolean;
    /**
     * How each host is reached for its files and commands (image copy, hugepages,
     * shm files, console logs, probes), by host name. The SSH private key in it
     * should be a Pulumi secret. Every remote host the pod works on needs one:
     * the kit never reaches a remote host through this machine.
     * @default this machine, for the hosts whose libvirt is this machine's
     */
    hostAccess?: Record<string, pulumi.Input<HostTarget>>;
    /**
     * The post-deploy latency probes and their gate. Unset: no probes run.
     * The probe suite runs after every guest is up, and again whenever a guest is
     * replaced or a setting or target changes.
     */
    probes?: PodProbesArgs;
    /**
     * Wrap each guest's domain in an NfvGuest component and each link's shm file
     * in an IvshmemLink component. `false` registers the domain and the shm file
     * directly under the pod: the same resources, named the same, with half the
     * registrations, which is what lets a preview of hundreds of guests fit in
     * seconds (docs/bench.md). `guests` and `links` are then empty; `guestOutputs`
     * has every guest either way. Changing it on a running stack changes every
     * domain's URN, so the domains would be made again: choose it when creating the stack.
     * @default true
     */
    guestComponents?: boolean;
    /**
     * The stack's lineage, stamped with the URN on every domain, shm file and
     * hugepage reservation the pod makes, so that a stack of the same project
     * and name kept in another backend never takes or removes them
     * (docs/ownership.md). A program with several pods gives each the same
     * StackLineage's `lineage`.
     * @default the `lineage` of a StackLineage the pod makes, named `<name>-lineage`
     */
    lineage?: pulumi.Input<string>;
}

export type { PodProbesArgs } from "./probeSuite";

/** One guest as the stack outputs show it. */
export interface PodGuestSummary {
    host: string;
    uri: string;
    domain: string;
    accel: string;
    consoleLog: string;
    bootSeconds: number;
    vcpuPins: Record<string, string>;
    /** Guest CPU numbers of the real-time vCPUs (what the probes measure). */
    rtVcpus: number[];
    /** Guest CPU numbers of the housekeeping vCPUs. */
    housekeepingVcpus: number[];
    /** The host's housekeeping CPUs (where host load goes). */
    hostHousekeepingCpus: number[];
}

/**
 * An NFV test pod: hugepage reservations on its hosts, ivshmem links, and
 * pinned guests, built from one validated spec.
 */
export class TestPod extends pulumi.ComponentResource {
    /** The pod's plan, derived once from the spec and the host facts; everything below is created by walking it. */
    readonly plan: PodPlan;
    /** The placement plan as a table a person reads (guest, vCPU, host CPU, NUMA node, role). */
    readonly placementTable: string;
    /** The guests' components, by name; empty when `guestComponents` is false. */
    readonly guests: Record<string, NfvGuest>;
    /** Every guest's outputs (domain name, console log, boot time, pins, XML, UUID), by name, whatever `guestComponents` says. */
    readonly guestOutputs: Record<string, GuestOutputs>;
    /** The ivshmem links' components, by name; empty when `guestComponents` is false. */
    readonly links: Record<string, IvshmemLink>;
    /** Guest summaries for stack outputs, by guest name. */
    readonly guestSummaries: pulumi.Output<Record<string, PodGuestSummary>>;
    /** Accelerator per host and why (TCG is said out loud: its latencies are not hardware latencies). */
    readonly accel: Record<string, string>;
    /** Per host, everything the kit adapted to it and why (accelerator, knobs it had to turn off). */
    readonly hostNotes: Record<string, string[]>;
    /** The latency probes, when configured. */
    readonly probes?: ProbeSuite;
    /** Per host, the kernel command line the pod needs on it (isolation, hugepages, IOMMU). */
    readonly hostKernelArgs: Record<string, string>;
    /** Per host whose kernel could be read, how it compares with `hostKernelArgs` and PREEMPT_RT: every check, with what was expected and found. */
    readonly hostReadiness: Record<string, HostCheck[]>;
    /** `hostReadiness` in one line per host, e.g. `2 of 11 checks pass; misses: PREEMPT_RT kernel, isolcpus`: what the kit's program exports. */
    readonly hostReadinessSummary: Record<string, string>;
    /** Per managed host (`manage: true`), its RtHost's state after `up`: the kernel it boots, whether it was rebooted, and the readiness table then. */
    readonly managedHosts: Record<string, pulumi.Output<ManagedHostSummary>>;
    /** The lineage stamped on what the pod makes on its hosts; `pulumi stack output lineage` prints it in the kit's program. */
    readonly lineage: pulumi.Output<string>;

    constructor(name: string, args: TestPodArgs, opts?: pulumi.ComponentResourceOptions) {
        // Before registering anything: a bad spec, or a remote host without access, leaves no trace in the stack.
        const plan = args.plan ?? resolveTestPodSpec(args);
        requireAccess(plan, args);
        super(tokens.testPod, name, {}, opts);
        const built = createTestPod(name, this, args, plan);
        this.plan = built.plan;
        this.placementTable = built.placementTable;
        this.guests = built.guests;
        this.guestOutputs = built.guestOutputs;
        this.links = built.links;
        this.guestSummaries = built.guestSummaries;
        this.accel = built.accel;
        this.hostNotes = built.hostNotes;
        this.probes = built.probes;
        this.hostKernelArgs = built.hostKernelArgs;
        this.hostReadiness = built.hostReadiness;
        this.hostReadinessSummary = Object.fromEntries(Object.entries(built.hostReadiness).map(([host, checks]) => [host, summarizeReadiness(checks)]));
        this.managedHosts = built.managedHosts;
        this.lineage = built.lineage;
        this.registerOutputs({
            lineage: this.lineage,
            hostKernelArgs: this.hostKernelArgs,
            hostReadiness: this.hostReadiness,
            managedHosts: this.managedHosts,
            probesPass: this.probes?.pass,
            hostNotes: this.hostNotes,
            placementTable: this.placementTable,
            guests: this.guestSummaries,
            accel: this.accel,
        });
    }
}

/**
 * A TestPod's spec to its plan, through the one validation (validatePodSpec);
 * throws one ProblemListError listing every problem. TestPod calls it when it
 * is given a spec rather than a plan.
 */
export function resolveTestPodSpec(args: Pick<TestPodArgs, "spec" | "hostFacts" | "namePrefix" | "specPath">): PodPlan {
    if (args.spec === undefined) {
        throw new ProblemListError(
            [{ path: "plan", value: undefined, reason: "is required, or spec", fix: "give the plan validateStack or loadStack made, or the pod spec" }],
            "TestPod arguments",
        );
    }
    return validatePodSpec(args.spec, {
        namePrefix: args.namePrefix ?? stackNamePrefix(pulumi.getProject(), pulumi.getStack()),
        hostFacts: args.hostFacts,
        specPath: args.specPath,
    });
}

/**
 * Every remote host of the pod (with guests, a migration's destination, a
 * managed host, or only named: validate/hostAccess.ts, the rule the stack's
 * validation uses too) has pinned access: the kit never reaches a remote host
 * through this machine or its user's ssh setup.
 */
function requireAccess(plan: PodPlan, args: Pick<TestPodArgs, "hostAccess" | "probes">): void {
    const destinations = (args.probes?.config.enabled ? args.probes.config.migration : []).map((m) => m.to);
    const problems: SpecProblem[] = plan.hosts.flatMap((h) => {
        const why = accessNeed(h.uri, {
            guests: plan.guests.some((g) => g.host === h.name),
            migrationDestination: destinations.includes(h.name),
            managed: h.manage !== undefined,
        });
        if (why === undefined || args.hostAccess?.[h.name] !== undefined) return [];
        return [
            {
                path: `hostAccess.${h.name}`,
                value: undefined,
                reason: `is needed: host ${h.name} is remote (${h.uri}) and ${why}; the kit never reaches a remote host through this machine`,
                fix: `give hostAccess.${h.name}: { kind: "ssh", host, privateKey (a secret), knownHosts }`,
            },
        ];
    });
    if (problems.length > 0) throw new ProblemListError(problems, "TestPod arguments");
}

/** Walks the plan: reservations, then links, then guests, then probes. */
function createTestPod(name: string, parent: pulumi.Resource, args: TestPodArgs, plan: PodPlan) {
    const access = (host: string) => (args.hostAccess?.[host] ? { access: args.hostAccess[host] } : {});
    // Every resource that makes something on a host takes it as an input, so it exists before any of them.
    const lineage = pulumi.output(args.lineage ?? new StackLineage(`${name}-lineage`, { parent }).lineage);
    const reservations = args.reserveHugepages === false ? new Map<string, HugepageReservation[]>() : createReservations(name, parent, plan, access, lineage);
    const components = args.guestComponents !== false;
    const links = createLinks(name, parent, plan, access, components, lineage);
    const images = createImages(name, parent, plan, args.image, access);
    const rtHosts = createRtHosts(name, parent, plan, args.allowHostReboot ?? false, access, args.hostFacts ?? {}, lineage);
    const pfs = createSriovPfs(name, parent, plan, access, rtHosts, lineage);
    const guests: Record<string, NfvGuest> = {};
    const guestOutputs: Record<string, GuestOutputs> = {};
    /** What the probe suite waits for: each guest's component, or its domain. */
    const guestResources: pulumi.Resource[] = [];
    for (const guest of plan.guests) {
        const dependsOn: pulumi.Resource[] = [
            images[guest.host],
            ...(rtHosts[guest.host] ? [rtHosts[guest.host]] : []),
            ...(pfs.get(guest.host) ?? []),
            ...(reservations.get(guest.host) ?? []),
            ...plan.links.filter((l) => l.members.includes(guest.name)).map((l) => links.resources[l.name]),
        ];
        const guestArgs = {
            guest,
            image: args.image,
            bootTimeoutSec: args.bootTimeoutSec,
            metadata: { pod: name, prefix: plan.namePrefix },
            lineage,
            ...access(guest.host),
        };
        if (components) {
            const component = new NfvGuest(`${name}-${guest.name}`, guestArgs, { parent, dependsOn });
            guests[guest.name] = component;
            guestOutputs[guest.name] = component;
            guestResources.push(component);
        } else {
            const built = createGuestDomain(`${name}-${guest.name}`, guestArgs, { parent, dependsOn });
            guestOutputs[guest.name] = built;
            guestResources.push(built.domain);
        }
    }

    const accel = Object.fromEntries(plan.hosts.map((h) => [h.name, h.accel.reason]));
    const hostNotes = Object.fromEntries(plan.hosts.map((h) => [h.name, h.notes]));
    const hostKernelArgs = Object.fromEntries(plan.hosts.map((h) => [h.name, h.kernelArgs.join(" ")]));
    const { hostReadiness } = assessHosts(plan, args.hostFacts);

    const guestSummaries = pulumi
        .all(
            plan.guests.map((g) =>
                pulumi
                    .all([guestOutputs[g.name].domainName, guestOutputs[g.name].consoleLog, guestOutputs[g.name].bootSeconds, guestOutputs[g.name].vcpuPins])
                    .apply(([domain, consoleLog, bootSeconds, vcpuPins]): [string, PodGuestSummary] => [
                        g.name,
                        { host: g.host, uri: g.uri, domain, accel: g.accel, consoleLog, bootSeconds, vcpuPins, ...probeCpus(g) },
                    ]),
            ),
        )
        .apply((entries) => Object.fromEntries(entries));

    const probes = args.probes
        ? createProbeSuite(
              `${name}-probes`,
              parent,
              plan,
              { probes: args.probes, image: args.image, hostAccess: args.hostAccess, guestIds: plan.guests.map((g) => guestOutputs[g.name].uuid) },
              guestResources,
          )
        : undefined;

    return {
        plan,
        placementTable: formatPlacementTable(plan.placement),
        guests,
        guestOutputs,
        links: links.components,
        guestSummaries,
        accel,
        hostNotes,
        probes,
        hostKernelArgs,
        hostReadiness,
        managedHosts: managedHostSummaries(rtHosts),
        lineage,
    };
}

/** Each link's shm file, in an IvshmemLink component or alone; `resources` is what member guests wait for. */
function createLinks(name: string, parent: pulumi.Resource, plan: PodPlan, access: AccessOf, components: boolean, lineage: pulumi.Input<string>) {
    const result = { components: {} as Record<string, IvshmemLink>, resources: {} as Record<string, pulumi.Resource> };
    for (const link of plan.links) {
        const linkName = `${name}-link-${link.name}`;
        const linkArgs = { link, lineage, ...access(link.host) };
        if (components) {
            result.components[link.name] = new IvshmemLink(linkName, linkArgs, { parent });
            result.resources[link.name] = result.components[link.name];
        } else {
            result.resources[link.name] = createLinkRegion(linkName, linkArgs, { parent });
        }
    }
    return result;
}
