/**
 * The guest image recipe (guest-images/recipe.yaml): what goes into the image.
 * Parsing is pure: text in, a validated GuestImageRecipe out, or one error that
 * lists every bad field with its YAML path, the value and the fix.
 */
import * as yaml from "js-yaml";
import { ProblemListError, type SpecProblem } from "../components/spec/problems";

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

// Debian package names (policy 5.6.1) and plain file / module names.
const PACKAGE_RE = /^[a-z0-9][a-z0-9+.-]+$/;
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Parses and validates recipe YAML text; `file` only names the source in errors. Throws ProblemListError listing every problem. */
export function parseRecipe(text: string, file = "recipe.yaml"): GuestImageRecipe {
    const what = `guest image recipe ${file}`;
    let doc: unknown;
    try {
        doc = yaml.load(text, { filename: file });
    } catch (e) {
        const reason = `is not valid YAML: ${(e as Error).message.split("\n")[0]}`;
        throw new ProblemListError([{ path: "", value: undefined, shown: "malformed YAML", reason, fix: "correct the YAML syntax there" }], what);
    }
    const problems: SpecProblem[] = [];
    const bad = (path: string, value: unknown, reason: string, fix: string) => problems.push({ path, value, reason, fix });

    if (!isRecord(doc)) {
        throw new ProblemListError([{ path: "", value: doc, reason: "must be a mapping", fix: "write the fields kernel, modules and tools" }], what);
    }
    for (const key of Object.keys(doc)) {
        if (!["kernel", "modules", "tools", "extraLibraries", "programs"].includes(key)) {
            bad(key, doc[key], "is not a recipe field", "remove it; the fields are kernel, modules, tools, extraLibraries and programs");
        }
    }

    const kernel: KernelSpec = { package: "" };
    if (!isRecord(doc.kernel)) {
        bad("kernel", doc.kernel, "must be a mapping", "write e.g. {package: linux-image-rt-amd64}");
    } else {
        const k = doc.kernel;
        if (typeof k.package !== "string" || !PACKAGE_RE.test(k.package)) {
            bad("kernel.package", k.package, "must be a Debian package name", "write e.g. linux-image-rt-amd64");
        } else {
            kernel.package = k.package;
        }
        if (k.release !== undefined) {
            if (typeof k.release !== "string" || !/^[a-z0-9.-]+$/.test(k.release)) {
                bad("kernel.release", k.release, "must be an apt release name", "write e.g. bookworm-backports, or leave it out");
            } else {
                kernel.release = k.release;
            }
        }
        for (const key of Object.keys(k)) {
            if (key !== "package" && key !== "release") bad(`kernel.${key}`, k[key], "is not a kernel field", "remove it; the fields are package and release");
        }
    }

    const modules = stringList(doc.modules, "modules", "a kernel module name such as virtio_console", bad);
    const extraLibraries = stringList(doc.extraLibraries, "extraLibraries", "a library soname such as libgcc_s.so.1", bad);

    const tools: ToolSpec[] = [];
    if (!Array.isArray(doc.tools) || doc.tools.length === 0) {
        bad("tools", doc.tools, "must be a non-empty list of tools", "write e.g. [{name: busybox, package: busybox-static}]");
    } else {
        const seen = new Set<string>();
        doc.tools.forEach((t: unknown, i: number) => {
            const at = `tools[${i}]`;
            if (!isRecord(t)) {
                bad(at, t, "must be a mapping", "write e.g. {name: cyclictest, package: rt-tests}");
                return;
            }
            for (const key of Object.keys(t)) {
                if (!["name", "package", "path", "links"].includes(key))
                    bad(`${at}.${key}`, t[key], "is not a tool field", "remove it; the fields are name, package, path and links");
            }
            const ok = { name: true, package: true };
            if (typeof t.name !== "string" || !NAME_RE.test(t.name)) {
                bad(`${at}.name`, t.name, "must be a binary name", "write e.g. cyclictest");
                ok.name = false;
            } else if (seen.has(t.name)) {
                bad(`${at}.name`, t.name, "is listed twice", "keep one entry");
            } else {
                seen.add(t.name);
            }
            if (typeof t.package !== "string" || !PACKAGE_RE.test(t.package)) {
                bad(`${at}.package`, t.package, "must be the Debian package that ships the tool", "write e.g. rt-tests");
                ok.package = false;
            }
            if (t.path !== undefined && (typeof t.path !== "string" || !t.path.startsWith("/"))) {
                bad(`${at}.path`, t.path, "must be an absolute path", "write e.g. /usr/bin/cyclictest, or leave it out");
            }
            const links = stringList(t.links, `${at}.links`, "a command name such as timerlat", bad);
            if (ok.name && ok.package) {
                tools.push({ name: t.name as string, package: t.package as string, ...(typeof t.path === "string" ? { path: t.path } : {}), links });
            }
        });
        if (!seen.has("busybox")) {
            bad("tools", undefined, "has no busybox, which is the guest's shell and init", "add {name: busybox, package: busybox-static}");
        }
    }

    const programs: ProgramSpec[] = [];
    if (doc.programs !== undefined && doc.programs !== null) {
        if (!Array.isArray(doc.programs))
            bad("programs", doc.programs, "must be a list of programs", "write e.g. [{name: nfvkit-ring, source: ring/nfvkit-ring.c}]");
        else
            doc.programs.forEach((p: unknown, i: number) => {
                const at = `programs[${i}]`;
                if (!isRecord(p)) return bad(at, p, "must be a mapping", "write e.g. {name: nfvkit-ring, source: ring/nfvkit-ring.c}");
                for (const key of Object.keys(p))
                    if (key !== "name" && key !== "source") bad(`${at}.${key}`, p[key], "is not a program field", "remove it; the fields are name and source");
                const nameOk = typeof p.name === "string" && NAME_RE.test(p.name) && !tools.some((t) => t.name === p.name);
                if (!nameOk) bad(`${at}.name`, p.name, "must be a binary name that no tool has", "write e.g. nfvkit-ring");
                // Relative and inside guest-images/: the source is part of the image hash.
                const sourceOk = typeof p.source === "string" && /^[A-Za-z0-9_][A-Za-z0-9_./-]*\.c$/.test(p.source) && !p.source.split("/").includes("..");
                if (!sourceOk) bad(`${at}.source`, p.source, "must be a .c file under guest-images/", "write e.g. ring/nfvkit-ring.c");
                if (nameOk && sourceOk) programs.push({ name: p.name as string, source: p.source as string });
            });
    }

    if (problems.length > 0) throw new ProblemListError(problems, what);
    return { kernel, modules, tools, extraLibraries, programs };
}

function stringList(v: unknown, path: string, what: string, bad: (path: string, value: unknown, reason: string, fix: string) => void): string[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
        bad(path, v, "must be a list", `write a list, each item ${what}`);
        return [];
    }
    const out: string[] = [];
    v.forEach((item: unknown, i: number) => {
        if (typeof item !== "string" || !NAME_RE.test(item))
            bad(`${path}[${i}]`, item, `must be ${what.replace(/ such as .*/, "")}`, `write ${what.replace(/.* such as /, "e.g. ")}`);
        else out.push(item);
    });
    return out;
}
