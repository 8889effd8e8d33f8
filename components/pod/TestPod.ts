import * as pulumi from "@pulumi/pulumi";
import type { GuestImage } from "../../guest-images/build";
import { NfvGuest } from "../guest/NfvGuest";
import type { AccelChoice } from "../host/accel";
import { HugepageReservation } from "../host/HugepageReservation";
import type { MemoryLockingSupport } from "../host/memoryLocking";
import { assessHostReadiness, describeUnready, type HostCheck, type HostKernelFacts } from "../host/readiness";
import { buildHostKernelArgs } from "../plan/hostCmdline";
import { IvshmemLink } from "../link/IvshmemLink";
import { formatPlacementTable } from "../plan/placement";
import type { HostTopology } from "../spec/types";
import { checkPod, type ResolvedGuest, type ResolvedHost, type ResolvedPod } from "../spec/resolve";
import { guestsOnRemoteHosts, hostFactOptions } from "../validate/validateStack";
import { ProbeSuite } from "../probes/ProbeSuite";
import type { ProbeSuiteConfig } from "../probes/suiteConfig";
import type { Targets } from "../probes/targets";
import type { Gate } from "../probes/verdict";
import { PodSpecError } from "../spec/problems";
import { tokens } from "../tokens";

/** What the kit learned about a host before planning (see host/discover.ts). */
export interface HostFacts {
    /** CPU topology read from the host; a topology declared in the spec wins. */
    topology?: HostTopology;
    /** How guests are accelerated there, and why. */
    accel: AccelChoice;
    /** Whether libvirt may lock guest memory there; when not, the `locked` knob is turned off and the reason is a stack output. */
    memoryLocking?: MemoryLockingSupport;
    /** The host's running kernel, for the host readiness checks; absent when it cannot be read. */
    kernel?: HostKernelFacts;
}

export interface TestPodArgs {
    /**
     * The pod spec: hosts, guests, links (see docs/pod-spec.md). Usually the
     * `nfv-testpod:pod` object of the stack config; any plain object of the same
     * shape works. It is validated completely before anything is created.
     */
    spec: unknown;
    /**
     * Prefix of every libvirt object name the pod creates (domains, shm files).
     * @default "<project>-<stack>": two stacks on one host never collide.
     */
    namePrefix?: string;
    /**
     * Where the spec sits in the stack config, so errors name a YAML path the user can find.
     * @default "nfv-testpod:pod"
     */
    specPath?: string;
    /** Per host name: discovered topology and accelerator. Hosts absent here get TCG and their declared topology. */
    hostFacts?: Record<string, HostFacts>;
    /** The guest image every guest boots (built by guest-images/build.ts). */
    image: pulumi.Input<GuestImage>;
    /**
     * Reserve the guests' hugepages on their hosts, and give them back on destroy.
     * @default true: a fresh host has no hugepages, and a leftover reservation wastes memory.
     */
    reserveHugepages?: boolean;
    /** Guest boot timeout in seconds. @default NfvGuest's default. */
    bootTimeoutSec?: number;
    /**
     * The post-deploy latency probes and their gate. Unset: no probes run.
     * The probe suite runs after every guest is up, and again whenever a guest is
     * replaced or a setting or target changes.
     */
    probes?: PodProbesArgs;
}

/** Probe settings of a pod (see components/probes/suiteConfig.ts and targets.ts). */
export interface PodProbesArgs {
    config: ProbeSuiteConfig;
    targets: Targets;
    /** `enforce`: a missed target fails `pulumi up`; `report`: results only. */
    gate: Gate;
    /** Where the reports are written, on the machine running pulumi. */
    resultsDir: string;
}

