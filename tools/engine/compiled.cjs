// Runs the kit's TypeScript entry points (the Pulumi program, the provider
// plugins) as plain JavaScript, compiled once instead of at every start.
//
// Why: every `pulumi up/preview/destroy` starts the program and the nfvkit
// provider plugin. Under tsx each start loaded tsx's loaders and looked up a
// transpile for every one of the kit's ~100 modules: about 2 CPU s per process,
// against 0.7 s for the same code as one JavaScript file (docs/bench.md). So
// each entry point is bundled with esbuild (the kit's own modules only; npm
// packages stay external and load from node_modules as before) into
// .state/build, and the bundle is reused until the content of one of the files
// it was made from changes. The check reads and hashes those files, a few
// milliseconds; a stale or missing bundle is rebuilt on the spot (under a
// second), so a fresh clone and an edited file need no build step.
//
// This file is plain CommonJS because it runs before anything can be compiled.
//
// Two ways in:
//   node tools/engine/compiled.cjs <entry.ts> [args...]
//       runs the entry's bundle with process.argv as `node <entry.ts> args...`
//       (the provider plugins' launchers);
//   node --require tools/engine/register.cjs <script> ...
//       makes require() of a .ts file load its bundle (the language host, for
//       the program that @pulumi/pulumi's run script requires).
// NFVKIT_TSX=1 turns both back into tsx, e.g. to compare or to debug.
"use strict";
// V8's compiled code of every module this process loads (the bundle, @pulumi/pulumi, gRPC) is kept on disk
// and reused by the next start: Node 22's module compile cache. Loading the SDK alone went from 0.58-0.72 s to
// 0.37-0.40 s on this project's machine. Node checks each entry against its source, so an edited or
// rebuilt file is compiled again; a cache it cannot write only costs the saving. NODE_COMPILE_CACHE, when
// set, still chooses the folder (Node reads it itself).
require("node:module").enableCompileCache?.(process.env.NODE_COMPILE_CACHE || require("node:path").resolve(__dirname, "../../.state/compile-cache"));
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const kitRoot = path.resolve(__dirname, "../..");
const buildDir = path.join(kitRoot, ".state", "build");

function sha256(...parts) {
    const h = crypto.createHash("sha256");
    for (const p of parts) h.update(p).update("\0");
    return h.digest("hex");
}

function esbuildVersion() {
    try {
        return require(require.resolve("esbuild/package.json", { paths: [kitRoot] })).version;
    } catch {
        return undefined;
    }
}

// What a bundle depends on besides its source files: this file (the build
// options live here), the esbuild version, tsconfig.json and where the kit is
// (absolute paths are written into the bundle, see below).
function baseKey() {
    let tsconfig = "";
    try {
        tsconfig = fs.readFileSync(path.join(kitRoot, "tsconfig.json"), "utf8");
    } catch {}
    return sha256(fs.readFileSync(__filename), String(esbuildVersion()), tsconfig, kitRoot);
}

function keyOf(base, inputs) {
    const h = crypto.createHash("sha256").update(base);
    for (const file of inputs) {
        h.update("\0").update(file).update("\0");
        try {
            h.update(fs.readFileSync(file));
        } catch {
            // A source file that is gone makes the key differ: the next build finds out why.
            h.update("(missing)");
        }
    }
    return h.digest("hex").slice(0, 16);
}

// The manifest of an entry: the bundle's file, its source files and their key.
function manifestPath(entry) {
    const name = path.basename(entry).replace(/\.[cm]?ts$/, "");
    return path.join(buildDir, `${name}-${sha256(entry).slice(0, 12)}.json`);
}

function readManifest(file) {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
        return undefined;
    }
}

/** The path of entry's bundle (an absolute .ts path), built first if missing or stale. */
function bundleFor(entry) {
    entry = path.resolve(entry);
    const base = baseKey();
    const mfile = manifestPath(entry);
    const manifest = readManifest(mfile);
    if (manifest && manifest.key === keyOf(base, manifest.inputs) && fs.existsSync(manifest.out)) return manifest.out;
    return build(entry, base, mfile);
}

// require() is synchronous and esbuild's plugins (ownPaths, below) need its
// asynchronous API, so the build runs in a child Node.js process; only when a
// bundle is missing or stale.
function build(entry, base, mfile) {
    const child = require("node:child_process").spawnSync(process.execPath, [__filename, "--build", entry], {
        stdio: ["ignore", "inherit", "inherit"],
    });
    const manifest = readManifest(mfile);
    if (child.status !== 0 || !manifest || manifest.key !== keyOf(base, manifest.inputs)) {
        throw new Error(`nfvkit: could not compile ${entry} (exit ${child.status}); NFVKIT_TSX=1 runs it under tsx instead`);
    }
    return manifest.out;
}

