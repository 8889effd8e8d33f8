/** A test's own scratch folder: config variants, XML files and other files a test writes and no one needs after it. */
import type { ExecutionContext } from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * A new folder under the system's temp folder, named `<prefix>XXXXXX`, removed when the test ends, passed or failed:
 * some of what tests write there holds a key (encrypted, but still a key), and none of it may pile up in /tmp.
 */
export function scratchFolder(t: ExecutionContext, prefix: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
}
