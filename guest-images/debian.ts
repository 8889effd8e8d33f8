/**
 * What the image builder asks Debian's package tools: which versions are
 * installed or available, which package owns a file, and fetching a .deb
 * without installing it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { HostCommandError } from "../components/host/access";
import { problemError, ProblemListError } from "../components/spec/problems";
import { run } from "./run";

/** A Debian package at one exact version. */
export interface PackageVersion {
    /** Package name, e.g. `linux-image-6.1.0-56-rt-amd64`. */
    name: string;
    /** Exact Debian version, e.g. `6.1.192-2`. */
    version: string;
}

/** Installed version of each package that is installed; missing ones are absent from the map. */
export async function installedVersions(packages: string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (packages.length === 0) return found;
    let out: string;
    try {
        out = await run("dpkg-query", ["-W", "-f", "${Package}\t${db:Status-Abbrev}\t${Version}\n", ...packages]);
    } catch (e) {
        // dpkg-query exits 1 when some names are unknown but still prints the others.
        if (!(e instanceof HostCommandError)) throw e;
        out = e.stdout;
    }
    for (const line of out.split("\n")) {
        const [name, status, version] = line.split("\t");
        if (name && status?.startsWith("ii") && version) found.set(name.replace(/:.*$/, ""), version);
    }
    return found;
}

let aptUpdated = false;

/** Runs `apt-get update` once per process; a fresh machine may have no package lists yet. */
async function aptUpdateOnce(log: (line: string) => void): Promise<void> {
    if (aptUpdated) return;
    log("apt-get update (package lists are missing or stale)");
    await run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"]);
    aptUpdated = true;
}

/** Installs the packages that are missing on the build host (their files are copied into the guest). */
export async function ensureInstalled(packages: string[], log: (line: string) => void): Promise<void> {
    const have = await installedVersions(packages);
    const missing = [...new Set(packages.filter((p) => !have.has(p)))].sort();
    if (missing.length === 0) return;
    log(`installing on the build host with apt-get, to copy their tools into the guest image: ${missing.join(" ")}`);
    const install = () =>
        run("apt-get", ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", ...missing], {
            env: { DEBIAN_FRONTEND: "noninteractive" },
        });
    try {
        await install();
    } catch (e) {
        if (!(e instanceof HostCommandError)) throw e;
        await aptUpdateOnce(log);
        await install();
    }
}

/** Candidate version of a package from apt's lists, optionally from one target release. */
async function candidate(pkg: string, release: string | undefined): Promise<string | undefined> {
    const out = await run("apt-cache", [...(release ? ["-t", release] : []), "policy", pkg]);
    const m = /^\s*Candidate:\s*(\S+)/m.exec(out);
    return m && m[1] !== "(none)" ? m[1] : undefined;
}

/**
 * The concrete kernel package behind `pkg` (a metapackage such as
 * linux-image-rt-amd64 depends on exactly one linux-image-<abi>-rt-amd64 at an
 * exact version). A package that is already concrete is returned as it is.
 */
export async function resolveKernelPackage(pkg: string, release: string | undefined, log: (line: string) => void): Promise<PackageVersion> {
    let version = await candidate(pkg, release);
    if (version === undefined) {
        await aptUpdateOnce(log);
        version = await candidate(pkg, release);
    }
    if (version === undefined) {
        throw new ProblemListError(
            [
                {
                    path: "kernel.package",
                    value: pkg,
                    reason: `has no candidate in apt${release ? ` in ${release}` : ""}`,
                    fix: `check the name with \`apt-cache policy ${pkg}\` and the apt sources`,
                },
            ],
            "guest image recipe",
        );
    }
    const show = await run("apt-cache", ["show", `${pkg}=${version}`]);
    const depends = /^Depends:\s*(.*)$/m.exec(show)?.[1] ?? "";
    for (const dep of depends.split(",")) {
        const m = /^\s*(linux-image-\S+)\s*\(=\s*([^)\s]+)\s*\)/.exec(dep);
        if (m) return { name: m[1], version: m[2] };
    }
    return { name: pkg, version };
}

/**
 * Path of the .deb for `pkg` at `version` in `dir`, fetched with
 * `apt-get download` if it is not there yet (apt checks it against the
 * repository's checksums). Downloads land in a private folder first so two
 * builders never see a half-written file.
 */
export async function downloadDeb(pkg: PackageVersion, dir: string, log: (line: string) => void): Promise<string> {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const debVersion = pkg.version.replace(/^\d+:/, "");
    const wanted = (f: string) => f.startsWith(`${pkg.name}_`) && f.endsWith(".deb") && decodeURIComponent(f).includes(`_${debVersion}_`);
    const existing = fs.readdirSync(dir).find(wanted);
    if (existing) return path.join(dir, existing);
    log(`downloading ${pkg.name}=${pkg.version}`);
    const tmp = fs.mkdtempSync(path.join(dir, ".download-"));
    try {
        fs.chmodSync(tmp, 0o755); // apt's sandbox user must be able to write here
        await run("apt-get", ["download", `${pkg.name}=${pkg.version}`], { cwd: tmp });
        const got = fs.readdirSync(tmp).find(wanted);
        if (!got)
            throw new HostCommandError("local", ["apt-get", "download", `${pkg.name}=${pkg.version}`], 0, "", "", "exit", `wrote no matching .deb into ${tmp}`);
        fs.chmodSync(path.join(tmp, got), 0o644);
        fs.renameSync(path.join(tmp, got), path.join(dir, got));
        return path.join(dir, got);
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** All files of an installed package, as dpkg lists them. */
export async function packageFiles(pkg: string): Promise<string[]> {
    const out = await run("dpkg-query", ["-L", pkg]);
    return out.split("\n").filter((l) => l.startsWith("/"));
}

/**
 * The package that owns each host file. Debian bookworm has merged /usr but
 * dpkg still records many files under /lib, so both spellings are asked.
 */
export async function fileOwners(files: string[]): Promise<Map<string, string>> {
    const alternates = (f: string) => (f.startsWith("/usr/") ? [f, f.slice(4)] : [f, `/usr${f}`]);
    const asked = [...new Set(files.flatMap(alternates))];
    let out: string;
    try {
        out = await run("dpkg-query", ["-S", ...asked]);
    } catch (e) {
        if (!(e instanceof HostCommandError)) throw e;
        out = e.stdout; // exit 1 when some spelling is unknown, which is expected
    }
    const byPath = new Map<string, string>();
    for (const line of out.split("\n")) {
        const m = /^([^:]+(?::[a-z0-9]+)?(?:, [^:]+(?::[a-z0-9]+)?)*): (\/.*)$/.exec(line);
        if (!m || line.startsWith("diversion ")) continue;
        byPath.set(m[2], m[1].split(", ")[0].replace(/:[a-z0-9]+$/, ""));
    }
    const owners = new Map<string, string>();
    for (const f of files) {
        const owner = alternates(f)
            .map((a) => byPath.get(a))
            .find((o) => o !== undefined);
        if (owner === undefined)
            throw problemError(
                "guest image recipe",
                "tools",
                f,
                "needs a file no Debian package owns; the guest image takes files from Debian packages only",
                "name a tool that a Debian package installs, or install it from its Debian package",
            );
        owners.set(f, owner);
    }
    return owners;
}
