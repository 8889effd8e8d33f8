/**
 * The `hosts:` section: each host's name, libvirt URI, accelerator, SSH
 * access, management, topology and CPU split, with its hugepage pools and PFs
 * (hostResources.ts). Every host with a usable name gets a draft, even one
 * with problems, so its guests, VFs and links are checked against it.
 */
import { checkLibvirtUri } from "../access";
import { defaultKnobs, type DomainKnobs } from "../knobs";
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";
import type { HostTopology } from "../types";
import { formatCpuList } from "../units";
import { readCpuSet, readName, type HostDraft } from "./fields";
import { readPfs, readPools } from "./hostResources";
import { readKnobs } from "./knobs";
import { readSsh } from "./ssh";
import { readTopology } from "./topology";

const hostKeys = [
    "name",
    "uri",
    "ssh",
    "topology",
    "housekeepingCpus",
    "isolatedCpus",
    "hugepages",
    "pfs",
    "guestKnobs",
    "accel",
    "manage",
    "kernelPackage",
    "hwlat",
] as const;
/** Debian package names (policy 5.6.1): lower case letters, digits, "+", "-", "."; at least two characters, starting alphanumeric. */
const debianPackagePattern = /^[a-z0-9][a-z0-9+.-]+$/;

/** What every host's check needs besides the host itself. */
interface HostContext {
    discovered: Record<string, HostTopology>;
    knobDefaults: Record<string, Partial<DomainKnobs>>;
    /** Host name → path of its first entry. */
    seen: Map<string, string>;
    /** Path of the first host entry for each libvirt host (its URI however written). */
    libvirtHosts: Map<string, string>;
}

/** `declared`: every usable host name written, even of hosts with problems (their guests are not blamed again). */
export function readHosts(
    r: SpecReader,
    value: unknown,
    path: string,
    discovered: Record<string, HostTopology>,
    knobDefaults: Record<string, Partial<DomainKnobs>>,
    declared: Set<string>,
): Map<string, HostDraft> {
    const hosts = new Map<string, HostDraft>();
    const items = r.list(value, path, '[{ name: local, uri: "qemu:///system" }]');
    if (value !== undefined && value !== null && items && items.length === 0) r.report(path, value, "lists no hosts", "declare at least one host");
    const ctx: HostContext = { discovered, knobDefaults, seen: new Map(), libvirtHosts: new Map() };
    (items ?? []).forEach((item, i) => {
        const host = readHost(r, item, joinPath(path, i), ctx, declared);
        // A repeated name keeps the first entry (the repeat is reported).
        if (host && !hosts.has(host.name)) hosts.set(host.name, host);
    });
    return hosts;
}

