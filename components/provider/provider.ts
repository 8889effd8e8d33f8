/**
 * The nfvkit provider: the engine's resource calls routed by type token to
 * the module that does the work. It runs as a real provider plugin
 * (tools/provider/pulumi-resource-nfvkit), so a stack's state holds only
 * resource properties: no serialized code and no paths into a checkout, and
 * any checkout of the project can preview, refresh, update and destroy it.
 */
import type * as provider from "@pulumi/pulumi/provider";
import * as guestImage from "../host/guestImageOperations";
import * as hugepageReservation from "../host/hugepageOperations";
import * as rtHost from "../host/rtHostOperations";
import * as sriovPf from "../host/sriovOperations";
import * as domain from "../libvirt/domainOperations";
import * as shmRegion from "../libvirt/shmOperations";
import * as probeSuite from "../probes/suiteOperations";
import { tokens } from "../tokens";
import { urnParts, type ResourceOperations } from "./operations";

/** Reported to the engine; the kit's package version. */
export const providerVersion = "0.1.0";

const operationsByType: Record<string, ResourceOperations> = {
    [tokens.domain]: domain,
    [tokens.shmRegion]: shmRegion,
    [tokens.hugepageReservation]: hugepageReservation,
    [tokens.guestImage]: guestImage,
    [tokens.sriovPf]: sriovPf,
    [tokens.rtHost]: rtHost,
    [tokens.probeSuite]: probeSuite,
};

function operationsFor(urn: string): ResourceOperations {
    const type = urnParts(urn).type;
    const ops = operationsByType[type];
    if (!ops) {
        throw new Error(`the nfvkit provider has no resource type ${type}; it serves ${Object.keys(operationsByType).join(", ")}`);
    }
    return ops;
}

export const nfvkitProvider: provider.Provider = {
    version: providerVersion,
    async check(urn, olds, news) {
        const ops = operationsFor(urn);
        return ops.check ? ops.check(olds, news, { urn }) : { inputs: news };
    },
    diff: (id, urn, olds, news) => operationsFor(urn).diff(id, olds, news, { urn }),
    create: (urn, inputs) => operationsFor(urn).create(inputs, { urn }),
    read: (id, urn, props) => operationsFor(urn).read(id, props, { urn }),
    async update(id, urn, olds, news) {
        const ops = operationsFor(urn);
        if (!ops.update) throw new Error(`${urnParts(urn).type} cannot be updated in place; its diff should have asked for a replacement`);
        return ops.update(id, olds, news, { urn });
    },
    delete: (id, urn, props) => operationsFor(urn).delete(id, props, { urn }),
};
