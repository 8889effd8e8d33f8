/**
 * Pulumi mocks that record every resource a program registers, with its
 * parent, so unit tests can assert the resource graph a user would see in a
 * preview. Call once per test file, before importing the components.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";

export interface Registered {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** URN of the parent, as the program sent it to the engine ("" for the stack). */
    parent: string;
}

/** Installs the mocks for `project`/`stack` and returns the list they fill. */
export function recordResources(project: string, stack = "unit"): Registered[] {
    const registered: Registered[] = [];
    // The mocks API does not pass the parent to newResource; the monitor's request carries it.
    const parentOf = new Map<string, string>();
    const monitorRegister = MockMonitor.prototype.registerResource;
    MockMonitor.prototype.registerResource = function (req: any, callback: any) {
        parentOf.set(`${req.getType()}::${req.getName()}`, req.getParent());
        return monitorRegister.call(this, req, callback);
    };
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                registered.push({ type: args.type, name: args.name, inputs: args.inputs, parent: parentOf.get(`${args.type}::${args.name}`) ?? "" });
                // Dynamic resources echo their inputs and report what they verified, as the real providers do.
                return {
                    id: `${args.name}-id`,
                    state: {
                        ...args.inputs,
                        uuid: `${args.name}-uuid`,
                        bootSeconds: 2.5,
                        observedVcpuPins: args.inputs.cputune?.vcpuPins,
                    },
                };
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
