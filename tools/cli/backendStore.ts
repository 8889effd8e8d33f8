/**
 * The few objects the kit reads and writes in a Pulumi state backend beside
 * the engine's own: the engine's lock objects (`.pulumi/locks/...`), read and
 * removed, and the kit's run records (`.nfvkit/runs/...`). Keys are the
 * engine's, relative to the backend's root, with `/` between parts.
 *
 * - `file://<folder>`: plain files. The engine's blob store keeps each file's
 *   attributes beside it (`<file>.attrs`); a removal takes both, as
 *   `pulumi cancel` does.
 * - `s3://<bucket>[/<folder>]?<params>`: through tools/engine/blob
 *   (`nfvkit-blob`, linked into .state/bin by tools/bootstrap.sh), which opens
 *   the bucket with the engine's own Go CDK driver, URL parameters and
 *   credential chain. The backend URL goes to it in the environment only.
 * - any other backend (Pulumi Cloud, gs://, azblob://): none; the kit keeps no
 *   record there and removes no lock.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { shellQuote } from "./lockOwner";

export interface BackendStore {
    /** Keys under `prefix` (which ends in `/`), deepest included; [] when there are none. Throws when the backend cannot be read. */
    list(prefix: string): string[];
    /** The object's text, or undefined when there is none. */
    read(key: string): string | undefined;
    write(key: string, text: string): void;
    /** Removes the object (and what the store keeps beside it); no error when it is gone already. */
    remove(key: string): void;
    /** Where the object is, in words a person can find it by (a path, an s3:// address). */
    where(key: string): string;
    /** A shell line that removes the object by hand, as `remove` does. */
    removeByHand(key: string): string;
}

/** The store of a backend URL, or undefined for a backend the kit does not read. */
export function backendStore(backendUrl: string | undefined): BackendStore | undefined {
    if (!backendUrl) return undefined;
    const folder = fileBackendFolder(backendUrl);
    if (folder !== undefined) return fileStore(folder);
    if (backendUrl.startsWith("s3://")) return bucketStore(backendUrl);
    return undefined;
}

/** The folder of a `file://` backend URL (its parameters, such as `metadata=skip`, left out), or undefined for any other backend. */
export function fileBackendFolder(backendUrl: string | undefined): string | undefined {
    return backendUrl?.startsWith("file://") ? backendUrl.slice("file://".length).replace(/\?.*$/, "") : undefined;
}

function fileStore(root: string): BackendStore {
    const file = (key: string) => path.join(root, ...key.split("/"));
    return {
        list(prefix) {
            let names: string[];
            try {
                names = readdirSync(file(prefix), { recursive: true }) as string[];
            } catch {
                return [];
            }
            return names.filter((n) => !n.endsWith(".attrs")).map((n) => prefix + n.split(path.sep).join("/"));
        },
        read(key) {
            try {
                return readFileSync(file(key), "utf8");
            } catch {
                return undefined;
            }
        },
        write(key, text) {
            mkdirSync(path.dirname(file(key)), { recursive: true });
            writeFileSync(file(key), text);
        },
        remove(key) {
            for (const f of [file(key), `${file(key)}.attrs`]) rmSync(f, { force: true });
        },
        where: (key) => file(key),
        removeByHand: (key) => `rm -f ${shellQuote(file(key))} ${shellQuote(`${file(key)}.attrs`)}`,
    };
}

/** tools/engine/blob exits 3 when the object is not there. */
const NOT_FOUND = 3;

function bucketStore(backendUrl: string): BackendStore {
    const url = new URL(backendUrl);
    const folder = url.pathname.replace(/^\/+/, "").replace(/([^/])$/, "$1/");
    const address = (key: string) => `s3://${url.host}/${folder}${key}`;
    // Found on PATH as the kit's commands set it (.state/bin first), or in this checkout's .state/bin.
    const PATH = [path.resolve(__dirname, "..", "..", ".state", "bin"), process.env.PATH].join(":");
    const blob = (args: string[], input?: string): { code: number; stdout: string } => {
        const r = spawnSync("nfvkit-blob", args, {
            env: { ...process.env, PATH, PULUMI_BACKEND_URL: backendUrl },
            input,
            encoding: "utf8",
            timeout: 60_000,
        });
        if (r.error)
            throw new Error(
                `cannot run nfvkit-blob, the kit's reader of s3:// backends (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): run npm run bootstrap, which builds it with Go`,
            );
        if (r.status !== 0 && r.status !== NOT_FOUND) throw new Error(`nfvkit-blob ${args[0]} ${address(args[1])} failed: ${r.stderr.trim()}`);
        return { code: r.status ?? 1, stdout: r.stdout };
    };
    // `aws s3 rm` names an S3-compatible store by --endpoint-url, as the backend URL's endpoint parameter does.
    const endpoint = url.searchParams.get("endpoint");
    return {
        list: (prefix) => JSON.parse(blob(["list", prefix]).stdout) as string[],
        read(key) {
            const r = blob(["get", key]);
            return r.code === NOT_FOUND ? undefined : r.stdout;
        },
        write: (key, text) => void blob(["put", key], text),
        remove: (key) => void blob(["delete", key]),
        where: address,
        removeByHand: (key) => `aws s3 rm ${shellQuote(address(key))}${endpoint ? ` --endpoint-url ${shellQuote(endpoint)}` : ""}`,
    };
}
