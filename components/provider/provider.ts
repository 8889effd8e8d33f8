/**
 * The nfvkit provider: the engine's resource calls routed by type token to
 * the module that does the work. It runs as a real provider plugin
 * (tools/provider/pulumi-resource-nfvkit), so a stack's state holds only
 * resource properties: no serialized code and no paths into a checkout, and
 * any checkout of the project can preview, refresh, update and destroy it.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { timed } from "../timing";
import { tokens } from "../tokens";
import { urnParts, type ResourceOperations } from "../types/operations";

/** Reported to the engine; the kit's package version. */
export const providerVersion = "0.1.0";

/**
 * Each type's module is loaded on its first call: the plugin starts on every
 * `up`, `preview` and `destroy`, and most stacks use a few of the types (the
 * probe suite's parsers and report writers are the largest part of the kit).
 */
const operationsByType: Record<string, () => Promise<ResourceOperations>> = {
    [tokens.domain]: () => import("../libvirt/domainOperations"),
    [tokens.shmRegion]: () => import("../libvirt/shmOperations"),
    [tokens.hugepageReservation]: () => import("../host/hugepageOperations"),
    [tokens.guestImage]: () => import("../host/guestImageOperations"),
    [tokens.sriovPf]: () => import("../host/sriovOperations"),
    [tokens.rtHost]: () => import("../host/rtHostOperations"),
    [tokens.probeSuite]: () => import("../probes/suiteOperations"),
};

async function operationsFor(urn: string): Promise<ResourceOperations> {
    const type = urnParts(urn).type;
    const load = operationsByType[type];
    if (!load) {
        // The engine only asks for the types the kit registered: another one is a bug of the kit (plain Error).
        throw new Error(`the nfvkit provider has no resource type ${type}; it serves ${Object.keys(operationsByType).join(", ")}`);
    }
    return load();
}

/** "Domain", "HugepageReservation", ...: the type as the bench's breakdown names it. */
function shortType(urn: string): string {
    return urnParts(urn).type.split(":").pop() ?? "";
}

export const nfvkitProvider: provider.Provider = {
    version: providerVersion,
    async check(urn, olds, news) {
        const ops = await operationsFor(urn);
        return ops.check ? ops.check(olds, news, { urn }) : { inputs: news };
    },
    diff: async (id, urn, olds, news) => (await operationsFor(urn)).diff(id, olds, news, { urn }),
    create: (urn, inputs) => timed(`${shortType(urn)} create`, urnParts(urn).name, async () => (await operationsFor(urn)).create(inputs, { urn })),
    read: async (id, urn, props) => (await operationsFor(urn)).read(id, props, { urn }),
    async update(id, urn, olds, news) {
        const ops = await operationsFor(urn);
        if (!ops.update) throw new Error(`${urnParts(urn).type} cannot be updated in place; its diff should have asked for a replacement`);
        return ops.update(id, olds, news, { urn });
    },
    delete: (id, urn, props) => timed(`${shortType(urn)} delete`, urnParts(urn).name, async () => (await operationsFor(urn)).delete(id, props, { urn })),
};
