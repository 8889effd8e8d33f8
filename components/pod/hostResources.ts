/**
 * What a TestPod makes on its hosts, by walking the plan: the guest image on
 * every host with guests, the hugepage reservations, an RtHost per managed
 * host (with the reboot notice a preview shows), a SriovPf per PF whose VFs
 * the guests take, and the readiness of each host whose kernel was read.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostTarget } from "../host/access";
import type { HostFacts } from "../host/facts";
import { GuestImage } from "../host/GuestImage";
import { HugepageReservation } from "../host/HugepageReservation";
import { assessHostReadiness, describeUnready, type HostCheck, type HostKernelFacts } from "../host/readiness";
import { RtHost } from "../host/RtHost";
import type { RtHostOutputs } from "../host/rtHostOperations";
import { SriovPf } from "../host/SriovPf";
import type { PodPlan } from "../plan/podPlan";
import type { GuestImage as ImageFiles } from "../types/guestImage";

/** What a managed host's RtHost reports after `up`: its own outputs, the ones a person reads. */
export type ManagedHostSummary = Pick<RtHostOutputs, "kernelRelease" | "rebooted" | "rebootSeconds" | "convergedAt" | "checks">;

/** Per managed host, its RtHost's summary once `up` has run. */
export function managedHostSummaries(rtHosts: Record<string, RtHost>): Record<string, pulumi.Output<ManagedHostSummary>> {
    return Object.fromEntries(
        Object.entries(rtHosts).map(([host, rt]) => [
            host,
            pulumi
                .all([rt.kernelRelease, rt.rebooted, rt.rebootSeconds, rt.convergedAt, rt.checks])
                .apply(([kernelRelease, rebooted, rebootSeconds, convergedAt, checks]) => ({ kernelRelease, rebooted, rebootSeconds, convergedAt, checks })),
        ]),
    );
}

/** How a host is reached, as the resources' `access` input: absent means this machine. */
export type AccessOf = (host: string) => { access?: pulumi.Input<HostTarget> };

/** The guest image on every host that has guests: copied there by content hash, skipped when it is there. */
export function createImages(name: string, parent: pulumi.Resource, plan: PodPlan, image: pulumi.Input<ImageFiles>, access: AccessOf) {
    const images: Record<string, GuestImage> = {};
    for (const host of plan.hosts.filter((h) => plan.guests.some((g) => g.host === h.name))) {
        const files = pulumi.output(image);
        images[host.name] = new GuestImage(
            `${name}-image-${host.name}`,
            { host: host.name, hash: files.hash, files: files.apply((i) => [i.kernel, i.initrd]), ...access(host.name) },
            { parent },
        );
    }
    return images;
}

/** One reservation per host, NUMA node and page size the plan counted, each stamped with the stack's `lineage`. */
export function createReservations(name: string, parent: pulumi.Resource, plan: PodPlan, access: AccessOf, lineage?: pulumi.Input<string>) {
    const byHost = new Map<string, HugepageReservation[]>();
    for (const host of plan.hosts) {
        for (const need of host.hugepages) {
            const sizeKiB = need.pageSize.kibibytes;
            const reservation = new HugepageReservation(
                `${name}-hugepages-${host.name}-node${need.node}-${sizeKiB}k`,
                { uri: host.uri, host: host.name, node: need.node, sizeKiB, count: need.pages, ...(lineage ? { lineage } : {}), ...access(host.name) },
                { parent },
            );
            byHost.set(host.name, [...(byHost.get(host.name) ?? []), reservation]);
        }
    }
    return byHost;
}

/** Per host whose running kernel could be read: how it compares with the plan's kernel arguments and PREEMPT_RT. */
export function assessHosts(plan: PodPlan, hostFacts: Record<string, HostFacts> | undefined) {
    const hostReadiness: Record<string, HostCheck[]> = {};
    const hostUnready: string[] = [];
    for (const host of plan.hosts) {
        const kernel = hostFacts?.[host.name]?.kernel;
        if (!kernel) continue;
        hostReadiness[host.name] = assessHostReadiness(kernel, host.kernelArgs);
        hostUnready.push(...describeUnready(host.name, hostReadiness[host.name]));
    }
    return { hostReadiness, hostUnready };
}

