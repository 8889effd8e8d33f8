/**
 * Two small real guests joined by an ivshmem link, for the inter-VM probe's
 * known-answer test: `vnf` consumes, `peer` produces, over `ring0` (4 MiB,
 * /dev/shm); each guest has one vCPU, on host CPU 0. Not on the isolated
 * CPU 1: there other engineers' FIFO vCPUs share the host's RT budget, and an
 * equal-priority spinner kept the consumer's FIFO vCPU off the CPU for up to
 * ~1 s (clean gaps of 1004–1028 ms, the host's 950 ms RT period). Planned by the kit's own planner and booted through the ShmRegion
 * and Domain providers, exactly as a pod boots them; the teardown removes the
 * domains and the shm file even when the test fails.
 */
import type { ExecutionContext } from "ava";
import { ensureGuestImage } from "../../guest-images/build";
import { hostAccess } from "../../components/host/access";
import { chooseAccel } from "../../components/host/accel";
import { discoverMemoryLocking } from "../../components/host/memoryLocking";
import * as domainOps from "../../components/libvirt/domainOperations";
import * as shmOps from "../../components/libvirt/shmOperations";
import { resolvePod } from "../../components/plan/resolvePod";
import type { InterVmLinkView } from "../../components/probes/kinds/interVm/run";
import type { ProbeGuest } from "../../components/probes/kinds/latency/run";
import { planGuestInputs } from "./domainInputs";
import { KAT_PREFIX } from "./katGuest";
import { LOCAL_URI, removeDomainsWithPrefix } from "./host";

export interface KatLink {
    consumer: ProbeGuest;
    producer: ProbeGuest;
    link: InterVmLinkView;
    /** Host path of nfvkit-ring from the guest image. */
    ringTool: string;
}

/** Boots both guests and the link; `prefix` must start with KAT_PREFIX so a teardown never reaches a foreign domain. */
export async function useKatLink(t: ExecutionContext, prefix: string): Promise<KatLink> {
    if (!prefix.startsWith(KAT_PREFIX)) throw new Error(`KAT guests are named ${KAT_PREFIX}…, got ${prefix}`);
    const image = await ensureGuestImage();
    const knobs = (await discoverMemoryLocking(hostAccess())).supported ? {} : { locked: false, memtuneHardLimit: false };
    const guest = (name: string, vcpus: number, rtVcpus: number[], cpus: number[]) => ({
        name,
        host: "local",
        vcpus,
        rtVcpus,
        cpus,
        memory: "256M",
        pageSize: "4K",
        emulatorCpus: "0",
        knobs,
        ...(rtVcpus.length > 0 ? { fifoPriority: 1 } : {}),
    });
    const plan = resolvePod(
        {
            hosts: [{ name: "local", uri: LOCAL_URI, housekeepingCpus: "0", isolatedCpus: "1", topology: { numaNodes: [{ id: 0, cpus: "0-1" }] } }],
            guests: [guest("vnf", 1, [], [0]), guest("peer", 1, [], [0])],
            links: [{ name: "ring0", size: "4M", members: ["vnf", "peer"] }],
        },
        { namePrefix: prefix },
    );
    const linkPlan = plan.links[0];
    const shm = { uri: LOCAL_URI, path: linkPlan.path, sizeBytes: linkPlan.size.bytes, hugepages: false };
    const ctx = { urn: `urn:pulumi:kat::nfv-testpod::nfvkit:link:IvshmemLink$nfvkit:libvirt:ShmRegion::${prefix}-ring0` };
    t.teardown(async () => {
        await removeDomainsWithPrefix(prefix);
        await shmOps.delete(linkPlan.path, shm, ctx);
    });
    await shmOps.create(shm, ctx);
    const { accel } = await chooseAccel(hostAccess(), "auto");
    // One after another: two TCG boots at once on a loaded 2-CPU host only slow each other down.
    const probeGuests: Record<string, ProbeGuest> = {};
    for (const g of plan.guests) {
        const ins = await planGuestInputs(image, g);
        const created = await domainOps.create(ins, { urn: `urn:pulumi:kat::nfv-testpod::nfvkit:guest:NfvGuest$nfvkit:libvirt:Domain::${prefix}-${g.name}` });
        probeGuests[g.name] = {
            guest: g.name,
            uri: LOCAL_URI,
            domain: (created.outs as domainOps.DomainOutputs).name,
            rtVcpus: [...g.probe.rtVcpus],
            housekeepingVcpus: [...g.probe.housekeepingVcpus],
            hostHousekeepingCpus: [...g.probe.hostHousekeepingCpus],
        };
    }
    const link: InterVmLinkView = {
        name: linkPlan.name,
        uri: LOCAL_URI,
        shmName: linkPlan.shmName,
        path: linkPlan.path,
        hugepages: false,
        memoryNode: 0,
        accel,
        hostIsolatedCpus: [1],
        members: Object.fromEntries(plan.guests.map((g) => [g.name, { vcpuHostCpus: g.pins.map((p) => p.hostCpu), vcpuNodes: g.pins.map((p) => p.numaNode) }])),
    };
    return { consumer: probeGuests.vnf, producer: probeGuests.peer, link, ringTool: image.programs?.["nfvkit-ring"] ?? "" };
}
