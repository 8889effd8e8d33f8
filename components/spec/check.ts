/**
 * From raw YAML to the checked pod: check every field (collecting all
 * problems) and fill defaults. No I/O: host topology the kit discovered is
 * passed in. Placement, hugepage budgets and derived names are the plan's
 * (components/plan/), which reports its problems in the same shape.
 */
import { defaultKnobs, type DomainKnobs } from "./knobs";
import { checkLibvirtUri, sshAddressProblem, sshUserProblem } from "./access";
import { closestMatch, configKeyPattern, maxNameLength, safeNamePattern } from "./names";
import { describeSecret, joinPath } from "./problems";
import { SpecReader } from "./reader";
import type { CheckedGuest, CheckedHost, CheckedLink, CheckedVf, SpecCheck } from "./checked";
import { VF_ATTACH, type HostTopology } from "./types";
import { CpuSet, formatCpuList, MemorySize, MacAddress, PciAddress } from "./units";

export type { DomainKnobs } from "./knobs";
export type { HostTopology } from "./types";

export interface ResolveOptions {
    /**
     * Prefix of every derived name (domains, shm files), e.g. "nfvkit-ci".
     * Usually `<project>-<stack>`, so two stacks on one host never collide.
     * Checked here, so a plan never derives a name from an unsafe prefix.
     */
    namePrefix: string;
    /** Topology read from reachable hosts, by host name; a declared `topology` wins. @default {} */
    discovered?: Record<string, HostTopology>;
    /** Prefix of problem paths, e.g. "nfv-testpod:pod", so paths match the stack file. @default "" */
    yamlPath?: string;
    /**
     * Knob defaults per host name, e.g. from a capability probe of a host that
     * cannot lock memory or run SCHED_FIFO in libvirt's cgroup. They sit above
     * the kit's defaults and below the host's `guestKnobs` and the guest's `knobs`.
     * @default {}
     */
    knobDefaults?: Record<string, Partial<DomainKnobs>>;
}

const podKeys = ["hosts", "guests", "links"] as const;
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
] as const;
/** Debian package names (policy 5.6.1): lower case letters, digits, "+", "-", "."; at least two characters, starting alphanumeric. */
const debianPackagePattern = /^[a-z0-9][a-z0-9+.-]+$/;
const sshKeys = ["user", "address", "port", "privateKeySecret", "knownHosts"] as const;
const guestKeys = [
    "name",
    "host",
    "vcpus",
    "rtVcpus",
    "fifoPriority",
    "cpus",
    "emulatorCpus",
    "iothreads",
    "iothreadCpus",
    "memory",
    "pageSize",
    "numaNode",
    "vfs",
    "kernelArgs",
    "knobs",
] as const;
const linkKeys = ["name", "size", "members", "hugepages"] as const;
const vfKeys = ["pf", "vf", "pciAddress", "mac", "vlan", "trust", "spoofchk", "attach"] as const;

const KiB = 1024;
const MiB = 1024 * KiB;
/** Page sizes x86-64 offers, in KiB. */
const pageSizesKiB = [4, 2048, 1048576];
/** Below this a Linux guest kernel does not get to userspace. */
const minGuestMemory = 32 * MiB;
const maxVcpus = 255;
/** Largest guest memory: 4 TiB, past any NFV guest and far from where byte arithmetic loses precision. */
const maxGuestMemory = 4 * 1024 * 1024 * MiB;
/**
 * Largest link: each member maps the whole region (from /dev/shm, which is
 * RAM, or from the hugepage pool), so a region bigger than a guest's memory
 * only takes the host's. 4 GiB is far above any ring and below any host's RAM.
 */
const maxLinkBytes = 4 * 1024 * MiB;
/** Flags of the kernel's isolcpus= argument (Documentation/admin-guide/kernel-parameters.txt). */
const isolcpusFlags = ["nohz", "domain", "managed_irq"];
/** A Linux network interface name: at most 15 characters (IFNAMSIZ), none of them "/", ":" or white space. */
const netdevNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/** What the checks learned about a host, kept for the later cross-checks. */
interface HostDraft {
    /** Knob defaults for guests on this host (kit defaults, then ResolveOptions.knobDefaults, then guestKnobs). */
    knobs: DomainKnobs;
    checked: CheckedHost;
    /** False when its CPU lists are unusable: its guests are then not planned (no follow-on noise). */
    plannable: boolean;
    /** False when a hugepage pool entry is unusable: budgets on the host are then not checked. */
    poolsOk: boolean;
}

interface GuestDraft {
    path: string;
    name: string;
    host?: HostDraft;
    vcpus: number;
    rtVcpus: number[];
    fifoPriority: number;
    cpus?: number[];
    emulatorCpus?: number[];
    iothreads: number;
    iothreadCpus?: number[];
    memory?: MemorySize;
    pageSizeKiB: number;
    /** pageSize as written; undefined when the default applies. */
    pageSizeWritten: unknown;
    numaNode?: number;
    vfs: CheckedVf[];
    kernel: CheckedGuest["kernel"];
    knobs: DomainKnobs;
    /** False when a field the planner needs was unusable. */
    plannable: boolean;
}

/**
 * Checks and completes a pod spec, collecting every problem. The pod is
 * complete when there is none; otherwise it holds what could be read, so the
 * planner can still report placement problems in the same run.
 */
