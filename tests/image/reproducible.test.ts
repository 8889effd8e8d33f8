/**
 * The guest image is reproducible and cached: two builds into two cache dirs
 * give the same hash and byte-identical files, and asking again for a cached
 * image returns the same paths without rebuilding.
 */
import test from "ava";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ensureGuestImage } from "../../guest-images/build";

function digest(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

test("two builds into two cache dirs give the same hash and byte-identical images", async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "nfvkit-image-repro-"));
    t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
    const log = (l: string) => t.log(l);

    const a = await ensureGuestImage({ cacheDir: path.join(root, "a"), log });
    const b = await ensureGuestImage({ cacheDir: path.join(root, "b"), log });
    t.is(a.hash, b.hash);
    t.not(a.initrd, b.initrd);
    t.is(digest(a.initrd), digest(b.initrd));
    t.is(digest(a.kernel), digest(b.kernel));
    t.deepEqual(a.tools, b.tools);
    t.is(a.initrd, path.join(root, "a", a.hash, "initrd.img"));

    // Cache dirs and files must be readable by libvirt's QEMU process.
    for (const p of [path.join(root, "a"), path.dirname(a.initrd)]) t.is(fs.statSync(p).mode & 0o777, 0o755, p);
    for (const p of [a.initrd, a.kernel]) t.is(fs.statSync(p).mode & 0o777, 0o644, p);

    // Nothing changed: the same image comes back from the cache, not rebuilt.
    const before = fs.statSync(a.initrd);
    const started = Date.now();
    const again = await ensureGuestImage({ cacheDir: path.join(root, "a"), log });
    const cachedMs = Date.now() - started;
    t.log(`cached lookup took ${cachedMs} ms`);
    t.deepEqual(again, a);
    t.is(fs.statSync(a.initrd).mtimeMs, before.mtimeMs);
    t.true(cachedMs < 15_000, `cached lookup took ${cachedMs} ms`);
});