/** Where hugepage-backed ivshmem files live; tools/setup-host.sh mounts hugetlbfs here. */
const HUGETLBFS_MOUNT = "/dev/hugepages";

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
    /** The resolved spec: every default filled, every CPU placed. */
    readonly resolved: ResolvedPod;
    /** The placement plan as a table a person reads (guest, vCPU, host CPU, NUMA node, role). */
    readonly placementTable: string;
    /** The guests, by name. */
    readonly guests: Record<string, NfvGuest>;
    /** The ivshmem links, by name. */
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
    /** Per host whose kernel could be read, how it compares with `hostKernelArgs` and PREEMPT_RT. */
    readonly hostReadiness: Record<string, HostCheck[]>;

    constructor(name: string, args: TestPodArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before registering anything: a bad spec leaves no trace in the stack.
        const resolved = resolveTestPodSpec(args);
        super(tokens.testPod, name, {}, opts);
        const built = createTestPod(name, this, args, resolved);
        this.resolved = built.resolved;
        this.placementTable = built.placementTable;
        this.guests = built.guests;
        this.links = built.links;
        this.guestSummaries = built.guestSummaries;
        this.accel = built.accel;
        this.hostNotes = built.hostNotes;
        this.probes = built.probes;
        this.hostKernelArgs = built.hostKernelArgs;
        this.hostReadiness = built.hostReadiness;
        this.registerOutputs({
            hostKernelArgs: this.hostKernelArgs,
            hostReadiness: this.hostReadiness,
            probesPass: this.probes?.pass,
            hostNotes: this.hostNotes,
            placementTable: this.placementTable,
            guests: this.guestSummaries,
            accel: this.accel,
        });
    }
}

/** Validates and plans the spec; throws one PodSpecError listing every problem. TestPod calls it first. */
export function resolveTestPodSpec(args: Pick<TestPodArgs, "spec" | "hostFacts" | "namePrefix" | "specPath">): ResolvedPod {
    const namePrefix = args.namePrefix ?? defaultNamePrefix();
    const specPath = args.specPath ?? "nfv-testpod:pod";
    const checked = checkPod(args.spec, { namePrefix, yamlPath: specPath, ...hostFactOptions(args.hostFacts) });
    const problems = [...checked.problems, ...guestsOnRemoteHosts(args.spec, specPath)];
    if (problems.length > 0 || !checked.pod) throw new PodSpecError(problems);
    return checked.pod;
}

/** Walks the resolved pod: reservations, then links, then guests, then probes. */
function createTestPod(name: string, parent: pulumi.Resource, args: TestPodArgs, resolved: ResolvedPod) {
    const hostsByName = new Map(resolved.hosts.map((h) => [h.name, h]));
    const accelOf = (host: string) => args.hostFacts?.[host]?.accel ?? { accel: "tcg" as const, reason: "TCG: no host facts given" };

    const reservations = args.reserveHugepages === false ? new Map<string, HugepageReservation[]>() : createReservations(name, parent, resolved, hostsByName);
    const links = createLinks(name, parent, resolved, hostsByName);
    const guests: Record<string, NfvGuest> = {};
    for (const guest of resolved.guests) {
        const dependsOn: pulumi.Resource[] = [
            ...(reservations.get(guest.host) ?? []),
            ...resolved.links.filter((l) => l.members.includes(guest.name)).map((l) => links[l.name]),
        ];
        guests[guest.name] = new NfvGuest(
            `${name}-${guest.name}`,
            {
                guest,
                uri: hostsByName.get(guest.host)!.uri,
                image: args.image,
                accel: accelOf(guest.host).accel,
                bootTimeoutSec: args.bootTimeoutSec,
                metadata: { pod: name, prefix: args.namePrefix ?? defaultNamePrefix() },
            },
            { parent, dependsOn },
        );
    }

    const accel: Record<string, string> = {};
    const hostNotes: Record<string, string[]> = {};
    for (const host of resolved.hosts) {
        accel[host.name] = accelOf(host.name).reason;
        const locking = args.hostFacts?.[host.name]?.memoryLocking;
        hostNotes[host.name] = [accel[host.name], ...(locking && !locking.supported ? [locking.reason] : [])];
    }
    const { hostKernelArgs, hostReadiness, hostUnready } = hostKernelReport(resolved, args.hostFacts);

    const guestSummaries = pulumi
        .all(
            resolved.guests.map((g) =>
                pulumi
                    .all([guests[g.name].domainName, guests[g.name].consoleLog, guests[g.name].bootSeconds, guests[g.name].vcpuPins])
                    .apply(([domain, consoleLog, bootSeconds, vcpuPins]): [string, PodGuestSummary] => [
                        g.name,
                        {
                            host: g.host,
                            uri: hostsByName.get(g.host)!.uri,
                            domain,
                            accel: accelOf(g.host).accel,
                            consoleLog,
                            bootSeconds,
                            vcpuPins,
                            ...probeView(g, hostsByName.get(g.host)!),
                        },
                    ]),
            ),
        )
        .apply((entries) => Object.fromEntries(entries));

    const probes = args.probes
        ? new ProbeSuite(
              `${name}-probes`,
              {
                  title: `${pulumi.getProject()}/${pulumi.getStack()}`,
                  guests: resolved.guests.map((g) => ({
                      guest: g.name,
                      uri: hostsByName.get(g.host)!.uri,
                      domain: g.domainName,
                      ...probeView(g, hostsByName.get(g.host)!),
                  })),
                  guestIds: pulumi.all(resolved.guests.map((g) => guests[g.name].uuid)),
                  config: args.probes.config,
                  targets: args.probes.targets,
                  gate: args.probes.gate,
                  resultsDir: args.probes.resultsDir,
                  notes: Object.entries(hostNotes).flatMap(([host, notes]) => notes.map((n) => `host ${host}: ${n}`)),
                  hostUnready,
              },
              // After every guest is up: the suite measures them.
              { parent, dependsOn: Object.values(guests) },
          )
        : undefined;

    return {
        resolved,
        placementTable: formatPlacementTable(resolved.placement),
        guests,
        links,
        guestSummaries,
        accel,
        hostNotes,
        probes,
        hostKernelArgs,
        hostReadiness,
    };
}