async function buildNow(entry) {
    const base = baseKey();
    const mfile = manifestPath(entry);
    const esbuild = require(require.resolve("esbuild", { paths: [kitRoot] }));
    fs.mkdirSync(buildDir, { recursive: true });
    // A name per process, renamed into place at the end: two commands that
    // start at once (two stacks, the program and a plugin) never read half a file.
    const stem = path.basename(mfile, ".json");
    const tmp = path.join(buildDir, `.${stem}-${process.pid}.js`);
    const result = await esbuild.build({
        entryPoints: [entry],
        absWorkingDir: kitRoot,
        bundle: true,
        platform: "node",
        format: "cjs",
        target: "node22",
        // npm packages load from node_modules as they do under tsx: the SDK
        // keeps its own module identity and its files.
        packages: "external",
        outfile: tmp,
        sourcemap: true,
        // Stack traces and errors keep the kit's function and class names.
        keepNames: true,
        metafile: true,
        logLevel: "error",
        plugins: [ownPaths],
    });
    const inputs = Object.keys(result.metafile.inputs)
        .map((f) => path.resolve(kitRoot, f))
        .sort();
    const key = keyOf(base, inputs);
    const out = path.join(buildDir, `${stem}-${key}.js`);
    // The source map's own name is written into the bundle; keep both side by side.
    const code = fs.readFileSync(tmp, "utf8").replace(/(\/\/# sourceMappingURL=)\S+\s*$/, `$1${path.basename(out)}.map\n`);
    fs.writeFileSync(tmp, code);
    fs.renameSync(`${tmp}.map`, `${out}.map`);
    fs.renameSync(tmp, out);
    const mtmp = `${mfile}.${process.pid}`;
    fs.writeFileSync(mtmp, JSON.stringify({ entry, key, out, inputs }, null, 1));
    fs.renameSync(mtmp, mfile);
    removeOlder(stem, out);
    return out;
}

// Earlier bundles of the same entry; a process still running one has read it already.
function removeOlder(stem, keep) {
    for (const f of fs.readdirSync(buildDir)) {
        const full = path.join(buildDir, f);
        if (f.startsWith(`${stem}-`) && f.endsWith(".js") && full !== keep) {
            fs.rmSync(full, { force: true });
            fs.rmSync(`${full}.map`, { force: true });
        }
    }
}

// In one bundle every module would see the bundle's __dirname and __filename;
// the kit's modules find files next to themselves with them (guest-images/,
// the project root), so each module gets its own source file's, as under tsx.
const ownPaths = {
    name: "nfvkit-own-paths",
    setup(b) {
        b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
            if (path.relative(kitRoot, args.path).split(path.sep).includes("node_modules")) return undefined;
            const text = fs.readFileSync(args.path, "utf8");
            if (!/\b__(dirname|filename)\b/.test(text)) return undefined;
            const contents = text.replace(/\b__dirname\b/g, JSON.stringify(path.dirname(args.path))).replace(/\b__filename\b/g, JSON.stringify(args.path));
            return { contents, loader: "ts" };
        });
    },
};

// tsx's hooks for both require() and import(), as `node --import tsx` sets
// them: the provider loads its operation modules with import().
function useTsx() {
    require(require.resolve("tsx/cjs/api", { paths: [kitRoot] })).register();
    require(require.resolve("tsx/esm/api", { paths: [kitRoot] })).register();
}

const tsxWanted = process.env.NFVKIT_TSX === "1" || esbuildVersion() === undefined;

if (require.main === module && process.argv[2] === "--build") {
    buildNow(path.resolve(process.argv[3])).catch((err) => {
        process.stderr.write(`${err.stack}\n`);
        process.exit(1);
    });
} else if (require.main === module) {
    // The launcher: node compiled.cjs <entry.ts> args...
    const [entry, ...args] = process.argv.slice(2);
    if (!entry) {
        process.stderr.write("usage: node tools/engine/compiled.cjs <entry.ts> [args...]\n");
        process.exit(2);
    }
    const full = path.resolve(entry);
    process.argv = [process.argv[0], full, ...args];
    if (tsxWanted) {
        useTsx();
        require(full);
    } else {
        enableSourceMaps();
        require(bundleFor(full));
    }
    flushCompileCache();
}

/** Makes require() of a .ts file load its bundle (or go through tsx, with NFVKIT_TSX=1). */
function registerTs() {
    if (tsxWanted) {
        useTsx();
        return;
    }
    enableSourceMaps();
    require.extensions[".ts"] = (mod, filename) => {
        mod.exports = require(bundleFor(filename));
        flushCompileCache();
    };
}

// Stack traces name the kit's TypeScript files and lines (the bundle's source map). Only the kit's: Node
// reads the source map of every module it loads while maps are on, and the SDK's and gRPC's ~80 maps were
// 0.1-0.2 CPU s of every plugin and program start, for stack traces inside those packages.
function enableSourceMaps() {
    const { setSourceMapsSupport } = require("node:module");
    if (setSourceMapsSupport) setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
    else process.setSourceMapsEnabled(true);
}

// Node writes its compile cache when a process exits by itself; the engine ends its plugins and the program
// with a signal, so the cache is written once the entry point has loaded (and again by anything loaded later,
// at a normal exit).
function flushCompileCache() {
    require("node:module").flushCompileCache?.();
}

module.exports = { bundleFor, registerTs };
