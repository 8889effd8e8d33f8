/**
 * The kit's bookkeeping on a host, for what the kit holds there but cannot
 * label in place: hugepages added to a pool, and shm files. One small JSON
 * file per resource, named by a hash of its URN, says which resource holds
 * what. After a crash, a create finds its own entry and adopts what the dead
 * run left instead of taking it twice; a refresh reads it to say what is held.
 * The entries live on the host they describe, reached through its HostAccess.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";
import type { HostAccess } from "./access";

/** Where the entries live; root-owned, outside any checkout, shared by every stack on the host. */
export const ledgerRoot = process.env.NFVKIT_LEDGER_DIR ?? "/var/lib/nfvkit/ledger";

export interface LedgerEntry<T> {
    /** The resource that holds it. */
    urn: string;
    /** What it holds, in the resource's own terms. */
    holds: T;
}

/** The entry's file on its host (named by a hash of the URN), for messages that say which file to look at. */
export function entryPath(kind: string, urn: string): string {
    return path.join(ledgerRoot, kind, `${createHash("sha256").update(urn).digest("hex").slice(0, 32)}.json`);
}

export async function readEntry<T>(host: HostAccess, kind: string, urn: string): Promise<LedgerEntry<T> | undefined> {
    const text = await host.tryReadFile(entryPath(kind, urn));
    if (text === undefined) return undefined;
    const entry = JSON.parse(text) as LedgerEntry<T>;
    return entry.urn === urn ? entry : undefined;
}

/** Writes atomically (write, then rename), so a crash leaves the old entry or the new one, never half of one. */
export async function writeEntry<T>(host: HostAccess, kind: string, urn: string, holds: T): Promise<void> {
    await writeWhole(host, kind, { urn, holds } satisfies LedgerEntry<T>);
}

/**
 * Writes back an entry as it was read, every field kept, with what it holds changed: how one resource
 * settles another's interrupted change (a hugepage pool's) without restamping the entry as its own.
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

export async function removeEntry(host: HostAccess, kind: string, urn: string): Promise<void> {
    await host.remove(entryPath(kind, urn));
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