/** One reservation per host, NUMA node and page size the pod's guests and links need. */
function createReservations(name: string, parent: pulumi.Resource, resolved: ResolvedPod, hostsByName: Map<string, ResolvedHost>) {
    const byHost = new Map<string, HugepageReservation[]>();
    // resolvePod already counted them when it checked the budgets.
    for (const need of resolved.hugepageDemand) {
        const host = hostsByName.get(need.host)!;
        const reservation = new HugepageReservation(
            `${name}-hugepages-${need.host}-node${need.node}-${need.sizeKiB}k`,
            { uri: host.uri, host: host.name, node: need.node, sizeKiB: need.sizeKiB, count: need.pages },
            { parent },
        );
        byHost.set(need.host, [...(byHost.get(need.host) ?? []), reservation]);
    }
    return byHost;
}

function createLinks(name: string, parent: pulumi.Resource, resolved: ResolvedPod, hostsByName: Map<string, ResolvedHost>) {
    const links: Record<string, IvshmemLink> = {};
    for (const link of resolved.links) {
        const uri = hostsByName.get(link.host)!.uri;
        // A hugepage-backed region is a file on hugetlbfs, where the renderer points QEMU (RenderEnv.hugetlbfsMount).
        const directory = link.hugepages ? HUGETLBFS_MOUNT : undefined;
        links[link.name] = new IvshmemLink(`${name}-link-${link.name}`, { link, uri, directory }, { parent });
    }
    return links;
}

/** Per host: the boot arguments the pod needs, and how the running kernel compares where it could be read. */
function hostKernelReport(resolved: ResolvedPod, hostFacts: Record<string, HostFacts> | undefined) {
    const hostKernelArgs: Record<string, string> = {};
    const hostReadiness: Record<string, HostCheck[]> = {};
    const hostUnready: string[] = [];
    for (const host of resolved.hosts) {
        const wanted = buildHostKernelArgs({
            isolatedCpus: host.isolatedCpus,
            housekeepingCpus: host.housekeepingCpus,
            hugepages: host.hugepages,
            iommu: resolved.guests.some((g) => g.host === host.name && g.vfs.length > 0),
        });
        hostKernelArgs[host.name] = wanted.join(" ");
        const kernel = hostFacts?.[host.name]?.kernel;
        if (kernel) {
            hostReadiness[host.name] = assessHostReadiness(kernel, wanted);
            hostUnready.push(...describeUnready(host.name, hostReadiness[host.name]));
        }
    }
    return { hostKernelArgs, hostReadiness, hostUnready };
}

/** Which CPUs the probes measure and where their helpers run. */
function probeView(g: ResolvedGuest, host: ResolvedHost) {
    return {
        rtVcpus: g.pins.filter((p) => p.role === "rt").map((p) => p.vcpu),
        housekeepingVcpus: g.pins.filter((p) => p.role !== "rt").map((p) => p.vcpu),
        hostHousekeepingCpus: host.housekeepingCpus,
    };
}

/** `<project>-<stack>`: two stacks on one host never collide. */
function defaultNamePrefix(): string {
    return `${pulumi.getProject()}-${pulumi.getStack()}`;
}
