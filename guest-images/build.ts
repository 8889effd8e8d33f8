/**
 * Builds the nfvkit guest image: a Debian PREEMPT_RT kernel and a busybox
 * initramfs holding the QEMU guest agent and the latency probe tools.
 *
 * Two steps: plan (cheap: resolve exact package versions and the file list,
 * hash them) and build (only when the cache has no image for that hash).
 * Run directly (`tsx guest-images/build.ts [--force] [--cache-dir DIR]`) it
 * prints progress on stderr and the GuestImage as JSON on the last line.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestPath, moduleKey, orderModules, parseLdd } from "./closure";
import { type CpioEntry, writeCpio } from "./cpio";
import { downloadDeb, ensureInstalled, fileOwners, installedVersions, packageFiles, type PackageVersion, resolveKernelPackage } from "./debian";
import { compileProgram, COMPILER_PACKAGES } from "./programs";
import { pvhKernel } from "./pvh";
import { type GuestImageRecipe, parseRecipe, type ToolSpec } from "./recipe";
import type { GuestImage } from "../components/types/guestImage";
import { HostCommandError } from "../components/host/access";
import { problemError, ProblemListError, type SpecProblem } from "../components/spec/problems";
import { run } from "./run";

// The image's files are a type of the product (TestPod and NfvGuest boot them), kept low in components/ so the product never imports the builder.
export type { GuestImage } from "../components/types/guestImage";

/** Options for ensureGuestImage(). */
export interface EnsureGuestImageOptions {
    /** Folder that holds one sub-folder per image hash. @default - `$NFVKIT_CACHE_DIR/images`, else `~/.cache/nfvkit/images` */
    cacheDir?: string;
    /** Receives one progress line at a time. @default - discard */
    log?: (line: string) => void;
    /** Rebuild even if the cache already holds this hash. @default false */
    force?: boolean;
    /** Folder for downloaded .deb files, shared by all cache dirs so tests do not fetch the kernel twice. @default - `$NFVKIT_CACHE_DIR/debs`, else `~/.cache/nfvkit/debs` */
    downloadDir?: string;
    /** Recipe file to build. @default guest-images/recipe.yaml */
    recipeFile?: string;
}

/** Bump when the layout of the cache folder or the image changes in a way the sources do not show. */
const FORMAT = 4; // 3: the kernel ships as a PVH ELF (vmlinux) where it can (guest-images/pvh.ts); 4: the initrd is not compressed
const SOURCE_DIR = __dirname;
const AGENT_PORT_HINT = "org.qemu.guest_agent.0";

function nfvkitCacheRoot(): string {
    return process.env.NFVKIT_CACHE_DIR || path.join(os.homedir(), ".cache", "nfvkit");
}

/**
 * The cache folder used when none is given. As root it is /var/cache/nfvkit/images:
 * libvirt runs QEMU as its own user (libvirt-qemu on Debian), which cannot
 * traverse root's 0700 home to reach a kernel under ~/.cache.
 */
export function defaultCacheDir(): string {
    if (process.env.NFVKIT_CACHE_DIR) return path.join(process.env.NFVKIT_CACHE_DIR, "images");
    if (process.getuid?.() === 0) return "/var/cache/nfvkit/images";
    return path.join(nfvkitCacheRoot(), "images");
}

/** A tool resolved against the build host. */
interface ResolvedTool {
    spec: ToolSpec;
    /** Host path of the binary. */
    binary: string;
}

/** Everything the build needs, fixed before anything is built; `hash` covers all of it. */
interface ImagePlan {
    recipe: GuestImageRecipe;
    kernelPackage: PackageVersion;
    tools: ResolvedTool[];
    /** Host paths of the shared libraries to copy (closure of all tools plus extras), sorted. */
    libraries: string[];
    /** Debian package -> version for every package a file is taken from. */
    packages: Record<string, string>;
    toolVersions: Record<string, string>;
    sourceDateEpoch: number;
    hash: string;
}