/** An RtHost per host with `manage: true`: the kernel, boot args and tuning the plan computed for it, stamped with the stack's `lineage`. */
export function createRtHosts(
    name: string,
    parent: pulumi.Resource,
    plan: PodPlan,
    allowReboot: boolean,
    access: AccessOf,
    facts: Record<string, HostFacts>,
    lineage?: pulumi.Input<string>,
): Record<string, RtHost> {
    const out: Record<string, RtHost> = {};
    for (const host of plan.hosts) {
        if (!host.manage) continue;
        const notice = rebootNotice(host, facts[host.name]?.kernel);
        if (notice)
            pulumi.log.info(
                allowReboot
                    ? notice
                    : `${notice} (this stack does not allow the kit to reboot hosts: set nfv-testpod:allowHostReboot: true, or reboot it yourself after up)`,
            );
        out[host.name] = new RtHost(
            `${name}-${host.name}-rt`,
            {
                host: host.name,
                kernelPackage: host.manage.kernelPackage,
                // Only when the stack sets it: an RtHost made before the setting existed sees no change.
                ...(host.manage.hwlat ? { hwlat: host.manage.hwlat } : {}),
                kernelArgs: host.kernelArgs,
                housekeepingCpus: host.housekeepingCpus.toString(),
                isolatedCpus: host.isolatedCpus.toString(),
                allowReboot,
                ...(lineage ? { lineage } : {}),
                ...access(host.name),
            },
            { parent },
        );
    }
    return out;
}

/** The preview's words for a managed host whose running kernel lacks what the plan needs, e.g. `host lab-1: kernel args change (+nohz_full=2-3), reboot required`. */
export function rebootNotice(host: PodPlan["hosts"][number], kernel: HostKernelFacts | undefined): string | undefined {
    if (!kernel || !host.manage) return undefined;
    const reasons: string[] = [];
    if (!(kernel.realtime || /PREEMPT_RT/.test(kernel.version))) reasons.push(`kernel ${kernel.release} → PREEMPT_RT (${host.manage!.kernelPackage})`);
    const missing = assessHostReadiness(kernel, host.kernelArgs)
        .filter((c) => c.name.startsWith("boot arg ") && !c.pass)
        .map((c) => `+${c.expected}`);
    if (missing.length > 0) reasons.push(`kernel args change (${missing.join(" ")})`);
    return reasons.length > 0 ? `host ${host.name}: ${reasons.join(", ")}, reboot required` : undefined;
}

/** A SriovPf per PF whose VFs the pod's guests take, after the host's RtHost (the IOMMU args must be booted first), stamped with the stack's `lineage`. */
export function createSriovPfs(
    name: string,
    parent: pulumi.Resource,
    plan: PodPlan,
    access: AccessOf,
    rtHosts: Record<string, RtHost>,
    lineage?: pulumi.Input<string>,
): Map<string, SriovPf[]> {
    const out = new Map<string, SriovPf[]>();
    for (const host of plan.hosts) {
        for (const pf of host.pfs) {
            if (pf.vfs.length === 0) continue;
            const numVfs = pf.vfCount ?? Math.max(...pf.vfs.map((v) => v.vf)) + 1;
            const resource = new SriovPf(
                `${name}-${host.name}-${pf.name}`,
                {
                    host: host.name,
                    pf: pf.name,
                    numVfs,
                    vfs: pf.vfs.map((v) => ({
                        index: v.vf,
                        ...(v.mac ? { mac: v.mac.toString() } : {}),
                        ...(v.vlan !== undefined ? { vlan: v.vlan } : {}),
                        trust: v.trust,
                        spoofchk: v.spoofchk,
                        bind: "vfio-pci" as const,
                    })),
                    ...(lineage ? { lineage } : {}),
                    ...access(host.name),
                },
                { parent, dependsOn: rtHosts[host.name] ? [rtHosts[host.name]] : [] },
            );
            out.set(host.name, [...(out.get(host.name) ?? []), resource]);
        }
    }
    return out;
}
