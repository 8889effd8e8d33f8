/**
 * The guest image builder's pure parts: recipe validation, the cpio writer
 * (read back with the real cpio tool), the ldd parser on captured output, the
 * module load order on real modinfo output, and the merged-/usr path mapping.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { guestPath, orderModules, parseLdd } from "../../guest-images/closure";
import { writeCpio } from "../../guest-images/cpio";
import { parseRecipe } from "../../guest-images/recipe";
import { ProblemListError } from "../../components/spec/problems";
import { formatProblem } from "../../components/spec/problems";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");
/** Fixture files start with one `#` line naming the command that produced them. */
const body = (text: string) =>
    text
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n");

test("the committed recipe parses and has the tools the kit relies on", (t) => {
    const recipe = parseRecipe(fs.readFileSync(path.join(__dirname, "../../guest-images/recipe.yaml"), "utf8"));
    t.is(recipe.kernel.package, "linux-image-rt-amd64");
    t.deepEqual(
        recipe.tools.map((x) => x.name),
        ["busybox", "qemu-ga", "cyclictest", "oslat", "rtla"],
    );
    t.true(recipe.modules.includes("virtio_console"));
    // All of our C programs come through the one programs: section (the inter-VM ring, the known-answer hog,
    // the migration probe's packet stream and memory dirtier, and the latency probe's guest load).
    t.deepEqual(recipe.programs, [
        { name: "nfvkit-ring", source: "ring/nfvkit-ring.c" },
        { name: "nfvkit-hog", source: "hog/nfvkit-hog.c" },
        { name: "nfvkit-migload", source: "migload/nfvkit-migload.c" },
        { name: "nfvkit-load", source: "load/nfvkit-load.c" },
    ]);
    for (const p of recipe.programs) t.true(fs.existsSync(path.join(__dirname, "../../guest-images", p.source)), p.source);
});

test("a new tool is one line in the recipe", (t) => {
    const recipe = parseRecipe(
        "kernel: {package: linux-image-rt-amd64}\ntools:\n  - {name: busybox, package: busybox-static}\n  - {name: ethtool, package: ethtool}\n",
    );
    t.deepEqual(recipe.tools[1], { name: "ethtool", package: "ethtool", links: [] });
    t.deepEqual(recipe.modules, []);
    t.deepEqual(recipe.extraLibraries, []);
});

test("recipe errors list every bad field with its YAML path, the value and the fix", (t) => {
    const text = [
        "kernel: {package: Linux_Image}",
        "modules: [virtio_console, 7]",
        "tools:",
        "  - {name: cyclictest}",
        "  - {name: oslat, package: rt-tests, path: usr/bin/oslat}",
        "extra: 1",
    ].join("\n");
    const err = t.throws(() => parseRecipe(text, "recipe.yaml"), { instanceOf: ProblemListError });
    t.deepEqual(err.problems.map(formatProblem), [
        "extra: is not a recipe field (got 1). Fix: remove it; the fields are kernel, modules, tools, extraLibraries and programs",
        'kernel.package: must be a Debian package name (got "Linux_Image"). Fix: write e.g. linux-image-rt-amd64',
        "modules[1]: must be a kernel module name (got 7). Fix: write e.g. virtio_console",
        "tools[0].package: must be the Debian package that ships the tool (got nothing). Fix: write e.g. rt-tests",
        'tools[1].path: must be an absolute path (got "usr/bin/oslat"). Fix: write e.g. /usr/bin/cyclictest, or leave it out',
        "tools: has no busybox, which is the guest's shell and init (got nothing). Fix: add {name: busybox, package: busybox-static}",
    ]);
    t.regex(err.message, /^guest image recipe recipe\.yaml has 6 problems:\nextra: /);
});

test("recipe that is not YAML names the document", (t) => {
    const err = t.throws(() => parseRecipe("kernel: [", "r.yaml"), { instanceOf: ProblemListError });
    t.is(err.problems[0].path, "");
    t.regex(err.problems[0].reason, /^is not valid YAML: /);
});