/** Returns the cached image for the current recipe and host packages, building it first if needed. */
export async function ensureGuestImage(opts: EnsureGuestImageOptions = {}): Promise<GuestImage> {
    const log = opts.log ?? (() => {});
    const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
    const downloadDir = path.resolve(opts.downloadDir ?? path.join(nfvkitCacheRoot(), "debs"));
    const recipeFile = opts.recipeFile ?? path.join(SOURCE_DIR, "recipe.yaml");
    const recipe = parseRecipe(fs.readFileSync(recipeFile, "utf8"), recipeFile);

    const plan = await planImage(recipe, recipeFile, log);
    const dir = path.join(cacheDir, plan.hash);
    const manifestFile = path.join(dir, "manifest.json");
    if (!opts.force && fs.existsSync(manifestFile)) {
        log(`cached image ${plan.hash} in ${dir}`);
        return readManifest(dir);
    }

    makeDir(cacheDir);
    const tmp = fs.mkdtempSync(path.join(cacheDir, `.build-${plan.hash}-`));
    try {
        fs.chmodSync(tmp, 0o755);
        await buildImage(plan, tmp, downloadDir, log);
        if (fs.existsSync(dir)) {
            if (opts.force) fs.rmSync(dir, { recursive: true, force: true });
            else {
                log(`another build finished ${plan.hash} first; using it`);
                return readManifest(dir);
            }
        }
        fs.renameSync(tmp, dir);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
    log(`built image ${plan.hash} in ${dir}`);
    return readManifest(dir);
}

function readManifest(dir: string): GuestImage {
    const m = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Omit<GuestImage, "kernel" | "initrd" | "programs"> & {
        programs?: string[];
        kernelFile?: string;
    };
    const programs = Object.fromEntries((m.programs ?? []).map((name) => [name, path.join(dir, "bin", name)]));
    return {
        kernel: path.join(dir, m.kernelFile ?? "vmlinuz"),
        initrd: path.join(dir, "initrd.img"),
        hash: m.hash,
        kernelVersion: m.kernelVersion,
        tools: m.tools,
        programs,
    };
}

function makeDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755); // libvirt's QEMU user must be able to walk into it
}

function sha256(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

/** Every file under a folder, as sorted relative paths. */
function walkFiles(root: string, rel = ""): string[] {
    const out: string[] = [];
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) out.push(...walkFiles(root, r));
        else if (d.isFile()) out.push(r);
    }
    return out.sort();
}

/** ldd of a binary or library; a static binary has no closure (ldd exits 1 for it). */
async function sharedLibraries(file: string): Promise<string[]> {
    try {
        return parseLdd(await run("ldd", [file]), file);
    } catch (e) {
        if (e instanceof HostCommandError && /not a dynamic executable/.test(e.stdout + e.stderr)) return [];
        throw e;
    }
}

/** A recipe value the build host cannot satisfy: one problem, in the shape of every bad input. */
function recipeProblem(path: string, value: unknown, reason: string, fix: string): ProblemListError {
    return new ProblemListError([{ path, value, reason, fix }], "guest image recipe");
}

async function findLibrary(soname: string): Promise<string> {
    const out = await run("ldconfig", ["-p"]);
    for (const line of out.split("\n")) {
        const m = /^\s*(\S+) \(([^)]*)\) => (\/\S+)$/.exec(line);
        if (m && m[1] === soname && m[2].includes("x86-64")) return m[3];
    }
    throw recipeProblem(
        "extraLibraries",
        soname,
        "is not in the build host's ldconfig cache",
        "install the package that ships it, or remove it from the recipe",
    );
}

