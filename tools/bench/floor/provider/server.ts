/**
 * The floor's provider plugin: a provider server that accepts every input and
 * changes nothing, so a preview of the floor program costs what the SDK and
 * the engine cost and nothing else. Started by pulumi-resource-floor.
 */
import { main, type Provider } from "@pulumi/pulumi/provider";

const floor: Provider = {
    version: "0.0.1",
    async check(_urn, _olds, news) {
        return { inputs: news };
    },
    async diff() {
        return { changes: false };
    },
    async create(_urn, inputs) {
        return { id: "floor", outs: inputs };
    },
};

// Like the kit's plugin: gone with the engine, even when the CLI was killed.
const engine = process.ppid;
setInterval(() => process.ppid !== engine && process.exit(1), 500).unref();
void main(floor, process.argv.slice(2));