function readHost(r: SpecReader, item: unknown, p: string, ctx: HostContext, declared: Set<string>): HostDraft | undefined {
    const spec = r.object(item, p, hostKeys, ["name"]);
    if (!spec) return undefined;
    const name = readName(r, spec.name, joinPath(p, "name"));
    if (name !== undefined) r.unique(name, joinPath(p, "name"), ctx.seen, "host");
    if (name !== undefined) declared.add(name);
    const uri = r.string(spec.uri, joinPath(p, "uri")) ?? "qemu:///system";
    const accel = r.string(spec.accel, joinPath(p, "accel"));
    if (accel !== undefined && !["auto", "kvm", "tcg"].includes(accel))
        r.report(joinPath(p, "accel"), accel, "is not an accelerator", 'write "auto", "kvm" or "tcg"');
    const uriCheck = checkLibvirtUri(uri);
    if (!uriCheck.ok) r.report(joinPath(p, "uri"), uri, uriCheck.reason, uriCheck.fix);
    else {
        const first = ctx.libvirtHosts.get(uriCheck.target.identity);
        if (first !== undefined && !(name !== undefined && ctx.seen.get(name) !== joinPath(p, "name"))) {
            r.report(
                joinPath(p, "uri"),
                spec.uri,
                `is the same libvirt host as ${first}; two entries would plan its CPUs and hugepages twice`,
                "declare each host once and put all its guests on it, or give this host its own URI",
            );
        } else ctx.libvirtHosts.set(uriCheck.target.identity, name !== undefined ? `host ${name} (${p})` : p);
    }

    const uriHost = uriCheck.ok ? uriCheck.target.host : undefined;
    const uriLogin = uriCheck.ok ? { host: uriCheck.target.host, user: uriCheck.target.user, port: uriCheck.target.port } : {};
    const ssh = spec.ssh === undefined ? undefined : readSsh(r, spec.ssh, joinPath(p, "ssh"), uriLogin, name);
    const manage = readManage(r, spec, p, name, uriHost);

    let topology: HostTopology | undefined;
    if (spec.topology !== undefined) topology = readTopology(r, spec.topology, joinPath(p, "topology"));
    else if (name !== undefined && ctx.discovered[name]) topology = ctx.discovered[name];
    else if (name !== undefined) {
        r.report(
            joinPath(p, "topology"),
            undefined,
            `is not declared and host ${name} was not discovered`,
            'declare topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, or make the host reachable so the kit reads it',
        );
    }
    const cpus = readCpuSplit(r, spec, p, name, topology);
    // Pools and PFs are read even without a topology: their own problems, and the VFs that name the PFs, are still checked.
    const pools = readPools(r, spec.hugepages, joinPath(p, "hugepages"), name, topology);
    const pfs = readPfs(r, spec.pfs, joinPath(p, "pfs"), name, topology);
    const knobs = readKnobs(r, spec.guestKnobs, joinPath(p, "guestKnobs"), { ...defaultKnobs, ...(name !== undefined ? ctx.knobDefaults[name] : {}) });
    if (name === undefined) return undefined;
    return {
        name,
        path: p,
        uri,
        accel: (accel ?? "auto") as HostDraft["accel"],
        ...(topology ? { topology } : {}),
        housekeepingCpus: cpus.housekeeping ?? [],
        isolatedCpus: cpus.isolated ?? [],
        hugepages: pools.pools,
        pfs: pfs.pfs,
        pfNamesWritten: pfs.written,
        ...(ssh ? { ssh } : {}),
        ...(manage ? { manage } : {}),
        knobs,
        plannable: topology !== undefined && cpus.ok,
        poolsOk: pools.ok,
    };
}

/** `manage:` and `kernelPackage:`: the kit manages a host's kernel only when asked, and only one it reaches over SSH. */
function readManage(r: SpecReader, spec: Record<string, unknown>, p: string, name: string | undefined, uriHost: string | undefined): HostDraft["manage"] {
    const manageFlag = r.boolean(spec.manage, joinPath(p, "manage")) ?? false;
    let kernelPackage = r.string(spec.kernelPackage, joinPath(p, "kernelPackage"));
    if (kernelPackage !== undefined && !debianPackagePattern.test(kernelPackage)) {
        r.report(joinPath(p, "kernelPackage"), kernelPackage, "is not a Debian package name", "write the package as apt knows it, e.g. linux-image-rt-amd64");
        kernelPackage = undefined;
    }
    if (spec.kernelPackage !== undefined && !manageFlag) {
        r.report(
            joinPath(p, "kernelPackage"),
            spec.kernelPackage,
            "has no effect: the kit installs kernels only on hosts it manages",
            "add manage: true, or remove kernelPackage",
        );
    }
    if (manageFlag && spec.ssh === undefined && uriHost !== undefined) {
        r.report(
            joinPath(p, "manage"),
            spec.manage,
            `asks the kit to manage remote host ${name ?? ""}, which it reaches only through libvirt`.replace("host  ", "host "),
            "add ssh: { privateKeySecret: <secret config key>, knownHosts: <pinned keys> } to the host, or remove manage",
        );
    }
    const hwlat = readHwlat(r, spec.hwlat, joinPath(p, "hwlat"), manageFlag);
    return manageFlag ? { kernelPackage: kernelPackage ?? "linux-image-rt-amd64", ...(hwlat ? { hwlat } : {}) } : undefined;
}