async function resolveTool(spec: ToolSpec, index: number): Promise<ResolvedTool> {
    if (spec.path) {
        if (!fs.existsSync(spec.path))
            throw recipeProblem(
                `tools[${index}].path`,
                spec.path,
                `does not exist after installing ${spec.package}`,
                `check the path with \`dpkg -L ${spec.package}\``,
            );
        return { spec, binary: spec.path };
    }
    const files = await packageFiles(spec.package);
    const binary = files.find((f) => /\/s?bin\/[^/]+$/.test(f) && path.basename(f) === spec.name);
    if (!binary) {
        throw recipeProblem(
            `tools[${index}].name`,
            spec.name,
            `is no bin/ file of package ${spec.package}`,
            `name one of its binaries, or give tools[${index}].path (see \`dpkg -L ${spec.package}\`)`,
        );
    }
    return { spec, binary };
}

async function planImage(recipe: GuestImageRecipe, recipeFile: string, log: (line: string) => void): Promise<ImagePlan> {
    await ensureInstalled([...recipe.tools.map((t) => t.package), ...(recipe.programs.length > 0 ? COMPILER_PACKAGES : [])], log);
    const kernelPackage = await resolveKernelPackage(recipe.kernel.package, recipe.kernel.release, log);
    log(`kernel package ${kernelPackage.name}=${kernelPackage.version}`);

    const tools = await Promise.all(recipe.tools.map(resolveTool));
    const libs = new Set<string>();
    for (const t of tools) for (const l of await sharedLibraries(t.binary)) libs.add(l);
    for (const soname of recipe.extraLibraries) {
        const lib = await findLibrary(soname);
        libs.add(lib);
        for (const l of await sharedLibraries(lib)) libs.add(l);
    }
    // One file per guest path: /lib/x and /usr/lib/x are the same file under merged /usr.
    const byGuestPath = new Map<string, string>();
    for (const l of [...libs].sort()) if (!byGuestPath.has(guestPath(l))) byGuestPath.set(guestPath(l), l);
    const libraries = [...byGuestPath.values()].sort();

    const owners = await fileOwners([...tools.map((t) => t.binary), ...libraries]);
    // The compiler and the static libc make our programs' bytes (gcc is a link to gcc-<major>, which is the one that counts).
    const compiler = recipe.programs.length > 0 ? [...COMPILER_PACKAGES, ...(await fileOwners([fs.realpathSync("/usr/bin/gcc")])).values()] : [];
    const ownerNames = [...new Set([...owners.values(), ...compiler])].sort();
    const versions = await installedVersions(ownerNames);
    const packages: Record<string, string> = { [kernelPackage.name]: kernelPackage.version };
    for (const p of ownerNames) {
        const v = versions.get(p);
        // dpkg -S named the package, so dpkg-query knows it: otherwise dpkg's own records disagree.
        if (v === undefined) throw new Error(`package ${p} owns files for the guest image but dpkg reports no installed version`);
        packages[p] = v;
    }
    const toolVersions: Record<string, string> = {};
    for (const t of tools) toolVersions[t.spec.name] = packages[owners.get(t.binary)!];

    const epochText = process.env.SOURCE_DATE_EPOCH ?? "0";
    const sourceDateEpoch = Number(epochText);
    if (!Number.isInteger(sourceDateEpoch) || sourceDateEpoch < 0)
        throw new ProblemListError(
            [{ path: "SOURCE_DATE_EPOCH", value: epochText, reason: "must be whole seconds since 1970", fix: "set it to e.g. 0, or unset it" }],
            "guest image build environment",
        );

    // The builder's own sources (this folder, init and rootfs included) and the recipe.
    const sources: Record<string, string> = {};
    for (const rel of walkFiles(SOURCE_DIR)) sources[rel] = sha256(fs.readFileSync(path.join(SOURCE_DIR, rel)));
    sources["(recipe)"] = sha256(fs.readFileSync(recipeFile));
    const hashInput = {
        format: FORMAT,
        recipe,
        kernelPackage,
        packages,
        tools: tools.map((t) => ({ name: t.spec.name, binary: t.binary })),
        libraries,
        sources,
        sourceDateEpoch,
    };
    const hash = sha256(JSON.stringify(hashInput)).slice(0, 16);
    return { recipe, kernelPackage, tools, libraries, packages, toolVersions, sourceDateEpoch, hash };
}

