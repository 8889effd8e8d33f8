/**
 * Gathers what the planner needs to know about each host of a spec before
 * planning: its topology (from libvirt), its accelerator, whether libvirt may
 * lock memory there, its running kernel and its SR-IOV PFs. Every host is
 * asked through its HostAccess, which also gives its libvirt URI: a host the
 * kit has no access to is not asked at all (its facts come from the spec), so
 * nothing here ever reaches a host through the user's own ssh setup.
 * Tolerant of a bad spec: validation, which runs next, reports spec problems
 * with their paths.
 */
import type { HostFacts } from "./facts";
import { chooseAccel, unreachedAccel, type Accel } from "./accel";
import { hostAccess, targetForHost, type HostAccess } from "./access";
import { discoverMemoryLocking } from "./memoryLocking";
import { readKernelFacts } from "./readiness";
import { discoverPfs } from "./sriov";
import { discoverTopology } from "./topology";

export interface DiscoverOptions {
    /** Progress lines. */
    log?: (line: string) => void;
    /**
     * How each host's files, commands and libvirt are reached. A host given
     * none is not asked: its facts come from the spec.
     * @default this machine for `qemu:///system`, none for other hosts
     */
    access?: (host: { name: string; uri: string }) => HostAccess | undefined;
}

/** One host of the spec as discovery reads it (raw YAML: only what is well-formed is used). */
export interface DiscoverableHost {
    name: string;
    uri: string;
    accel?: unknown;
    topology?: unknown;
    pfs?: unknown;
}

function defaultAccess(host: { name: string; uri: string }): HostAccess | undefined {
    const target = targetForHost(host);
    return target ? hostAccess(target) : undefined;
}

/** The hosts of a raw spec that have a name, with the URI's default filled in. */
export function discoverableHosts(spec: unknown): DiscoverableHost[] {
    const hosts = (spec as { hosts?: unknown } | null | undefined)?.hosts;
    if (!Array.isArray(hosts)) return [];
    return (hosts as Array<Record<string, unknown> | null>)
        .filter((h): h is Record<string, unknown> => typeof h?.name === "string")
        .map((h) => ({ ...h, name: h.name as string, uri: typeof h.uri === "string" ? h.uri : "qemu:///system" }));
}

/** Facts of every named host of the spec; throws when a host the kit has access to cannot be read. */
export async function discoverHosts(spec: unknown, opts: DiscoverOptions = {}): Promise<Record<string, HostFacts>> {
    // All hosts at once: each is its own machine (or its own SSH connection), and a pod of many lab hosts would
    // otherwise wait for each in turn on every up and preview.
    const hosts = discoverableHosts(spec);
    const found = await Promise.all(hosts.map((host) => discoverHost(host, (opts.access ?? defaultAccess)(host), opts.log)));
    return Object.fromEntries(hosts.map((host, i) => [host.name, found[i]]));
}

/** One host's facts, read through `access`; without access, only what the spec says (and TCG unless it says otherwise). */
export async function discoverHost(host: DiscoverableHost, access: HostAccess | undefined, log?: (line: string) => void): Promise<HostFacts> {
    const requested = host.accel === "kvm" || host.accel === "tcg" ? (host.accel as Accel) : "auto";
    if (!access) {
        log?.(`host ${host.name} (${host.uri}): not reached (no access); its facts come from the spec`);
        return { accel: unreachedAccel(requested), memoryLocking: await discoverMemoryLocking(undefined) };
    }
    // The first command alone: over SSH it opens the connection the others then share (ControlMaster); started at
    // once, each would open its own.
    const accel = await chooseAccel(access, requested);
    // Each other fact is its own command or file on the host: read at once, then said in this order.
    const [discovered, memoryLocking, kernel, pfs] = await Promise.all([
        // Declared wins anyway; not asking keeps previews of large pods fast.
        host.topology !== undefined ? undefined : discoverTopology(access).catch((err: Error) => err),
        discoverMemoryLocking(access),
        readKernelFacts(access),
        // PFs are read only for hosts whose spec names PFs: VF requests are checked against them.
        Array.isArray(host.pfs) && host.pfs.length > 0 ? discoverPfs(access).catch(() => undefined) : undefined,
    ]);
    let topology: HostFacts["topology"];
    if (discovered === undefined) log?.(`host ${host.name} (${host.uri}): topology declared in the spec; ${accel.reason}`);
    else if (discovered instanceof Error)
        log?.(`host ${host.name} (${host.uri}): topology not discovered (${discovered.message.split("\n")[0]}); using the declared one`);
    else {
        topology = { numaNodes: discovered.numaNodes, smtSiblings: discovered.smtSiblings };
        log?.(
            `host ${host.name} (${host.uri}): ${discovered.numaNodes.length} NUMA node(s), CPUs ${discovered.numaNodes.map((n) => n.cpus.join(",")).join(" | ")}; ${accel.reason}`,
        );
    }
    if (!memoryLocking.supported) log?.(`host ${host.name}: ${memoryLocking.reason}`);
    if (pfs) log?.(`host ${host.name}: SR-IOV PFs ${pfs.map((p) => `${p.name} (${p.driver}, ${p.pciAddress}, ${p.totalVfs} VFs)`).join(", ") || "none"}`);
    return { topology, accel, memoryLocking, kernel, ...(pfs ? { pfs } : {}) };
}
