/**
 * Who made a domain: the kit stamps the creating resource's URN, its stack's
 * lineage (types/ownership.ts) and a hash of the definition into the domain's
 * own `<metadata>` (libvirt keeps it for the application), so that after a
 * crash a create can tell its own domain (adopt it) from a foreign one
 * (refuse it, naming the owner), and a refresh can tell it from a look-alike.
 * The domain's name stays the readable `<project>-<stack>-<guest>`: the
 * lineage is in the stamp, not in the name.
 */
import { createHash } from "node:crypto";
import { isNoDomain, type HostAccess } from "../host/access";
import { NFVKIT_METADATA_NAMESPACE } from "../render/domainXml";
import { xmlEscape } from "../render/xml";
import { problemError, type ProblemListError } from "../spec/problems";
import { describeStamp, foreignFix, stampOf, type Owner, type OwnerStamp } from "../types/ownership";

/** Who made a domain: the URN and lineage stamped in its metadata, and a hash of the definition it was given. */
export interface DomainOwner {
    uuid: string;
    /** URN of the resource that created it; "" for a domain the kit did not create. */
    owner: string;
    /** Lineage of that resource's stack; absent when a kit from before lineages made it. */
    lineage?: string;
    definition: string;
}

/** The domain's stamp, for isOwnStamp. */
export function stampOfDomain(domain: DomainOwner): OwnerStamp {
    return { urn: domain.owner, ...(domain.lineage ? { lineage: domain.lineage } : {}) };
}

/** The owner stamp of the domain `name`, or undefined when there is no such domain. */
export async function ownerOf(host: HostAccess, name: string): Promise<DomainOwner | undefined> {
    let xml: string;
    try {
        xml = await host.virsh(["dumpxml", "--inactive", name]);
    } catch (err) {
        if (isNoDomain(err)) return undefined;
        throw err;
    }
    const entry = (key: string) => unescapeXml(new RegExp(`<(?:\\w+:)?entry key=["']${key}["']>([^<]*)<`).exec(xml)?.[1] ?? "");
    const lineage = entry("lineage");
    return { uuid: /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1] ?? "", owner: entry("owner"), ...(lineage ? { lineage } : {}), definition: entry("definition") };
}

/** A domain of the same name that is not this resource's: the name the stack gives it is the input at fault. */
export function foreignDomainError(uri: string, name: string, existing: DomainOwner, owner: Owner): ProblemListError {
    const whose = existing.owner ? `it belongs to ${describeStamp(stampOfDomain(existing), owner)}` : "the kit did not create it";
    const byHand = `remove it (virsh -c ${uri} destroy ${name}; virsh -c ${uri} undefine ${name})`;
    return problemError(
        "domain",
        "name",
        name,
        `is taken: a domain named ${name} already exists on ${uri} and ${whose}, so this stack leaves it alone`,
        existing.owner ? foreignFix(owner, stampOfDomain(existing), byHand) : `${byHand} or choose another namePrefix, then run again`,
    );
}

/**
 * Stamps the creating resource's URN, its stack's lineage and a hash of the
 * definition into the kit's `<metadata>` element, so that after a crash a
 * create can tell its own domain (adopt it) from a foreign one (refuse it),
 * and a refresh can tell it from a look-alike.
 */
export function stampOwner(xml: string, owner: Owner, definition: string): string {
    const stamp = stampOf(owner);
    const entries =
        `<nfvkit:entry key='owner'>${xmlEscape(stamp.urn)}</nfvkit:entry>` +
        (stamp.lineage ? `<nfvkit:entry key='lineage'>${xmlEscape(stamp.lineage)}</nfvkit:entry>` : "") +
        `<nfvkit:entry key='definition'>${definition}</nfvkit:entry>`;
    const kit = /<nfvkit:kit\b[^>]*>/.exec(xml);
    if (kit) return xml.slice(0, kit.index + kit[0].length) + entries + xml.slice(kit.index + kit[0].length);
    const block = `<metadata><nfvkit:kit xmlns:nfvkit='${NFVKIT_METADATA_NAMESPACE}'>${entries}</nfvkit:kit></metadata>`;
    return xml.replace(/(<\/name>)/, `$1${block}`);
}

export function definitionHash(xml: string): string {
    return `sha256:${createHash("sha256").update(xml).digest("hex").slice(0, 32)}`;
}

function unescapeXml(text: string): string {
    return text
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
}
