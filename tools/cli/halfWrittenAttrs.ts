/**
 * A `file://` backend keeps each object's attributes in a sidecar beside it
 * (`<file>.attrs`, JSON). The engine's blob store writes the object itself
 * atomically (a temporary file, then a rename), but it writes the sidecar in
 * place: it truncates it, then writes it. A CLI killed with SIGKILL between
 * the two leaves an empty sidecar beside the stack's checkpoint, and from then
 * on every command on the stack, `stack select` included, fails with "failed
 * to load checkpoint: EOF", with no word of which file is at fault.
 *
 * A sidecar holds no state: the store reads an object with no sidecar as one
 * with default attributes. So a sidecar that is not JSON is removed, out
 * loud, before the kit's commands reach the stack; the checkpoint itself is
 * never touched. The kit's own backend writes no sidecars (engine.ts asks for
 * `metadata=skip`); this repairs those a team's own `file://` URL writes, and
 * those written before.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { fileBackendFolder } from "./backendStore";

const SIDECAR = ".attrs";

/**
 * Removes the half-written sidecars of a stack's objects in a `file://`
 * backend: its checkpoint and the checkpoint's backup (every compression),
 * its locks, its update history and checkpoint copies, and the backend's
 * metadata file. Says each one it removes; returns
 * their paths. Other backends and a backend folder that is not there: nothing.
 */
export function removeHalfWrittenAttrs(backendUrl: string | undefined, project: string, stack: string, log: (line: string) => void): string[] {
    const folder = fileBackendFolder(backendUrl);
    if (folder === undefined) return [];
    const root = path.join(folder, ".pulumi");
    // A qualified name (organization/project/stack) is kept under the stack's own name.
    const name = stack.split("/").pop()!;
    const candidates = [
        ...sidecarsIn(path.join(root, "stacks", project), (f) => f.startsWith(`${name}.json`)),
        ...sidecarsIn(path.join(root, "locks", "organization", project, name), () => true),
        // The update records and the checkpoint copies the engine writes with each update.
        ...sidecarsIn(path.join(root, "history", project, name), () => true),
        ...sidecarsIn(path.join(root, "backups", project, name), () => true),
        path.join(root, `meta.yaml${SIDECAR}`),
    ];
    const removed: string[] = [];
    for (const sidecar of candidates) {
        let text: string;
        try {
            text = readFileSync(sidecar, "utf8");
        } catch {
            continue; // gone, or never written: the store reads default attributes
        }
        if (isJson(text)) continue;
        rmSync(sidecar, { force: true });
        removed.push(sidecar);
        log(
            `Removed ${sidecar}: a pulumi killed while it wrote this attributes file left it ${text.length === 0 ? "empty" : "cut short"}, ` +
                `and the engine cannot read ${path.basename(sidecar, SIDECAR)} beside it while it is there. The file it describes is untouched.`,
        );
    }
    return removed;
}

function sidecarsIn(dir: string, keep: (file: string) => boolean): string[] {
    let files: string[];
    try {
        files = readdirSync(dir);
    } catch {
        return [];
    }
    return files.filter((f) => f.endsWith(SIDECAR) && keep(f)).map((f) => path.join(dir, f));
}

function isJson(text: string): boolean {
    try {
        JSON.parse(text);
        return true;
    } catch {
        return false;
    }
}
