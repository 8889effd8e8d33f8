/**
 * The kit's bookkeeping on a host, for what the kit holds there but cannot
 * label in place: hugepages added to a pool, and shm files. One small JSON
 * file per resource, named by a hash of its URN, says which resource holds
 * what. After a crash, a create finds its own entry and adopts what the dead
 * run left instead of taking it twice; a refresh reads it to say what is held.
 * The entries live on the host they describe, reached through its HostAccess.
 *
 * An entry carries its resource's URN and its stack's lineage
 * (types/ownership.ts): the same URN from another state (a stack of the same
 * name in another backend) lands on the same file, and is foreign: it is
 * read as absent by this resource, never overwritten and never removed.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import { isOwnStamp, stampOf, type Owner, type OwnerStamp } from "../types/ownership";
import type { HostAccess } from "./access";

/** Where the entries live; root-owned, outside any checkout, shared by every stack on the host. */
export const ledgerRoot = process.env.NFVKIT_LEDGER_DIR ?? "/var/lib/nfvkit/ledger";

export interface LedgerEntry<T> extends OwnerStamp {
    /** What it holds, in the resource's own terms. */
    holds: T;
}

/** The file of the entry of resource `urn` on its host (named by a hash of the URN), for messages that say which file to look at or remove by hand. */
export function entryPath(kind: string, urn: string): string {
    return path.join(ledgerRoot, kind, `${createHash("sha256").update(urn).digest("hex").slice(0, 32)}.json`);
}

/** The entry in `owner`'s place, whoever's it is: `readEntry` for the owner's own, `foreignEntry` for another state's. */
async function entryAt<T>(host: HostAccess, kind: string, urn: string): Promise<LedgerEntry<T> | undefined> {
    const text = await host.tryReadFile(entryPath(kind, urn));
    if (text === undefined) return undefined;
    const entry = JSON.parse(text) as LedgerEntry<T>;
    return entry.urn === urn ? entry : undefined;
}

/** The owner's own entry; undefined when there is none, or when the one in its place is another state's. */
export async function readEntry<T>(host: HostAccess, kind: string, owner: Owner): Promise<LedgerEntry<T> | undefined> {
    const entry = await entryAt<T>(host, kind, owner.urn);
    return entry && isOwnStamp(entry, owner) ? entry : undefined;
}

/** The entry in the owner's place when it is not the owner's: the same URN, stamped by another state. */
export async function foreignEntry<T>(host: HostAccess, kind: string, owner: Owner): Promise<LedgerEntry<T> | undefined> {
    const entry = await entryAt<T>(host, kind, owner.urn);
    return entry && !isOwnStamp(entry, owner) ? entry : undefined;
}

/**
 * Writes atomically (write, then rename), so a crash leaves the old entry or
 * the new one, never half of one. Callers check `foreignEntry` first: this
 * stamps the entry as the owner's.
 */
export async function writeEntry<T>(host: HostAccess, kind: string, owner: Owner, holds: T): Promise<void> {
    await writeWhole(host, kind, { ...stampOf(owner), holds } satisfies LedgerEntry<T>);
}

/**
 * Writes back an entry as it was read, every field (its owner stamp included) kept, with what it holds changed:
 * how one resource settles another's interrupted change (a hugepage pool's) without restamping the entry as its own.
 */
export async function rewriteEntry<T>(host: HostAccess, kind: string, entry: LedgerEntry<T>, holds: T): Promise<void> {
    await writeWhole(host, kind, { ...entry, holds });
}

async function writeWhole<T>(host: HostAccess, kind: string, entry: LedgerEntry<T>): Promise<void> {
    const file = entryPath(kind, entry.urn);
    await host.mkdir(path.dirname(file));
    await host.writeFile(`${file}.tmp`, JSON.stringify(entry, null, 2));
    await host.run(["mv", "-f", `${file}.tmp`, file]);
}

/** Removes the owner's entry; another state's entry in its place stays. */
export async function removeEntry(host: HostAccess, kind: string, owner: Owner): Promise<void> {
    if (await foreignEntry(host, kind, owner)) return;
    await host.remove(entryPath(kind, owner.urn));
}

/** Every entry of a kind, e.g. to find which resource holds a file. */
export async function listEntries<T>(host: HostAccess, kind: string): Promise<LedgerEntry<T>[]> {
    const dir = path.join(ledgerRoot, kind);
    if (!(await host.exists(dir))) return [];
    const entries: LedgerEntry<T>[] = [];
    for (const name of (await host.listDir(dir)).filter((n) => n.endsWith(".json"))) {
        const text = await host.tryReadFile(path.join(dir, name));
        if (text !== undefined) entries.push(JSON.parse(text) as LedgerEntry<T>);
    }
    return entries;
}
