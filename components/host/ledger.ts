/**
 * The kit's bookkeeping on a host, for what the kit holds there but cannot
 * label in place: hugepages added to a pool, and shm files. One small JSON
 * file per resource, named by a hash of its URN, says which resource holds
 * what. After a crash, a create finds its own entry and adopts what the dead
 * run left instead of taking it twice; a refresh reads it to say what is held.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";

/** Where the entries live; root-owned, outside any checkout, shared by every stack on the host. */
export const ledgerRoot = process.env.NFVKIT_LEDGER_DIR ?? "/var/lib/nfvkit/ledger";

export interface LedgerEntry<T> {
    /** The resource that holds it. */
    urn: string;
    /** What it holds, in the resource's own terms. */
    holds: T;
}

function entryPath(kind: string, urn: string): string {
    return path.join(ledgerRoot, kind, `${createHash("sha256").update(urn).digest("hex").slice(0, 32)}.json`);
}

export async function readEntry<T>(kind: string, urn: string): Promise<LedgerEntry<T> | undefined> {
    const text = await fs.readFile(entryPath(kind, urn), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const entry = JSON.parse(text) as LedgerEntry<T>;
    return entry.urn === urn ? entry : undefined;
}

/** Writes atomically (rename), so a crash leaves the old entry or the new one, never half of one. */
export async function writeEntry<T>(kind: string, urn: string, holds: T): Promise<void> {
    const file = entryPath(kind, urn);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(`${file}.tmp`, JSON.stringify({ urn, holds } satisfies LedgerEntry<T>, null, 2));
    await fs.rename(`${file}.tmp`, file);
}

export async function removeEntry(kind: string, urn: string): Promise<void> {
    await fs.rm(entryPath(kind, urn), { force: true });
}

/** Every entry of a kind, e.g. to find which resource holds a file. */
export async function listEntries<T>(kind: string): Promise<LedgerEntry<T>[]> {
    const dir = path.join(ledgerRoot, kind);
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const entries: LedgerEntry<T>[] = [];
    for (const name of names.filter((n) => n.endsWith(".json"))) {
        const text = await fs.readFile(path.join(dir, name), "utf8").catch(() => undefined);
        if (text !== undefined) entries.push(JSON.parse(text) as LedgerEntry<T>);
    }
    return entries;
}
