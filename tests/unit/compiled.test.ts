/**
 * tools/engine/compiled.cjs: the program and the provider plugins run from a
 * bundle that is kept while its sources are unchanged, rebuilt when one
 * changes, and in which each module still sees its own __dirname.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../tools/cli/engine";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { bundleFor } = require("../../tools/engine/compiled.cjs") as { bundleFor: (entry: string) => string };

test("a bundle is reused while its sources are unchanged and rebuilt when one changes; __dirname stays the source's", (t) => {
    // Inside the kit (under .state/, ignored by git): the bundler only inlines the kit's own files.
    mkdirSync(path.join(projectRoot, ".state"), { recursive: true });
    const dir = mkdtempSync(path.join(projectRoot, ".state", "test-compiled-"));
    const bundles: string[] = [];
    try {
        mkdirSync(path.join(dir, "sub"));
        const entry = path.join(dir, "entry.ts");
        writeFileSync(entry, `import { where, value } from "./sub/dep";\nexport = { where, value, entryDir: __dirname };\n`);
        writeFileSync(path.join(dir, "sub", "dep.ts"), `export const where: string = __dirname;\nexport const value = 1;\n`);

        const first = bundleFor(entry);
        bundles.push(first);
        t.is(bundleFor(entry), first, "nothing changed: the same bundle");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const loaded = require(first) as { where: string; value: number; entryDir: string };
        t.deepEqual(loaded, { where: path.join(dir, "sub"), value: 1, entryDir: dir });

        writeFileSync(path.join(dir, "sub", "dep.ts"), `export const where: string = __dirname;\nexport const value = 2;\n`);
        const second = bundleFor(entry);
        bundles.push(second);
        t.not(second, first, "a source changed: a new bundle");
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        t.is((require(second) as { value: number }).value, 2);
    } finally {
        rmSync(dir, { recursive: true, force: true });
        // The test entry's manifest and bundles: <entry>-<path hash>.json and <entry>-<path hash>-<key>.js(.map).
        for (const b of bundles) {
            const stem = path.basename(b).replace(/-[0-9a-f]{16}\.js$/, "");
            for (const f of readdirSync(path.dirname(b))) if (f.startsWith(stem)) rmSync(path.join(path.dirname(b), f), { force: true });
        }
    }
});

test("a started entry point leaves V8's compiled code in the compile cache, for the next start to reuse", (t) => {
    // Node 22's module compile cache; the Node 20 some machines have first on PATH has none, and runs as before.
    const node = path.join(projectRoot, "node_modules", ".bin", "node");
    const cache = mkdtempSync(path.join(os.tmpdir(), "nfvkit-compile-cache-"));
    mkdirSync(path.join(projectRoot, ".state"), { recursive: true });
    const dir = mkdtempSync(path.join(projectRoot, ".state", "test-compiled-"));
    try {
        const entry = path.join(dir, "entry.ts");
        writeFileSync(entry, `import * as pulumi from "@pulumi/pulumi";\nconsole.log(typeof pulumi.Config);\n`);
        // The cache is written as soon as the entry has loaded: the engine ends its plugins with a signal, and
        // a process that never exits by itself would otherwise never write it.
        const run = spawnSync(node, [path.join(projectRoot, "tools", "engine", "compiled.cjs"), entry], {
            env: { ...process.env, NODE_COMPILE_CACHE: cache },
            encoding: "utf8",
        });
        t.is(run.stdout.trim(), "function", run.stderr);
        const files = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
        t.true(files.length > 10, `the cache holds ${files.length} files`);
    } finally {
        const bundle = bundleFor(path.join(dir, "entry.ts"));
        const stem = path.basename(bundle).replace(/-[0-9a-f]{16}\.js$/, "");
        for (const f of readdirSync(path.dirname(bundle))) if (f.startsWith(stem)) rmSync(path.join(path.dirname(bundle), f), { force: true });
        rmSync(dir, { recursive: true, force: true });
        rmSync(cache, { recursive: true, force: true });
    }
});
