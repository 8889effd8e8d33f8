import * as pulumi from "@pulumi/pulumi";
import { ShmRegion } from "../libvirt/ShmRegion";
import type { ResolvedLink } from "../spec/resolve";
import { tokens } from "../tokens";

export interface IvshmemLinkArgs {
    /** The link as resolved from the pod spec (size checked to be a power of two, members known). */
    link: ResolvedLink;
    /** libvirt URI of the host all members run on (ivshmem shares memory within one host). */
    uri: string;
    /**
     * Directory of the backing file.
     * @default "/dev/shm": libvirt's `<shmem>` always maps /dev/shm/<name>.
     */
    directory?: string;
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
        const region = new ShmRegion(
            `${name}-shm`,
            { uri: args.uri, path: `${args.directory ?? "/dev/shm"}/${args.link.shmName}`, sizeBytes: args.link.sizeBytes, hugepages: args.link.hugepages },
            { parent: this },
        );
        this.path = region.path;
        this.sizeBytes = region.sizeBytes;
        this.members = pulumi.output(args.link.members);
        this.registerOutputs({ path: this.path, sizeBytes: this.sizeBytes, members: this.members });
    }
}
