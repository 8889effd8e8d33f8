import * as pulumi from "@pulumi/pulumi";
import type { HostTarget } from "../host/access";
import { ShmRegion } from "../libvirt/ShmRegion";
import type { LinkPlan } from "../plan/podPlan";
import { tokens } from "../tokens";

export interface IvshmemLinkArgs {
    /** The link as planned from the pod spec: its host's URI, backing file, size (a power of two) and members. */
    link: LinkPlan;
    /** How the link's host is reached for the backing file. @default this machine */
    access?: pulumi.Input<HostTarget>;
    /**
     * The stack's lineage (a StackLineage's `lineage`), stamped on the file's ledger entry with its
     * URN, so a stack of the same name in another backend never takes or removes it (docs/ownership.md).
     * @default none: the URN alone owns the file
     */
    lineage?: pulumi.Input<string>;
}

/**
 * Shared memory between two or more guests on one host (ivshmem-plain).
 * Each member guest carries a `<shmem>` device of this link's name and size;
 * this component owns the host file behind it, so member guests depend on it
 * and a destroy removes the file after the last member is gone.
 */
export class IvshmemLink extends pulumi.ComponentResource {
    /** Host path of the shared-memory file. */
    readonly path: pulumi.Output<string>;
    /** Region size in bytes. */
    readonly sizeBytes: pulumi.Output<number>;
    /** Names of the member guests. */
    readonly members: pulumi.Output<string[]>;

    constructor(name: string, args: IvshmemLinkArgs, opts?: pulumi.ComponentResourceOptions) {
        super(tokens.ivshmemLink, name, {}, opts);
        const region = createLinkRegion(name, args, { parent: this });
        this.path = region.path;
        this.sizeBytes = region.sizeBytes;
        this.members = pulumi.output(args.link.members);
        this.registerOutputs({ path: this.path, sizeBytes: this.sizeBytes, members: this.members });
    }
}

/**
 * The link's one resource: the host file behind it, named `<name>-shm`.
 * IvshmemLink parents it to itself; a large TestPod registers it directly
 * (TestPodArgs.guestComponents).
 */
export function createLinkRegion(name: string, args: IvshmemLinkArgs, opts: pulumi.CustomResourceOptions): ShmRegion {
    const { link } = args;
    return new ShmRegion(
        `${name}-shm`,
        {
            uri: link.uri,
            path: link.path,
            sizeBytes: link.size.bytes,
            hugepages: link.hugepages,
            ...(args.access ? { access: args.access } : {}),
            ...(args.lineage ? { lineage: args.lineage } : {}),
        },
        opts,
    );
}