export function checkPod(raw: unknown, opts: ResolveOptions): SpecCheck {
    const r = new SpecReader();
    const root = opts.yamlPath ?? "";
    const at = (key: string) => joinPath(root, key);

    if (typeof opts.namePrefix !== "string" || !safeNamePattern.test(opts.namePrefix) || opts.namePrefix.length > maxNameLength) {
        r.report(
            "namePrefix",
            opts.namePrefix,
            "is not a safe name prefix",
            'use letters, digits, "-" and "_", starting with a letter or digit, e.g. "nfvkit-ci"',
        );
    }

    const pod = r.object(raw ?? undefined, root === "" ? "(pod spec)" : root, podKeys, ["hosts", "guests"]);
    const declaredHosts = new Set<string>();
    const hosts = readHosts(r, pod?.hosts, at("hosts"), opts.discovered ?? {}, opts.knobDefaults ?? {}, declaredHosts);
    const guests = readGuests(r, pod?.guests, at("guests"), hosts, declaredHosts);
    const links = readLinks(r, pod?.links, at("links"), guests);

    const plannable = [...guests.values()].filter((g) => g.plannable && g.host?.plannable);
    return {
        pod: {
            hosts: [...hosts.values()].filter((h) => h.plannable).map((h) => h.checked),
            guests: plannable.map((g): CheckedGuest => ({
                name: g.name,
                path: g.path,
                host: g.host!.checked.name,
                vcpus: g.vcpus,
                rtVcpus: g.rtVcpus,
                fifoPriority: g.fifoPriority,
                ...(g.cpus ? { cpus: g.cpus } : {}),
                ...(g.emulatorCpus ? { emulatorCpus: g.emulatorCpus } : {}),
                iothreads: g.iothreads,
                ...(g.iothreadCpus ? { iothreadCpus: g.iothreadCpus } : {}),
                memory: g.memory!,
                pageSize: MemorySize.ofKibibytes(g.pageSizeKiB),
                pageSizeWritten: g.pageSizeWritten,
                ...(g.numaNode !== undefined ? { numaNode: g.numaNode } : {}),
                vfs: g.vfs,
                kernel: g.kernel,
                knobs: g.knobs,
            })),
            links,
        },
        problems: r.problems,
        unbudgetedHosts: [...hosts.values()].filter((h) => !h.poolsOk).map((h) => h.checked.name),
    };
}

function readCpuSet(r: SpecReader, value: unknown, path: string): number[] | undefined {
    if (value === undefined || value === null) return undefined;
    const set = r.unit(CpuSet.tryParse(value, path));
    return set ? [...set.cpus] : undefined;
}

function readTopology(r: SpecReader, value: unknown, path: string): HostTopology | undefined {
    const spec = r.object(value, path, ["numaNodes", "smtSiblings"], ["numaNodes"]);
    if (!spec) return undefined;
    const nodesRaw = r.list(spec.numaNodes, joinPath(path, "numaNodes"), '[{ id: 0, cpus: "0-3" }]');
    if (!nodesRaw) return undefined;
    let ok = true;
    const owner = new Map<number, number>();
    const numaNodes: HostTopology["numaNodes"] = [];
    nodesRaw.forEach((item, i) => {
        const p = joinPath(joinPath(path, "numaNodes"), i);
        const node = r.object(item, p, ["id", "cpus"], ["id", "cpus"]);
        const id = r.integer(node?.id, joinPath(p, "id"), 0, 1023);
        const cpus = readCpuSet(r, node?.cpus, joinPath(p, "cpus"));
        if (id === undefined || cpus === undefined) return void (ok = false);
        if (numaNodes.some((n) => n.id === id)) {
            r.report(joinPath(p, "id"), id, `repeats NUMA node ${id}`, "give each node its own id");
            ok = false;
        }
        if (!cpus.length) {
            r.report(joinPath(p, "cpus"), node?.cpus, `lists no CPUs for node ${id}`, 'list the node\'s CPUs, e.g. "0-3"');
            ok = false;
        }
        for (const cpu of cpus) {
            if (owner.has(cpu)) {
                r.report(joinPath(p, "cpus"), node?.cpus, `has CPU ${cpu}, which is already in node ${owner.get(cpu)}`, "list each CPU in one node only");
                ok = false;
            }
            owner.set(cpu, id);
        }
        numaNodes.push({ id, cpus });
    });
    const smtSiblings: number[][] = [];
    const siblingsPath = joinPath(path, "smtSiblings");
    const groups = r.list(spec.smtSiblings, siblingsPath, '["0,4", "1,5"]') ?? [];
    const grouped = new Set<number>();
    groups.forEach((item, i) => {
        const p = joinPath(siblingsPath, i);
        const cpus = readCpuSet(r, item, p);
        if (!cpus) return void (ok = false);
        const siblingNodes = new Set(cpus.map((cpu) => owner.get(cpu)).filter((n) => n !== undefined));
        if (ok && siblingNodes.size > 1) {
            // Threads of one core share its caches and execution units, which sit on one node.
            r.report(
                p,
                item,
                `groups CPUs of NUMA nodes ${[...siblingNodes].join(" and ")}; SMT siblings are threads of one core, on one node`,
                "list the threads of each core as the host shows them (lscpu -e: same CORE, same NODE)",
            );
            ok = false;
        }
        for (const cpu of cpus) {
            if (ok && !owner.has(cpu)) {
                r.report(p, item, `has CPU ${cpu}, which is in no NUMA node`, "list only CPUs of the numaNodes");
                ok = false;
            }
            if (grouped.has(cpu)) {
                r.report(p, item, `has CPU ${cpu}, which is already in another sibling group`, "list each CPU in one group only");
                ok = false;
            }
            grouped.add(cpu);
        }
        if (cpus.length > 1) smtSiblings.push(cpus);
    });
    return ok ? { numaNodes: numaNodes.sort((a, b) => a.id - b.id), smtSiblings } : undefined;
}

