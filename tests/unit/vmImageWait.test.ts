/**
 * Two asks for the lab VM disk at once (CI's background build and the lab VM
 * test, or two terminals running `npm run lab -- up --kind vm`): the second
 * waits for the build under way instead of starting its own
 * (tools/lab/vm/image.ts). Only a live builder is waited for: a failed build's
 * folder, kept for a look, or one whose pid now belongs to another process,
 * must not hold anyone up for good.
 */
import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { processStart } from "../../components/host/access/sshDir";
import { BUILDER_FILE, buildUnderWay } from "../../tools/lab/vm/image";

/** A cache folder with one work folder of image `image-abc` whose builder record says `builder`. */
function cacheWith(builder: object | undefined, pidInName = 4242): string {
    const cache = mkdtempSync(path.join(tmpdir(), "nfvkit-vmimage-"));
    const work = path.join(cache, `image-abc.building-${pidInName}`);
    mkdirSync(work);
    if (builder !== undefined) writeFileSync(path.join(work, BUILDER_FILE), JSON.stringify(builder));
    return cache;
}

test("a build under way by a live process is found, by that process's pid", async (t) => {
    const builder = spawn("sleep", ["30"]);
    t.teardown(() => builder.kill());
    const cache = cacheWith({ pid: builder.pid, start: processStart(builder.pid!) }, builder.pid);
    t.teardown(() => rmSync(cache, { recursive: true, force: true }));
    t.is(buildUnderWay(path.join(cache, "image-abc")), builder.pid);
    t.is(buildUnderWay(path.join(cache, "image-other")), undefined, "another recipe's build is not this image's");
});

test("a failed build's folder (its builder gone), a reused pid, and a folder with no record are not waited for", (t) => {
    const gone = spawnSync("true").pid;
    // This test's own parent is alive, but did not start when the record says: its pid was reused.
    const reused = { pid: process.ppid, start: processStart(process.ppid) + 1 };
    for (const [what, builder] of [
        ["builder gone", { pid: gone, start: 1 }],
        ["pid reused", reused],
        ["no record", undefined],
    ] as const) {
        const cache = cacheWith(builder);
        t.teardown(() => rmSync(cache, { recursive: true, force: true }));
        t.is(buildUnderWay(path.join(cache, "image-abc")), undefined, what);
    }
});
