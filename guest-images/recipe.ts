/**
 * The guest image recipe (guest-images/recipe.yaml): what goes into the image.
 * Parsing is pure: text in, a validated GuestImageRecipe out, or one error that
 * lists every bad field with its YAML path, the value and the fix.
 */
import * as yaml from "js-yaml";

/** The kernel to boot the guest with. */
export interface KernelSpec {
    /** Debian package that names the kernel; a metapackage such as `linux-image-rt-amd64` is resolved to the concrete `linux-image-<abi>-rt-amd64` it depends on. Required. */
    package: string;
    /** apt target release to take the package from (e.g. `bookworm-backports`). @default - apt's candidate, i.e. the stable (security-updated) version */
    release?: string;
}

/** One user-space tool copied from the build host into the guest. */
export interface ToolSpec {
    /** Binary name; it lands in the guest at the same path it has in the package. Required. */
    name: string;
    /** Debian package that ships the binary; installed on the build host with apt-get if missing. Required. */
    package: string;
    /** Path of the binary in the package. @default - the file named `name` in a bin/ or sbin/ directory of the package */
    path?: string;
    /** Extra names that are symlinks to the binary in the guest (tools that dispatch on argv[0]). @default [] */
    links: string[];
}

/** A program of our own, compiled from C on the build host with Debian's gcc, static. */
export interface ProgramSpec {
    /** Binary name; it lands in the guest as /usr/bin/<name>. Required. */
    name: string;
    /** C source file, relative to guest-images/. Required. */
    source: string;
}

/** Everything that goes into the guest image. */
export interface GuestImageRecipe {
    /** The kernel package. Required. */
    kernel: KernelSpec;
    /** Kernel modules to load at boot, in order; their dependencies are added and loaded first. @default [] */
    modules: string[];
    /** User-space tools. busybox must be one of them: it provides /bin/sh and the init. Required. */
    tools: ToolSpec[];
    /** Library sonames copied into the guest although ldd does not list them (dlopen). @default [] */
    extraLibraries: string[];
    /** Our own C programs (the inter-VM ring). Built static, so they need no library in the guest. @default [] */
    programs: ProgramSpec[];
}

/** One problem found in a recipe. */
export interface RecipeProblem {
    /** YAML path of the bad field, e.g. `tools[2].package`. */
    path: string;
    /** What is wrong and how to fix it. */
    reason: string;
}

/** Thrown when a recipe has problems; `problems` holds all of them, not only the first. */
export class RecipeError extends Error {
    constructor(
        readonly file: string,
        readonly problems: RecipeProblem[],
    ) {
        super(`${file}: invalid guest image recipe:\n` + problems.map((p) => `  - ${p.path}: ${p.reason}`).join("\n"));
        this.name = "RecipeError";
    }
}

// Debian package names (policy 5.6.1) and plain file / module names.
const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]+$/;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
    return JSON.stringify(v) ?? String(v);
}