test("cpio archive lists back with cpio(1): sorted, root-owned, fixed mtime, device node", (t) => {
    const archive = writeCpio(
        [
            { type: "file", path: "usr/bin/hello", mode: 0o755, data: Buffer.from("#!/bin/sh\necho hi\n") },
            { type: "dir", path: "usr", mode: 0o755 },
            { type: "dir", path: "usr/bin", mode: 0o755 },
            { type: "symlink", path: "bin", target: "usr/bin" },
            { type: "dir", path: "dev", mode: 0o755 },
            { type: "char", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
        ],
        1_700_000_000,
    );
    const listing = execFileSync("cpio", ["-itv", "--quiet"], { input: archive, env: { ...process.env, TZ: "UTC", LC_ALL: "C" } })
        .toString()
        .trim()
        .split("\n")
        .map((l) => l.replace(/\s+/g, " "));
    t.deepEqual(listing, [
        "lrwxrwxrwx 1 root root 7 Nov 14 2023 bin -> usr/bin",
        "drwxr-xr-x 2 root root 0 Nov 14 2023 dev",
        "crw------- 1 root root 5, 1 Nov 14 2023 dev/console",
        "drwxr-xr-x 2 root root 0 Nov 14 2023 usr",
        "drwxr-xr-x 2 root root 0 Nov 14 2023 usr/bin",
        "-rwxr-xr-x 1 root root 18 Nov 14 2023 usr/bin/hello",
    ]);
    const extracted = execFileSync("cpio", ["-i", "--quiet", "--to-stdout", "usr/bin/hello"], { input: archive }).toString();
    t.is(extracted, "#!/bin/sh\necho hi\n");
    // Same entries in another order give the same bytes.
    const again = writeCpio(
        [
            { type: "dir", path: "a", mode: 0o755 },
            { type: "dir", path: "a/b", mode: 0o755 },
        ],
        0,
    );
    const shuffled = writeCpio(
        [
            { type: "dir", path: "a/b", mode: 0o755 },
            { type: "dir", path: "a", mode: 0o755 },
        ],
        0,
    );
    t.true(again.equals(shuffled));
});

test("cpio writer refuses a file whose directory is missing", (t) => {
    const err = t.throws(() => writeCpio([{ type: "file", path: "etc/passwd", mode: 0o644, data: Buffer.alloc(0) }], 0));
    t.is(err.message, "cpio entry etc/passwd has no directory entry for etc");
});

test("ldd parser takes the libraries and the loader, not the vDSO", (t) => {
    const libs = parseLdd(body(fixture("ldd-qemu-ga.txt")));
    t.true(libs.includes("/lib/x86_64-linux-gnu/libglib-2.0.so.0"));
    t.true(libs.includes("/lib64/ld-linux-x86-64.so.2"));
    t.false(libs.some((l) => l.includes("vdso")));
    t.is(libs.length, 10);
    t.deepEqual(parseLdd(body(fixture("ldd-busybox-static.txt"))), []);
    t.throws(() => parseLdd("\tlibfoo.so.1 => not found\n"), { message: /missing library: libfoo\.so\.1 => not found/ });
});

test("modules load after their dependencies (real modinfo -F depends output)", (t) => {
    const depends = new Map<string, string[]>();
    for (const line of body(fixture("modinfo-depends-6.1.0-56-rt-amd64.txt")).split("\n").filter(Boolean)) {
        const [name, deps] = line.split(":");
        depends.set(name, deps.trim() === "" ? [] : deps.trim().split(","));
    }
    const order = orderModules(["virtio_console", "virtio-pci", "uio_pci_generic"], depends);
    t.deepEqual(order, ["virtio_ring", "virtio", "virtio_console", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_pci", "uio", "uio_pci_generic"]);
    for (const [i, m] of order.entries()) for (const d of depends.get(m)!) t.true(order.indexOf(d) < i, `${d} before ${m}`);
    t.throws(
        () =>
            orderModules(
                ["a"],
                new Map([
                    ["a", ["b"]],
                    ["b", ["a"]],
                ]),
            ),
        { message: "kernel modules depend on each other in a cycle: a -> b -> a" },
    );
});

test("host paths map into the merged-/usr guest tree", (t) => {
    for (const [host, guest] of [
        ["/bin/busybox", "usr/bin/busybox"],
        ["/lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"],
        ["/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"],
        ["/usr/sbin/qemu-ga", "usr/sbin/qemu-ga"],
        ["/etc/inittab", "etc/inittab"],
        ["/library/x", "library/x"],
    ]) {
        t.is(guestPath(host), guest, host);
    }
});