function readHosts(
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
    const seen = new Map<string, string>();
    /** Path of the first host entry for each libvirt host (its URI however written). */
    const libvirtHosts = new Map<string, string>();
    (items ?? []).forEach((item, i) => {
        const p = joinPath(path, i);
        const spec = r.object(item, p, hostKeys, ["name"]);
        if (!spec) return;
        const name = readName(r, spec.name, joinPath(p, "name"));
        if (name !== undefined) r.unique(name, joinPath(p, "name"), seen, "host");
        if (name !== undefined) declared.add(name);
        const uri = r.string(spec.uri, joinPath(p, "uri")) ?? "qemu:///system";
        const accel = r.string(spec.accel, joinPath(p, "accel"));
        if (accel !== undefined && !["auto", "kvm", "tcg"].includes(accel))
            r.report(joinPath(p, "accel"), accel, "is not an accelerator", 'write "auto", "kvm" or "tcg"');
        const uriCheck = checkLibvirtUri(uri);
        if (!uriCheck.ok) r.report(joinPath(p, "uri"), uri, uriCheck.reason, uriCheck.fix);
        else {
            const first = libvirtHosts.get(uriCheck.target.identity);
            if (first !== undefined && !(name !== undefined && seen.get(name) !== joinPath(p, "name"))) {
                r.report(
                    joinPath(p, "uri"),
                    spec.uri,
                    `is the same libvirt host as ${first}; two entries would plan its CPUs and hugepages twice`,
                    "declare each host once and put all its guests on it, or give this host its own URI",
                );
            } else libvirtHosts.set(uriCheck.target.identity, name !== undefined ? `host ${name} (${p})` : p);
        }

        const uriHost = uriCheck.ok ? uriCheck.target.host : undefined;
        const ssh = spec.ssh === undefined ? undefined : readSsh(r, spec.ssh, joinPath(p, "ssh"), uriHost, name);
        const manageFlag = r.boolean(spec.manage, joinPath(p, "manage")) ?? false;
        let kernelPackage = r.string(spec.kernelPackage, joinPath(p, "kernelPackage"));
        if (kernelPackage !== undefined && !debianPackagePattern.test(kernelPackage)) {
            r.report(
                joinPath(p, "kernelPackage"),
                kernelPackage,
                "is not a Debian package name",
                "write the package as apt knows it, e.g. linux-image-rt-amd64",
            );
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
        const manage = manageFlag ? { kernelPackage: kernelPackage ?? "linux-image-rt-amd64" } : undefined;

        let topology: HostTopology | undefined;
        if (spec.topology !== undefined) topology = readTopology(r, spec.topology, joinPath(p, "topology"));
        else if (name !== undefined && discovered[name]) topology = discovered[name];
        else if (name !== undefined) {
            r.report(
                joinPath(p, "topology"),
                undefined,
                `is not declared and host ${name} was not discovered`,
                'declare topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, or make the host reachable so the kit reads it',
            );
        }
        const hkPath = joinPath(p, "housekeepingCpus");
        const isoPath = joinPath(p, "isolatedCpus");
        let housekeeping = readCpuSet(r, spec.housekeepingCpus, hkPath);
        let isolated = readCpuSet(r, spec.isolatedCpus, isoPath);
        const hugepages: CheckedHost["hugepages"] = [];
        const poolPaths = new Map<string, string>();
        const pfs: CheckedHost["pfs"] = [];
        const hostOk = name !== undefined && topology !== undefined;
        const problemsBefore = r.problems.length;
        let problemsBeforePools = problemsBefore;
        let poolsOk = true;

        if (topology) {
            const all = topology.numaNodes.flatMap((n) => n.cpus).sort((a, b) => a - b);
            const allText = formatCpuList(all);
            for (const [list, listPath, raw] of [
                [housekeeping, hkPath, spec.housekeepingCpus],
                [isolated, isoPath, spec.isolatedCpus],
            ] as const) {
                const missing = (list ?? []).filter((c) => !all.includes(c));
                if (missing.length)
                    r.report(
                        listPath,
                        raw,
                        `has CPU ${formatCpuList(missing)}, which host ${name} does not have (it has ${allText})`,
                        `use CPUs from ${allText}`,
                    );
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

            problemsBeforePools = r.problems.length;
            const poolItems = r.list(spec.hugepages, joinPath(p, "hugepages"), "[{ node: 0, size: 2M, count: 256 }]") ?? [];
            poolItems.forEach((poolItem, j) => {
                const pp = joinPath(joinPath(p, "hugepages"), j);
                const pool = r.object(poolItem, pp, ["node", "size", "count"], ["node", "size", "count"]);
                if (!pool) return;
                const node = r.integer(pool.node, joinPath(pp, "node"), 0, 1023);
                const size = pool.size === undefined ? undefined : r.unit(MemorySize.tryParse(pool.size, joinPath(pp, "size")));
                const count = r.integer(pool.count, joinPath(pp, "count"), 0, 1 << 24);
                if (node !== undefined && !topology!.numaNodes.some((n) => n.id === node)) {
                    r.report(
                        joinPath(pp, "node"),
                        node,
                        `host ${name} has no NUMA node ${node}`,
                        `use one of ${topology!.numaNodes.map((n) => n.id).join(", ")}`,
                    );
                    return;
                }
                if (size && size.kibibytes !== 2048 && size.kibibytes !== 1048576) {
                    r.report(joinPath(pp, "size"), pool.size, "is not a hugepage size", 'write "2M" or "1G"');
                    return;
                }
                if (node === undefined || !size || count === undefined) return;
                const key = `${node}/${size.kibibytes}`;
                if (poolPaths.has(key)) {
                    r.report(
                        pp,
                        poolItem,
                        `repeats the ${size} pool of node ${node} declared at ${poolPaths.get(key)}`,
                        "declare one pool per node and size, with the total count",
                    );
                    return;
                }
                poolPaths.set(key, pp);
                hugepages.push({ node, sizeKiB: size.kibibytes, count, path: pp });
            });

            poolsOk = r.problems.length === problemsBeforePools;
            const pfItems = r.list(spec.pfs, joinPath(p, "pfs"), "[{ name: enp1s0, vfCount: 8, numaNode: 0 }]") ?? [];
            const pfSeen = new Map<string, string>();
            pfItems.forEach((pfItem, j) => {
                const pp = joinPath(joinPath(p, "pfs"), j);
                const pf = r.object(pfItem, pp, ["name", "vfCount", "numaNode"], ["name"]);
                if (!pf) return;
                let pfName = r.string(pf.name, joinPath(pp, "name"));
                if (pfName !== undefined && !netdevNamePattern.test(pfName)) {
                    r.report(
                        joinPath(pp, "name"),
                        pfName,
                        "is not a network interface name",
                        'write the PF\'s name as `ip link` shows it: up to 15 letters, digits, "_", "." and "-", e.g. enp1s0f0',
                    );
                    pfName = undefined;
                }
                const vfCount = r.integer(pf.vfCount, joinPath(pp, "vfCount"), 0, 4096);
                const numaNode = r.integer(pf.numaNode, joinPath(pp, "numaNode"), 0, 1023);
                if (numaNode !== undefined && !topology!.numaNodes.some((n) => n.id === numaNode)) {
                    r.report(
                        joinPath(pp, "numaNode"),
                        numaNode,
                        `host ${name} has no NUMA node ${numaNode}`,
                        `use one of ${topology!.numaNodes.map((n) => n.id).join(", ")}`,
                    );
                }
                if (pfName === undefined) return;
                r.unique(pfName, joinPath(pp, "name"), pfSeen, "PF");
                pfs.push({ name: pfName, ...(vfCount !== undefined ? { vfCount } : {}), ...(numaNode !== undefined ? { numaNode } : {}) });
            });
        }
        const knobs = readKnobs(r, spec.guestKnobs, joinPath(p, "guestKnobs"), { ...defaultKnobs, ...(name !== undefined ? knobDefaults[name] : {}) });
        if (!hostOk || hosts.has(name!)) return;
        hosts.set(name!, {
            knobs,
            plannable: problemsBeforePools === problemsBefore,
            poolsOk,
            checked: {
                name: name!,
                path: p,
                uri,
                accel: (accel ?? "auto") as CheckedHost["accel"],
                topology: topology!,
                housekeepingCpus: housekeeping ?? [],
                isolatedCpus: isolated ?? [],
                hugepages,
                pfs,
                ...(ssh ? { ssh } : {}),
                ...(manage ? { manage } : {}),
            },
        });
    });
    return hosts;
}

/** `uriHost`: the host part of the host's libvirt URI, when it is remote and allowed. */
function readSsh(r: SpecReader, value: unknown, path: string, uriHost: string | undefined, host: string | undefined): CheckedHost["ssh"] {
    const spec = r.object(value, path, sshKeys, ["privateKeySecret"]);
    if (!spec) return undefined;
    let user = r.string(spec.user, joinPath(path, "user")) ?? "root";
    const userProblem = sshUserProblem(user);
    if (userProblem) {
        r.report(joinPath(path, "user"), user, userProblem.reason, userProblem.fix);
        user = "";
    }
    let address = r.string(spec.address, joinPath(path, "address")) ?? uriHost ?? host ?? "";
    const addressProblem = spec.address === undefined ? undefined : sshAddressProblem(address);
    if (addressProblem) {
        r.report(joinPath(path, "address"), address, addressProblem.reason, addressProblem.fix);
        address = "";
    }
    const port = spec.port === undefined ? 22 : r.integer(spec.port, joinPath(path, "port"), 1, 65535);
    const secretPath = joinPath(path, "privateKeySecret");
    const privateKeySecret = r.string(spec.privateKeySecret, secretPath);
    if (privateKeySecret !== undefined && !configKeyPattern.test(privateKeySecret)) {
        r.report(
            secretPath,
            privateKeySecret,
            "is not a config key name (the key itself never goes in the spec)",
            "name a secret config key, e.g. hostKeyLab1, set with pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519",
        );
        return undefined;
    }
    const knownHosts = readKnownHosts(r, spec.knownHosts, joinPath(path, "knownHosts"));
    if (privateKeySecret === undefined || port === undefined || user === "" || address === "") return undefined;
    return { user, address, port, privateKeySecret, ...(knownHosts ? { knownHosts } : {}) };
}

/** Pinned host keys: known_hosts lines, each "[host[:port]] <key type> <base64 key>", nothing that ssh could read as an option. */
function readKnownHosts(r: SpecReader, value: unknown, path: string): string[] | undefined {
    if (value === undefined || value === null) return undefined;
    const lines = typeof value === "string" ? value.split("\n") : Array.isArray(value) ? value : undefined;
    const fix = 'paste the lines `ssh-keyscan -p <port> <address>` prints, e.g. "ssh-ed25519 AAAAC3Nza..."';
    // A private key pasted here is one problem about the whole value (described, never shown), not one per line of it.
    if (typeof value === "string" && describeSecret(value) !== undefined) {
        r.report(path, value, "is not known_hosts lines (host, key type, base64 key)", fix);
        return undefined;
    }
    if (!lines) {
        r.report(path, value, "must be known_hosts lines (a text or a list of texts)", fix);
        return undefined;
    }
    const keyLine = /^(?:[^\s#-][^\s]*\s+)?(?:ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)\s+[A-Za-z0-9+/]+={0,3}(?:\s+[^\s]*)?$/;
    const out: string[] = [];
    lines.forEach((line, i) => {
        const text = typeof line === "string" ? line.trim() : line;
        if (text === "" || (typeof text === "string" && text.startsWith("#"))) return;
        if (typeof text !== "string" || !keyLine.test(text)) {
            r.report(Array.isArray(value) ? joinPath(path, i) : path, line, "is not a known_hosts line (host, key type, base64 key)", fix);
            return;
        }
        out.push(text);
    });
    return out.length > 0 ? out : undefined;
}

function readName(r: SpecReader, value: unknown, path: string): string | undefined {
    const name = r.string(value, path);
    if (name === undefined) return undefined;
    if (!safeNamePattern.test(name) || name.length > maxNameLength) {
        r.report(
            path,
            name,
            `is not a safe name (it becomes part of domain and file names)`,
            `use up to ${maxNameLength} letters, digits, "-" and "_", starting with a letter or digit`,
        );
        return undefined;
    }
    return name;
}

function readKnobs(r: SpecReader, value: unknown, path: string, base: DomainKnobs): DomainKnobs {
    const knobs: DomainKnobs = { ...base };
    if (value === undefined || value === null) return knobs;
    const spec = r.object(value, path, Object.keys(defaultKnobs));
    if (!spec) return knobs;
    for (const key of Object.keys(defaultKnobs) as (keyof DomainKnobs)[]) {
        const p = joinPath(path, key);
        const v = spec[key];
        if (v === undefined) continue;
        const kind = typeof defaultKnobs[key];
        if (kind === "boolean") {
            const b = r.boolean(v, p);
            if (b !== undefined) (knobs as unknown as Record<string, unknown>)[key] = b;
        } else if (kind === "number") {
            const n = r.integer(v, p, 0, 1 << 20);
            if (n !== undefined) (knobs as unknown as Record<string, unknown>)[key] = n;
        } else {
            const s = r.string(v, p);
            if (s !== undefined && !/^[A-Za-z0-9_.-]+$/.test(s))
                r.report(p, s, "is not a CPU model name", 'write a model libvirt knows, e.g. "maximum" or "qemu64"');
            else if (s !== undefined) (knobs as unknown as Record<string, unknown>)[key] = s;
        }
    }
    return knobs;
}

/** `declaredHosts`: every host name written, even of hosts with problems (their guests are not blamed again). */
function readGuests(r: SpecReader, value: unknown, path: string, hosts: Map<string, HostDraft>, declaredHosts: Set<string>): Map<string, GuestDraft> {
    const guests = new Map<string, GuestDraft>();
    const items = r.list(value, path, "[{ name: vnf, memory: 256M }]");
    if (value !== undefined && value !== null && items && items.length === 0) r.report(path, value, "lists no guests", "declare at least one guest");
    const seen = new Map<string, string>();
    const pciSeen = new Map<string, string>();
    const macSeen = new Map<string, string>();
    /** Per host, "pf VF n" → path of the guest's VF entry that took it first. */
    const vfSeen = new Map<string, Map<string, string>>();
    (items ?? []).forEach((item, i) => {
        const p = joinPath(path, i);
        const f = (key: string) => joinPath(p, key);
        const spec = r.object(item, p, guestKeys, ["name", "memory"]);
        if (!spec) return;
        const name = readName(r, spec.name, f("name"));
        if (name !== undefined) r.unique(name, f("name"), seen, "guest");
        let plannable = name !== undefined;

        let host: HostDraft | undefined;
        const hostName = r.string(spec.host, f("host"));
        if (hostName !== undefined) {
            host = hosts.get(hostName);
            if (!host && !declaredHosts.has(hostName)) r.unknownReference(f("host"), hostName, "host", declaredHosts);
        } else if (spec.host === undefined && declaredHosts.size === 1) {
            host = [...hosts.values()][0];
        } else if (spec.host === undefined && declaredHosts.size > 1) {
            r.report(f("host"), undefined, "is required when the pod has several hosts", `add host: one of ${[...declaredHosts].join(", ")}`);
        }

        const vcpusGiven = r.integer(spec.vcpus, f("vcpus"), 1, maxVcpus);
        if (spec.vcpus !== undefined && vcpusGiven === undefined) plannable = false;
        const vcpus = vcpusGiven ?? 1;
        let rtVcpus = r.integerList(spec.rtVcpus, f("rtVcpus"), 0, maxVcpus - 1);
        if (spec.rtVcpus !== undefined && rtVcpus === undefined) plannable = false;
        if (rtVcpus) {
            const outside = rtVcpus.filter((v) => v >= vcpus);
            if (outside.length) {
                r.report(
                    f("rtVcpus"),
                    spec.rtVcpus,
                    `names vCPU ${outside.join(", ")}, but the guest has vCPUs 0-${vcpus - 1}`,
                    `list vCPUs below ${vcpus}, or raise vcpus`,
                );
                plannable = false;
            }
        }
        rtVcpus = (rtVcpus ?? (vcpus > 1 ? Array.from({ length: vcpus - 1 }, (_, v) => v + 1) : [0])).sort((a, b) => a - b);
        const fifoPriority = r.integer(spec.fifoPriority, f("fifoPriority"), 1, 99) ?? 1;
        const cpus = readCpuSet(r, spec.cpus, f("cpus"));
        const emulatorCpus = readCpuSet(r, spec.emulatorCpus, f("emulatorCpus"));
        const iothreadCpus = readCpuSet(r, spec.iothreadCpus, f("iothreadCpus"));
        if (
            [
                ["cpus", cpus],
                ["emulatorCpus", emulatorCpus],
                ["iothreadCpus", iothreadCpus],
            ].some(([k, v]) => spec[k as string] !== undefined && v === undefined)
        )
            plannable = false;
        for (const [key, list] of [
            ["emulatorCpus", emulatorCpus],
            ["iothreadCpus", iothreadCpus],
        ] as const) {
            if (list && list.length === 0) {
                r.report(f(key), spec[key], "is empty", "list at least one housekeeping CPU, or leave it out");
                plannable = false;
            }
        }
        const iothreads = r.integer(spec.iothreads, f("iothreads"), 0, 64) ?? 0;
        if (spec.iothreadCpus !== undefined && spec.iothreads === undefined) {
            r.report(f("iothreadCpus"), spec.iothreadCpus, "is set but the guest has no I/O threads", "add iothreads: 1 (or more), or remove iothreadCpus");
        }
        const numaNode = r.integer(spec.numaNode, f("numaNode"), 0, 1023);
        const knobs = readKnobs(r, spec.knobs, f("knobs"), host?.knobs ?? defaultKnobs);

        const memory = spec.memory === undefined ? undefined : r.unit(MemorySize.tryParse(spec.memory, f("memory")));
        if (memory && memory.bytes < minGuestMemory) {
            r.report(f("memory"), spec.memory, `is ${memory}, too little for a Linux guest`, 'give at least "32M", e.g. "256M" (a bare number means bytes)');
        }
        let pageSizeKiB = knobs.hugepages ? 2048 : 4;
        /** False when pageSize is unusable: checks that depend on it are skipped, so no problem names a page size nobody wrote. */
        let pageSizeOk = true;
        if (spec.pageSize !== undefined) {
            const size = r.unit(MemorySize.tryParse(spec.pageSize, f("pageSize")));
            if (!size) pageSizeOk = false;
            else if (!pageSizesKiB.includes(size.kibibytes)) {
                r.report(f("pageSize"), spec.pageSize, "is not a page size of x86-64", 'write "4K" (no hugepages), "2M" or "1G"');
                pageSizeOk = false;
            } else {
                pageSizeKiB = size.kibibytes;
                const knobGiven = (spec.knobs as Record<string, unknown> | undefined)?.hugepages;
                if (knobGiven === false && pageSizeKiB !== 4) {
                    r.report(
                        f("pageSize"),
                        spec.pageSize,
                        "asks for hugepages while knobs.hugepages is false",
                        'remove one of them: pageSize "4K" means no hugepages',
                    );
                }
                knobs.hugepages = pageSizeKiB !== 4;
            }
        }
        if (memory && memory.bytes > maxGuestMemory) {
            r.report(
                f("memory"),
                spec.memory,
                `is ${memory}, more than the ${MemorySize.ofBytes(maxGuestMemory)} the kit gives a guest`,
                "give the guest less memory",
            );
        } else if (pageSizeOk && memory && memory.bytes >= minGuestMemory && !memory.isMultipleOf(MemorySize.ofKibibytes(pageSizeKiB))) {
            const page = MemorySize.ofKibibytes(pageSizeKiB);
            const up = MemorySize.ofBytes(Math.ceil(memory.bytes / page.bytes) * page.bytes);
            r.report(f("memory"), spec.memory, `is not a whole number of ${page} pages`, `write "${up}" or use a smaller pageSize`);
        }

        const kernel: GuestDraft["kernel"] = {};
        if (spec.kernelArgs !== undefined) {
            const ka = r.object(spec.kernelArgs, f("kernelArgs"), ["isolate", "isolcpusFlags", "extra"]);
            if (ka) {
                const isolate = r.boolean(ka.isolate, joinPath(f("kernelArgs"), "isolate"));
                if (isolate !== undefined) kernel.isolate = isolate;
                for (const key of ["isolcpusFlags", "extra"] as const) {
                    const kp = joinPath(f("kernelArgs"), key);
                    const list = r.list(ka[key], kp, '["nosoftlockup"]');
                    if (!list) continue;
                    const strings = list.map((a, j) => r.string(a, joinPath(kp, j)));
                    const bad = strings.findIndex((s) => s !== undefined && /\s/.test(s));
                    const unknownFlag = key === "isolcpusFlags" ? strings.findIndex((s) => s !== undefined && !isolcpusFlags.includes(s)) : -1;
                    if (bad >= 0) r.report(joinPath(kp, bad), strings[bad], "contains white space", "give each kernel argument as its own list item");
                    else if (unknownFlag >= 0) {
                        const word = strings[unknownFlag]!;
                        const guess = closestMatch(word, isolcpusFlags);
                        r.report(
                            joinPath(kp, unknownFlag),
                            word,
                            "is not an isolcpus flag the kernel knows",
                            guess ? `did you mean "${guess}"?` : `use ${isolcpusFlags.join(", ")}`,
                        );
                    } else if (strings.every((s) => s !== undefined)) kernel[key] = strings as string[];
                }
            }
        }

        const hostVfs = vfSeen.get(host?.checked.name ?? "") ?? new Map<string, string>();
        if (host) vfSeen.set(host.checked.name, hostVfs);
        const vfs = readVfs(r, spec.vfs, f("vfs"), host, pciSeen, macSeen, hostVfs);
        let chosenNode = numaNode;
        const pfNodes = [...new Set(vfs.map((v) => host?.checked.pfs.find((pf) => pf.name === v.pf)?.numaNode).filter((n): n is number => n !== undefined))];
        if (pfNodes.length > 1) {
            r.report(
                f("vfs"),
                spec.vfs,
                `takes VFs from PFs on NUMA nodes ${pfNodes.join(" and ")}; a guest's memory and CPUs sit on one node`,
                "take VFs of PFs on one node, or split the guest",
            );
        } else if (pfNodes.length === 1 && numaNode !== undefined && numaNode !== pfNodes[0]) {
            r.report(
                f("numaNode"),
                numaNode,
                `is not the node of the guest's VFs (their PF is on node ${pfNodes[0]}); every packet would cross the interconnect`,
                `set numaNode: ${pfNodes[0]} or take VFs of a PF on node ${numaNode}`,
            );
        } else if (pfNodes.length === 1) chosenNode = pfNodes[0];

        if (name === undefined || guests.has(name)) return;
        guests.set(name, {
            path: p,
            name,
            host,
            vcpus,
            rtVcpus,
            fifoPriority,
            cpus,
            emulatorCpus,
            iothreads,
            iothreadCpus,
            memory,
            pageSizeKiB,
            pageSizeWritten: spec.pageSize,
            numaNode: chosenNode,
            vfs,
            kernel,
            knobs,
            plannable: plannable && pageSizeOk && host !== undefined && memory !== undefined && memory.bytes <= maxGuestMemory,
        });
    });
    return guests;
}

function readVfs(
    r: SpecReader,
    value: unknown,
    path: string,
    host: HostDraft | undefined,
    pciSeen: Map<string, string>,
    macSeen: Map<string, string>,
    vfSeen: Map<string, string>,
): CheckedVf[] {
    const items = r.list(value, path, '[{ pf: enp1s0, pciAddress: "0000:01:10.2" }]') ?? [];
    const vfs: CheckedVf[] = [];
    items.forEach((item, j) => {
        const p = joinPath(path, j);
        const f = (key: string) => joinPath(p, key);
        const spec = r.object(item, p, vfKeys, ["pf", "pciAddress"]);
        if (!spec) return;
        if (spec.vf === undefined || spec.vf === null) {
            r.report(
                f("vf"),
                undefined,
                "is required: the kit creates the VF and sets its trust and spoofchk by its index on the PF (`ip link set <pf> vf <index>`)",
                "add vf: <index of the VF on its PF>, e.g. vf: 0",
            );
        }
        const pfName = r.string(spec.pf, f("pf"));
        const vf = r.integer(spec.vf, f("vf"), 0, 4095);
        const pci = spec.pciAddress === undefined ? undefined : r.unit(PciAddress.tryParse(spec.pciAddress, f("pciAddress")));
        const mac = spec.mac === undefined ? undefined : r.unit(MacAddress.tryParse(spec.mac, f("mac")));
        const vlan = r.integer(spec.vlan, f("vlan"), 1, 4094);
        const trust = r.boolean(spec.trust, f("trust")) ?? false;
        const spoofchk = r.boolean(spec.spoofchk, f("spoofchk")) ?? true;
        const attach = r.choice(spec.attach, f("attach"), VF_ATTACH) ?? "interface";
        if (host && pfName !== undefined) {
            const pf = host.checked.pfs.find((x) => x.name === pfName);
            if (!pf) {
                r.unknownReference(
                    f("pf"),
                    pfName,
                    `PF of host ${host.checked.name}`,
                    host.checked.pfs.map((x) => x.name),
                );
            } else if (vf !== undefined && pf.vfCount === undefined) {
                r.report(
                    f("vf"),
                    vf,
                    `is a VF of PF ${pfName}, whose vfCount host ${host.checked.name} does not give`,
                    `add vfCount (how many VFs the PF gets) to PF ${pfName} of host ${host.checked.name}`,
                );
            } else if (vf !== undefined && pf.vfCount !== undefined && vf >= pf.vfCount) {
                r.report(
                    f("vf"),
                    vf,
                    `is beyond the ${pf.vfCount} VFs of PF ${pfName} (VFs 0-${pf.vfCount - 1})`,
                    `use a VF below ${pf.vfCount}, or raise vfCount of PF ${pfName} on host ${host.checked.name}`,
                );
            }
        }
        if (pci) r.unique(pci.toString(), f("pciAddress"), pciSeen, "VF PCI address");
        // A repeated PCI address already says the VF is taken twice; the index would say it again.
        const pciNew = !pci || pciSeen.get(pci.toString()) === f("pciAddress");
        if (host && pfName !== undefined && vf !== undefined && pciNew) {
            r.unique(`${pfName} VF ${vf}`, f("vf"), vfSeen, `VF of host ${host.checked.name}, ${pfName} VF ${vf},`);
        }
        if (mac) r.unique(mac.toString(), f("mac"), macSeen, "MAC address");
        if (pfName === undefined || !pci) return;
        vfs.push({
            pf: pfName,
            ...(vf !== undefined ? { vf } : {}),
            pciAddress: pci,
            ...(mac ? { mac } : {}),
            ...(vlan !== undefined ? { vlan } : {}),
            trust,
            spoofchk,
            attach,
        });
    });
    return vfs;
}

function readLinks(r: SpecReader, value: unknown, path: string, guests: Map<string, GuestDraft>): CheckedLink[] {
    const links: CheckedLink[] = [];
    const items = r.list(value, path, "[{ name: ring0, size: 4M, members: [vnf, peer] }]") ?? [];
    const seen = new Map<string, string>();
    items.forEach((item, i) => {
        const p = joinPath(path, i);
        const f = (key: string) => joinPath(p, key);
        const spec = r.object(item, p, linkKeys, ["name", "members"]);
        if (!spec) return;
        const name = readName(r, spec.name, f("name"));
        if (name !== undefined) r.unique(name, f("name"), seen, "link");
        const hugepages = r.boolean(spec.hugepages, f("hugepages")) ?? false;
        const size = r.unit(MemorySize.tryParse(spec.size ?? "4M", f("size")));
        if (size) {
            if (size.bytes > maxLinkBytes) {
                r.report(
                    f("size"),
                    spec.size,
                    `is ${size}, more than the ${MemorySize.ofBytes(maxLinkBytes)} the kit maps into each member guest`,
                    `write "${MemorySize.ofBytes(maxLinkBytes)}" or less; an ivshmem ring of a few MiB carries line rate`,
                );
            } else if (!size.isPowerOfTwo() || size.bytes < MiB) {
                const up = MemorySize.ofBytes(Math.max(MiB, 2 ** Math.ceil(Math.log2(size.bytes))));
                r.report(f("size"), spec.size, `is ${size}, but an ivshmem region must be a power of two of at least 1M`, `write "${up}"`);
            } else if (hugepages && size.bytes < 2 * MiB) {
                r.report(f("size"), spec.size, "is smaller than one 2M hugepage", 'write "2M" or more, or set hugepages: false');
            }
        }
        const membersRaw = r.list(spec.members, f("members"), "[vnf, peer]");
        const members: string[] = [];
        let ok = membersRaw !== undefined;
        (membersRaw ?? []).forEach((m, j) => {
            const mp = joinPath(f("members"), j);
            const member = r.string(m, mp);
            if (member === undefined) return void (ok = false);
            if (members.includes(member)) {
                r.report(mp, member, `repeats guest ${member}`, "list each guest once");
                return void (ok = false);
            }
            if (!guests.has(member)) {
                r.unknownReference(mp, member, "guest", guests.keys());
                ok = false;
            }
            members.push(member);
        });
        if (membersRaw && members.length < 2) {
            r.report(
                f("members"),
                spec.members,
                `has ${members.length} guest${members.length === 1 ? "" : "s"}; a link joins at least two`,
                "list two or more guests",
            );
            ok = false;
        }
        const hostNames = [...new Set(members.map((m) => guests.get(m)?.host?.checked.name).filter((h): h is string => h !== undefined))];
        if (hostNames.length > 1) {
            r.report(
                f("members"),
                spec.members,
                `has guests on hosts ${hostNames.join(" and ")}; shared memory exists on one host only`,
                "put every member guest on the same host",
            );
            ok = false;
        }
        if (!ok || name === undefined || !size) return;
        links.push({ name, size, members, hugepages, host: hostNames[0] ?? "" });
    });
    return links;
}
