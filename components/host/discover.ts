/**
 * Gathers what the planner needs to know about each host of a spec before
 * planning: its topology (from libvirt) and its accelerator. Tolerant of a bad
 * spec: validation, which runs next, reports spec problems with their paths.
 */
import type { HostFacts } from "./facts";
import { chooseAccel, type Accel } from "./accel";
import { hostAccess, targetForHost, virshUriFor, type HostAccess } from "./access";
import { discoverMemoryLocking } from "./memoryLocking";
import { readKernelFacts } from "./readiness";
import { discoverPfs } from "./sriov";
import { discoverTopology } from "./topology";

export interface DiscoverOptions {
    /** Progress lines. */
    log?: (line: string) => void;
    /**
     * How each host's files and commands are reached.
     * @default this machine for `qemu:///system`, none for other hosts (their facts then come from the spec)
     */
    access?: (host: { name: string; uri: string }) => HostAccess | undefined;
}

function defaultAccess(host: { name: string; uri: string }): HostAccess | undefined {
    const target = targetForHost(host);
    return target ? hostAccess(target) : undefined;
}

export async function discoverHosts(spec: unknown, opts: DiscoverOptions = {}): Promise<Record<string, HostFacts>> {
    const hosts = (spec as { hosts?: unknown })?.hosts;
    const facts: Record<string, HostFacts> = {};
    if (!Array.isArray(hosts)) return facts;
    for (const host of hosts as Array<Record<string, unknown>>) {
        if (typeof host?.name !== "string") continue;
        const uri = typeof host.uri === "string" ? host.uri : "qemu:///system";
        const requested = host.accel === "kvm" || host.accel === "tcg" ? (host.accel as Accel) : "auto";
        const access = (opts.access ?? defaultAccess)({ name: host.name, uri });
        // virsh to a host reached over SSH goes through that host's pinned, shared connection.
        const virshUri = await virshUriFor(access, uri);
        const accel = await chooseAccel(virshUri, requested, access);
        let topology: HostFacts["topology"];
        if (host.topology !== undefined) {
            // Declared wins anyway; not asking keeps previews of large or unreachable pods fast.
            opts.log?.(`host ${host.name} (${uri}): topology declared in the spec; ${accel.reason}`);
        } else
            try {
                const t = await discoverTopology(virshUri);
                topology = { numaNodes: t.numaNodes, smtSiblings: t.smtSiblings };
                opts.log?.(
                    `host ${host.name} (${uri}): ${t.numaNodes.length} NUMA node(s), CPUs ${t.numaNodes.map((n) => n.cpus.join(",")).join(" | ")}; ${accel.reason}`,
                );
            } catch (err) {
                opts.log?.(`host ${host.name} (${uri}): topology not discovered (${(err as Error).message.split("\n")[0]}); using the declared one`);
            }
        const memoryLocking = await discoverMemoryLocking(access);
        if (!memoryLocking.supported) opts.log?.(`host ${host.name}: ${memoryLocking.reason}`);
        // A host the kit cannot reach has no kernel facts: readiness is then not assessed for it.
        const kernel = access ? await readKernelFacts(access) : undefined;
        // PFs are read only for hosts whose spec names PFs: VF requests are checked against them.
        const pfs = access && Array.isArray(host.pfs) && host.pfs.length > 0 ? await discoverPfs(access).catch(() => undefined) : undefined;
        if (pfs)
            opts.log?.(`host ${host.name}: SR-IOV PFs ${pfs.map((p) => `${p.name} (${p.driver}, ${p.pciAddress}, ${p.totalVfs} VFs)`).join(", ") || "none"}`);
        facts[host.name] = { topology, accel, memoryLocking, kernel, ...(pfs ? { pfs } : {}) };
    }
    return facts;
}