/** Parses and validates recipe YAML text; `file` only names the source in errors. */
export function parseRecipe(text: string, file = "recipe.yaml"): GuestImageRecipe {
    let doc: unknown;
    try {
        doc = yaml.load(text, { filename: file });
    } catch (e) {
        throw new RecipeError(file, [{ path: "(document)", reason: `is not valid YAML: ${(e as Error).message}` }]);
    }
    const problems: RecipeProblem[] = [];
    const bad = (path: string, reason: string) => problems.push({ path, reason });

    if (!isRecord(doc)) {
        throw new RecipeError(file, [{ path: "(document)", reason: `must be a mapping with kernel, modules and tools; got ${show(doc)}` }]);
    }
    for (const key of Object.keys(doc)) {
        if (!["kernel", "modules", "tools", "extraLibraries", "programs"].includes(key)) {
            bad(key, "is not a recipe field; the fields are kernel, modules, tools, extraLibraries and programs");
        }
    }

    const kernel: KernelSpec = { package: "" };
    if (!isRecord(doc.kernel)) {
        bad("kernel", `must be a mapping like {package: linux-image-rt-amd64}; got ${show(doc.kernel)}`);
    } else {
        const k = doc.kernel;
        if (typeof k.package !== "string" || !PACKAGE_RE.test(k.package)) {
            bad("kernel.package", `must be a Debian package name such as linux-image-rt-amd64; got ${show(k.package)}`);
        } else {
            kernel.package = k.package;
        }
        if (k.release !== undefined) {
            if (typeof k.release !== "string" || !/^[a-z0-9.-]+$/.test(k.release)) {
                bad("kernel.release", `must be an apt release name such as bookworm-backports, or be left out; got ${show(k.release)}`);
            } else {
                kernel.release = k.release;
            }
        }
        for (const key of Object.keys(k)) {
            if (key !== "package" && key !== "release") bad(`kernel.${key}`, "is not a kernel field; the fields are package and release");
        }
    }

    const modules = stringList(doc.modules, "modules", "a kernel module name such as virtio_console", bad);
    const extraLibraries = stringList(doc.extraLibraries, "extraLibraries", "a library soname such as libgcc_s.so.1", bad);

    const tools: ToolSpec[] = [];
    if (!Array.isArray(doc.tools) || doc.tools.length === 0) {
        bad("tools", `must be a list of {name, package} entries; got ${show(doc.tools)}`);
    } else {
        const seen = new Set<string>();
        doc.tools.forEach((t: unknown, i: number) => {
            const at = `tools[${i}]`;
            if (!isRecord(t)) {
                bad(at, `must be a mapping like {name: cyclictest, package: rt-tests}; got ${show(t)}`);
                return;
            }
            for (const key of Object.keys(t)) {
                if (!["name", "package", "path", "links"].includes(key))
                    bad(`${at}.${key}`, "is not a tool field; the fields are name, package, path and links");
            }
            const ok = { name: true, package: true };
            if (typeof t.name !== "string" || !NAME_RE.test(t.name)) {
                bad(`${at}.name`, `must be a binary name such as cyclictest; got ${show(t.name)}`);
                ok.name = false;
            } else if (seen.has(t.name)) {
                bad(`${at}.name`, `${show(t.name)} is listed twice; keep one entry`);
            } else {
                seen.add(t.name);
            }
            if (typeof t.package !== "string" || !PACKAGE_RE.test(t.package)) {
                bad(`${at}.package`, `must be the Debian package that ships the tool, such as rt-tests; got ${show(t.package)}`);
                ok.package = false;
            }
            if (t.path !== undefined && (typeof t.path !== "string" || !t.path.startsWith("/"))) {
                bad(`${at}.path`, `must be an absolute path such as /usr/bin/cyclictest, or be left out; got ${show(t.path)}`);
            }
            const links = stringList(t.links, `${at}.links`, "a command name such as timerlat", bad);
            if (ok.name && ok.package) {
                tools.push({ name: t.name as string, package: t.package as string, ...(typeof t.path === "string" ? { path: t.path } : {}), links });
            }
        });
        if (!seen.has("busybox")) {
            bad("tools", "must include {name: busybox, package: busybox-static}: busybox is the guest's shell and init");
        }
    }

    const programs: ProgramSpec[] = [];
    if (doc.programs !== undefined && doc.programs !== null) {
        if (!Array.isArray(doc.programs)) bad("programs", `must be a list of {name, source} entries; got ${show(doc.programs)}`);
        else
            doc.programs.forEach((p: unknown, i: number) => {
                const at = `programs[${i}]`;
                if (!isRecord(p)) return bad(at, `must be a mapping like {name: nfvkit-ring, source: ring/nfvkit-ring.c}; got ${show(p)}`);
                for (const key of Object.keys(p))
                    if (key !== "name" && key !== "source") bad(`${at}.${key}`, "is not a program field; the fields are name and source");
                const nameOk = typeof p.name === "string" && NAME_RE.test(p.name) && !tools.some((t) => t.name === p.name);
                if (!nameOk) bad(`${at}.name`, `must be a binary name that no tool has, such as nfvkit-ring; got ${show(p.name)}`);
                // Relative and inside guest-images/: the source is part of the image hash.
                const sourceOk = typeof p.source === "string" && /^[A-Za-z0-9_][A-Za-z0-9_./-]*\.c$/.test(p.source) && !p.source.split("/").includes("..");
                if (!sourceOk) bad(`${at}.source`, `must be a .c file under guest-images/, such as ring/nfvkit-ring.c; got ${show(p.source)}`);
                if (nameOk && sourceOk) programs.push({ name: p.name as string, source: p.source as string });
            });
    }

    if (problems.length > 0) throw new RecipeError(file, problems);
    return { kernel, modules, tools, extraLibraries, programs };
}

function stringList(v: unknown, path: string, what: string, bad: (path: string, reason: string) => void): string[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
        bad(path, `must be a list, each item ${what}; got ${show(v)}`);
        return [];
    }
    const out: string[] = [];
    v.forEach((item: unknown, i: number) => {
        if (typeof item !== "string" || !NAME_RE.test(item)) bad(`${path}[${i}]`, `must be ${what}; got ${show(item)}`);
        else out.push(item);
    });
    return out;
}