/** `hwlat:` of a managed host: the run's length and the gap its readiness row allows, each defaulting to hwlatdetect's. */
function readHwlat(r: SpecReader, value: unknown, p: string, manageFlag: boolean): { seconds: number; targetUs: number } | undefined {
    if (value === undefined || value === null) return undefined;
    const spec = r.object(value, p, ["seconds", "targetUs"], []);
    if (!spec) return undefined;
    const seconds = r.integer(spec.seconds, joinPath(p, "seconds"), 1, 600);
    const targetUs = r.integer(spec.targetUs, joinPath(p, "targetUs"), 1, 1_000_000);
    if (!manageFlag) {
        r.report(p, value, "has no effect: the kit measures hardware latency only on hosts it manages", "add manage: true, or remove hwlat");
        return undefined;
    }
    return { seconds: seconds ?? 10, targetUs: targetUs ?? 10 };
}

/**
 * housekeepingCpus and isolatedCpus against the topology: CPUs the host has,
 * none in both lists, at least one for the host OS; defaults when neither is
 * given (the first CPU of each node and its SMT siblings keep the host running).
 * `ok` is false when a list is unusable: the host's guests are then not planned.
 */
function readCpuSplit(
    r: SpecReader,
    spec: Record<string, unknown>,
    p: string,
    name: string | undefined,
    topology: HostTopology | undefined,
): { housekeeping?: number[]; isolated?: number[]; ok: boolean } {
    const hkPath = joinPath(p, "housekeepingCpus");
    const isoPath = joinPath(p, "isolatedCpus");
    let housekeeping = readCpuSet(r, spec.housekeepingCpus, hkPath);
    let isolated = readCpuSet(r, spec.isolatedCpus, isoPath);
    const problemsBefore = r.problems.length;
    if (!topology) return { housekeeping, isolated, ok: true };
    const all = topology.numaNodes.flatMap((n) => n.cpus).sort((a, b) => a - b);
    const allText = formatCpuList(all);
    for (const [list, listPath, raw] of [
        [housekeeping, hkPath, spec.housekeepingCpus],
        [isolated, isoPath, spec.isolatedCpus],
    ] as const) {
        const missing = (list ?? []).filter((c) => !all.includes(c));
        if (missing.length)
            r.report(listPath, raw, `has CPU ${formatCpuList(missing)}, which host ${name} does not have (it has ${allText})`, `use CPUs from ${allText}`);
    }
    if (housekeeping && isolated) {
        const both = housekeeping.filter((c) => isolated!.includes(c));
        if (both.length)
            r.report(
                isoPath,
                spec.isolatedCpus,
                `has CPU ${formatCpuList(both)}, which is also a housekeeping CPU`,
                "make each CPU either housekeeping or isolated",
            );
    }
    if (!housekeeping && !isolated) {
        // First CPU of each node and its SMT siblings keep the host running.
        housekeeping = topology.numaNodes.flatMap((n) => {
            const first = n.cpus[0];
            return [first, ...(topology!.smtSiblings.find((g) => g.includes(first)) ?? [])];
        });
        housekeeping = [...new Set(housekeeping)].sort((a, b) => a - b);
    }
    if (!housekeeping) housekeeping = all.filter((c) => !isolated!.includes(c));
    if (!isolated) isolated = all.filter((c) => !housekeeping!.includes(c));
    if (spec.housekeepingCpus !== undefined && housekeeping.length === 0) {
        r.report(hkPath, spec.housekeepingCpus, `leaves host ${name} no housekeeping CPU`, "keep at least one CPU for the host OS, e.g. CPU 0");
    } else if (housekeeping.length === 0) {
        r.report(
            isoPath,
            spec.isolatedCpus,
            `isolates every CPU of host ${name}, leaving none for the host OS`,
            "leave at least one CPU out of isolatedCpus, e.g. CPU 0",
        );
    }
    return { housekeeping, isolated, ok: r.problems.length === problemsBefore };
}