/** Collects archive entries, adding parent directories as needed. A path given twice is a bug of the builder (plain errors). */
class RootTree {
    private readonly entries = new Map<string, CpioEntry>();

    dir(p: string, mode = 0o755): void {
        const existing = this.entries.get(p);
        if (existing) {
            if (existing.type !== "dir") throw new Error(`guest path /${p} is both a directory and a ${existing.type}`);
            return;
        }
        this.parents(p);
        this.entries.set(p, { type: "dir", path: p, mode });
    }

    has(p: string): boolean {
        return this.entries.has(p);
    }

    add(e: CpioEntry): void {
        if (this.entries.has(e.path)) throw new Error(`guest path /${e.path} is added twice`);
        this.parents(e.path);
        this.entries.set(e.path, e);
    }

    list(): CpioEntry[] {
        return [...this.entries.values()];
    }

    private parents(p: string): void {
        const i = p.lastIndexOf("/");
        if (i > 0) this.dir(p.slice(0, i));
    }
}

async function buildImage(plan: ImagePlan, outDir: string, downloadDir: string, log: (line: string) => void): Promise<void> {
    const started = Date.now();
    const deb = await downloadDeb(plan.kernelPackage, downloadDir, log);
    const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), "nfvkit-kernel-"));
    try {
        log(`unpacking ${path.basename(deb)}`);
        await run("dpkg-deb", ["-x", deb, unpacked]);
        const vmlinuz = fs.readdirSync(path.join(unpacked, "boot")).find((f) => f.startsWith("vmlinuz-"));
        if (!vmlinuz)
            throw problemError(
                "guest image recipe",
                "kernel.package",
                plan.recipe.kernel.package,
                `is not a linux-image package: ${path.basename(deb)} has no boot/vmlinuz-*`,
                "name a linux-image package, e.g. linux-image-amd64",
            );
        const kernelVersion = vmlinuz.slice("vmlinuz-".length);
        const tree = new RootTree();

        // Skeleton: merged /usr like Debian, and the mount points /init uses.
        for (const d of ["usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "dev", "proc", "sys", "run", "etc/nfvkit", "var/log", "mnt"]) tree.dir(d);
        tree.dir("tmp", 0o1777);
        tree.dir("root", 0o700);
        for (const l of ["bin", "sbin", "lib", "lib64"]) tree.add({ type: "symlink", path: l, target: `usr/${l}` });
        tree.add({ type: "symlink", path: "var/run", target: "../run" });
        // The kernel opens /dev/console for /init before devtmpfs is mounted.
        tree.add({ type: "char", path: "dev/console", mode: 0o600, major: 5, minor: 1 });

        const modules = await collectModules(plan.recipe.modules, unpacked, kernelVersion, log);
        for (const m of modules) tree.add({ type: "file", path: m.guestPath, mode: 0o644, data: m.data });
        tree.add({ type: "file", path: "etc/nfvkit/modules", mode: 0o644, data: Buffer.from(modules.map((m) => `/${m.guestPath}\n`).join("")) });

        for (const t of plan.tools) {
            const gp = guestPath(t.binary);
            tree.add({ type: "file", path: gp, mode: 0o755, data: fs.readFileSync(t.binary) });
            for (const link of t.spec.links) tree.add({ type: "symlink", path: `${path.posix.dirname(gp)}/${link}`, target: path.posix.basename(gp) });
        }
        for (const lib of plan.libraries) {
            const mode = fs.statSync(lib).mode & 0o777;
            tree.add({ type: "file", path: guestPath(lib), mode, data: fs.readFileSync(lib) });
        }

        // busybox provides every command the real tools do not.
        const busybox = plan.tools.find((t) => t.spec.name === "busybox")!;
        const busyboxGuest = `/${guestPath(busybox.binary)}`;
        const applets = (await run(busybox.binary, ["--list-full"])).split("\n").filter((a) => a.includes("/"));
        for (const applet of applets.sort()) {
            const gp = guestPath(`/${applet}`);
            if (!tree.has(gp)) tree.add({ type: "symlink", path: gp, target: busyboxGuest });
        }

        const rootfs = path.join(SOURCE_DIR, "rootfs");
        for (const rel of walkFiles(rootfs)) {
            const gp = guestPath(`/${rel}`);
            const executable = /(^|\/)s?bin\//.test(gp);
            tree.add({ type: "file", path: gp, mode: executable ? 0o755 : 0o644, data: fs.readFileSync(path.join(rootfs, rel)) });
        }
        tree.add({ type: "file", path: "init", mode: 0o755, data: fs.readFileSync(path.join(SOURCE_DIR, "init")) });
        // Our programs: the same static binary in the guest and in the cache folder, for host runs.
        fs.mkdirSync(path.join(outDir, "bin"), { mode: 0o755 });
        for (const p of plan.recipe.programs) {
            const binary = path.join(outDir, "bin", p.name);
            log(`compiling ${p.source} (gcc -static)`);
            await compileProgram(SOURCE_DIR, p.source, binary);
            fs.chmodSync(binary, 0o755);
            tree.add({ type: "file", path: `usr/bin/${p.name}`, mode: 0o755, data: fs.readFileSync(binary) });
        }
        const identity = { hash: plan.hash, kernelVersion, tools: plan.toolVersions, agentPort: AGENT_PORT_HINT };
        tree.add({ type: "file", path: "etc/nfvkit/image.json", mode: 0o644, data: Buffer.from(JSON.stringify(identity, null, 2) + "\n") });

        // Not compressed: the guest then copies the archive into its rootfs instead of inflating it first, which
        // under TCG is a fifth of a guest's boot (4.7 s to 4.0 s plain, more when nested in the lab VM). The bytes
        // on the wire are compressed anyway (a remote host's copy goes through gzip -1, ssh.ts).
        const initrd = writeCpio(tree.list(), plan.sourceDateEpoch);
        log(`initramfs: ${tree.list().length} entries, ${mib(initrd.length)} MiB, not compressed`);

        writeReadable(path.join(outDir, "initrd.img"), initrd);
        const bzImage = fs.readFileSync(path.join(unpacked, "boot", vmlinuz));
        const pvh = await pvhKernel(bzImage);
        const kernelFile = "elf" in pvh ? "vmlinux" : "vmlinuz";
        if ("elf" in pvh)
            log(`kernel: PVH ELF vmlinux, ${mib(pvh.elf.length)} MiB (QEMU starts it directly: no real-mode setup, no decompression in the guest)`);
        else log(`kernel: booted from its bzImage, not as PVH: ${pvh.reason}`);
        writeReadable(path.join(outDir, kernelFile), "elf" in pvh ? pvh.elf : bzImage);
        const manifest = {
            hash: plan.hash,
            kernelVersion,
            tools: plan.toolVersions,
            kernelPackage: `${plan.kernelPackage.name}=${plan.kernelPackage.version}`,
            kernelFile,
            modules: modules.map((m) => m.name),
            programs: plan.recipe.programs.map((p) => p.name),
            packages: plan.packages,
            sourceDateEpoch: plan.sourceDateEpoch,
            initrdBytes: initrd.length,
            buildSeconds: Math.round((Date.now() - started) / 100) / 10,
        };
        writeReadable(path.join(outDir, "manifest.json"), Buffer.from(JSON.stringify(manifest, null, 2) + "\n"));
    } finally {
        fs.rmSync(unpacked, { recursive: true, force: true });
    }
}

function mib(bytes: number): string {
    return (bytes / 1048576).toFixed(1);
}

function writeReadable(file: string, data: Buffer): void {
    fs.writeFileSync(file, data);
    fs.chmodSync(file, 0o644);
}

interface GuestModule {
    name: string;
    /** Archive path, uncompressed `.ko` (busybox insmod reads plain ELF). */
    guestPath: string;
    data: Buffer;
}

const MODULE_SUFFIX = /\.ko(\.xz|\.zst|\.gz)?$/;

/** The requested modules and their dependencies, in load order, read from the unpacked kernel package. */
async function collectModules(requested: string[], root: string, kernelVersion: string, log: (line: string) => void): Promise<GuestModule[]> {
    const modDir = path.join(root, "lib", "modules", kernelVersion);
    const files = new Map<string, string>();
    for (const rel of walkFiles(modDir)) {
        if (MODULE_SUFFIX.test(rel)) files.set(moduleKey(path.posix.basename(rel).replace(MODULE_SUFFIX, "")), rel);
    }
    const builtinFile = path.join(modDir, "modules.builtin");
    const builtin = new Set(
        fs.existsSync(builtinFile)
            ? fs
                  .readFileSync(builtinFile, "utf8")
                  .split("\n")
                  .filter(Boolean)
                  .map((l) => moduleKey(path.posix.basename(l).replace(MODULE_SUFFIX, "")))
            : [],
    );

    const wanted: string[] = [];
    const unknown: SpecProblem[] = [];
    requested.forEach((name, i) => {
        const key = moduleKey(name);
        if (builtin.has(key)) log(`module ${key} is built into ${kernelVersion}; nothing to load`);
        else if (!files.has(key))
            unknown.push({
                path: `modules[${i}]`,
                value: name,
                reason: `is neither a module nor built into kernel ${kernelVersion}`,
                fix: "check the name with `modinfo`, or remove it",
            });
        else wanted.push(key);
    });
    if (unknown.length > 0) throw new ProblemListError(unknown, "guest image recipe");

    const depends = new Map<string, string[]>();
    const queue = [...wanted];
    while (queue.length > 0) {
        const key = queue.shift()!;
        if (depends.has(key)) continue;
        const file = files.get(key);
        // modinfo named it from this kernel's own modules: a missing file is a broken kernel package.
        if (!file) throw new Error(`kernel module ${key} is needed as a dependency but ${kernelVersion} has no file for it`);
        const out = (await run("modinfo", ["-F", "depends", path.join(modDir, file)])).trim();
        const deps = out === "" ? [] : out.split(",").map(moduleKey);
        depends.set(key, deps);
        queue.push(...deps);
    }

    const order = orderModules(wanted, depends);
    log(`modules (load order): ${order.join(" ")}`);
    const result: GuestModule[] = [];
    for (const key of order) {
        const rel = files.get(key)!;
        const full = path.join(modDir, rel);
        let data: Buffer;
        if (rel.endsWith(".xz")) data = await run("xz", ["-dc", full], { binary: true });
        else if (rel.endsWith(".zst")) data = await run("zstd", ["-dcq", full], { binary: true });
        else if (rel.endsWith(".gz")) data = await run("gzip", ["-dc", full], { binary: true });
        else data = fs.readFileSync(full);
        result.push({ name: key, guestPath: `usr/lib/modules/${kernelVersion}/${rel.replace(MODULE_SUFFIX, ".ko")}`, data });
    }
    return result;
}

async function main(argv: string[]): Promise<void> {
    const opts: EnsureGuestImageOptions = { log: (line) => process.stderr.write(`[guest-image] ${line}\n`) };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--force") opts.force = true;
        else if (argv[i] === "--cache-dir" && argv[i + 1]) opts.cacheDir = argv[++i];
        else {
            process.stderr.write(`usage: tsx guest-images/build.ts [--force] [--cache-dir DIR]\nunknown argument: ${argv[i]}\n`);
            process.exit(2);
        }
    }
    const started = Date.now();
    const image = await ensureGuestImage(opts);
    opts.log!(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    process.stdout.write(JSON.stringify(image) + "\n");
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((e: unknown) => {
        process.stderr.write(`[guest-image] error: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
    });
}
