/**
 * Pulumi's public mocks (`pulumi.runtime.setMocks`) for the library tests:
 * every resource a program registers is recorded with its inputs, and the
 * mock answers with exactly what the kit asked for (its inputs, an id), no
 * more. What only a provider can know (a guest's boot time, the pins libvirt
 * reports after start, a probe's verdict) stays unset here: the real tests
 * (tests/provider, tests/e2e) prove those.
 *
 * Parents: the mocks API does not pass a resource's parent to `newResource`.
 * A test that checks the resource tree builds its top component with
 * `recordParents()` as its options: a resource transformation (public resource
 * option, applied by the SDK to the component and every child) notes each
 * resource's parent as the program gave it. Call `recordResources` once per test
 * file, before importing the components.
 */
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /**
     * URN of the parent as the program gave it ("" at the top of the program); undefined
     * when the resource was not built under `recordParents()`.
     */
    parent: string | undefined;
}

/** Each resource built under recordParents(), by type and name, and the parent the program gave it. */
const parents = new Map<string, pulumi.Resource | undefined>();

/** Resource options that note the parent of this resource and of every child (see the file's comment). */
export function recordParents(): pulumi.ComponentResourceOptions {
    return {
        transformations: [
            (args) => {
                parents.set(`${args.type}::${args.name}`, args.opts.parent);
                return undefined;
            },
        ],
    };
}

/** Installs the mocks for `project`/`stack` and returns the list they fill. */
export function recordResources(project: string, stack = "unit"): Registered[] {
    const registered: Registered[] = [];
    pulumi.runtime.setMocks(
        {
            async newResource(args) {
                const key = `${args.type}::${args.name}`;
                const parent = parents.get(key);
                // The SDK sends a child only once its parent's URN is known, so this settles at once.
                const parentUrn = parents.has(key) ? (parent ? await settle(parent.urn) : "") : undefined;
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, parent: parentUrn });
                const id = `${args.name}-id`;
                // A StackLineage's id is its lineage, as the provider's create makes it.
                return { id, state: args.type === "nfvkit:pod:StackLineage" ? { lineage: id } : args.inputs };
            },
            call: (args) => args.inputs,
        },
        project,
        stack,
        false,
    );
    return registered;
}

/** The value of an Output once the mocks have resolved it. */
export function settle<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply(resolve));
}
