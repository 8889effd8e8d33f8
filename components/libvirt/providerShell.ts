/**
 * The serializable half of the kit's dynamic providers.
 *
 * Pulumi serializes a dynamic provider as a closure and runs it later in a
 * separate Node.js process (the pulumi-nodejs provider host), without our
 * TypeScript loader. A closure that captured our modules would drag their
 * whole graph through the serializer, which breaks in ways that only show
 * under the real engine. So the closure captures one string, the absolute path
 * of the module that does the work, and loads that module with tsx's
 * programmatic require when a method is first called.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * One provider object per module. The SDK serializes each distinct provider
 * object once; handing every resource a new object made a 512-guest preview
 * serialize hundreds of identical closures (see docs/bench.md). The map is
 * not captured by the closures: they capture only `implPath`.
 */
const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

/** The provider whose methods are those of the module at `implPath`. */
export function makeProvider(implPath: string): pulumi.dynamic.ResourceProvider {
    let provider = providers.get(implPath);
    if (!provider) {
        provider = buildProvider(implPath);
        providers.set(implPath, provider);
    }
    return provider;
}

function buildProvider(implPath: string): pulumi.dynamic.ResourceProvider {
    const load = (): pulumi.dynamic.ResourceProvider => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const tsx = require("tsx/cjs/api");
        return tsx.require(implPath, implPath) as pulumi.dynamic.ResourceProvider;
    };
    return {
        check: (olds, news) => load().check!(olds, news),
        diff: (id, olds, news) => load().diff!(id, olds, news),
        create: (inputs) => load().create(inputs),
        read: (id, props) => load().read!(id, props),
        update: (id, olds, news) => load().update!(id, olds, news),
        delete: (id, props) => load().delete!(id, props),
    };
}
