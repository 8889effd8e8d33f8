/**
 * A pod built in code with the kit's components: the part of the example
 * program that is plain construction, with its inputs (guest image, host
 * facts) passed in, so it runs the same under the real engine and under
 * Pulumi mocks. index.ts next to it gathers those inputs for real.
 *
 * In your own project, import from the kit's package instead of the
 * relative path: `import { TestPod, type PodSpec } from "nfv-testpod-kit";`
 */
import * as pulumi from "@pulumi/pulumi";
import { stackNamePrefix, TestPod, validatePodSpec, type GuestImage, type HostFacts, type PodGuestSummary, type PodSpec } from "../../../components";

/** The lab host's name in the spec. */
export const LAB_HOST = "lab";

/**
 * The pod: one host, a VNF with one real-time vCPU, a traffic peer with none,
 * and a shared-memory ring between them. Small enough for a 2-CPU host.
 * A spec written in code is type-checked against the kit's PodSpec and then
 * validated like a stack file's (validatePodSpec).
 */
export function labPodSpec(uri: string): PodSpec {
    return {
        hosts: [
            {
                name: LAB_HOST,
                uri,
                // No topology: discoverHosts() reads it from libvirt.
                housekeepingCpus: "0",
                hugepages: [{ node: 0, size: "2M", count: 256 }],
            },
        ],
        guests: [
            { name: "vnf", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" },
            { name: "peer", vcpus: 1, rtVcpus: [], memory: "256M", pageSize: "2M" },
        ],
        links: [{ name: "ring0", size: "4M", members: ["vnf", "peer"] }],
    };
}

export interface LabPodOptions {
    /** Kernel and initrd every guest boots: ensureGuestImage() for real, any stand-in under mocks. */
    image: pulumi.Input<GuestImage>;
    /**
     * Topology and accelerator per host name, as discoverHosts() returns them.
     * @default none: every host gets TCG, and then the spec must declare its topology
     */
    hostFacts?: Record<string, HostFacts>;
    /**
     * libvirt URI of the lab host.
     * @default "qemu:///system": the system daemon, which can pin vCPUs and use hugepages
     */
    uri?: string;
    /**
     * Prefix of the libvirt domain and shm names.
     * @default "<project>-<stack>", so two stacks on one host never collide
     */
    namePrefix?: string;
}

/** What the program exports. */
export interface LabPodOutputs {
    /** The placement plan: which host CPU runs each vCPU, emulator and I/O thread. */
    placement: string;
    /** Each guest's domain, console log, boot time and observed pinning. */
    guests: pulumi.Output<Record<string, PodGuestSummary>>;
    /** Accelerator per host and why. */
    accel: Record<string, string>;
}

/**
 * Builds the pod: the spec is validated and planned once, then TestPod walks
 * the plan. Throws ProblemListError, before registering anything, when the
 * spec does not fit the host. `resourceOptions` go to the TestPod (a parent,
 * a provider, or a test's transformation that records the resource tree).
 */
export function createPod(opts: LabPodOptions, resourceOptions?: pulumi.ComponentResourceOptions): { pod: TestPod; outputs: LabPodOutputs } {
    const plan = validatePodSpec(labPodSpec(opts.uri ?? "qemu:///system"), {
        namePrefix: opts.namePrefix ?? stackNamePrefix(pulumi.getProject(), pulumi.getStack()),
        hostFacts: opts.hostFacts,
        // Errors then name a path in this program rather than a stack config key.
        specPath: "labPodSpec()",
    });
    // The host facts also give the readiness table (the running kernel against the plan's kernel arguments).
    const pod = new TestPod("lab", { plan, image: opts.image, hostFacts: opts.hostFacts }, resourceOptions);
    return { pod, outputs: { placement: pod.placementTable, guests: pod.guestSummaries, accel: pod.accel } };
}
