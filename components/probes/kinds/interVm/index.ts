/**
 * The inter-VM kind: per `probes.interVm` entry, nfvkit-ring from one member
 * guest of an ivshmem link to the other (rate, round trips), and the same
 * program between two host processes on the link's backing file, the host's
 * own limit (docs/probes.md "The inter-VM probe"). It runs after the latency
 * probes: both use the guests' real-time vCPUs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PodPlan } from "../../../plan/podPlan";
import { formatTarget } from "../../verdict";
import type { ProbeKindModule } from "../kind";
import { checkInterVmSettings, DEFAULT_INTER_VM_BURST, type InterVmSetting } from "./config";
import { interVmChartName, interVmMarkdown, interVmRateSvg } from "./report";
import { interVmHtml } from "./html";
import { runInterVm, type InterVmLinkView } from "./run";
import type { InterVmResult } from "./types";
import { judgeInterVm, ZERO_BAD_PACKETS } from "./verdict";

export interface InterVmSettings {
    /**
     * The inter-VM probe: per ivshmem link, a packet ring from one member guest to the other,
     * with round trips and the host's own limit on the same memory (see config.ts).
     * @default []: a pod need not have links; list the ones to measure.
     */
    interVm: InterVmSetting[];
}

/** What the ProbeSuite records for it. */
export interface InterVmInputs {
    /** The pod's links as the probe sees them (placement, backing file, how the host is reached). */
    links: InterVmLinkView[];
    /** Host path of nfvkit-ring from the guest image, for the host limit. */
    ringTool: string;
}

export const interVm: ProbeKindModule<"interVm", InterVmSettings, InterVmResult[], InterVmInputs> = {
    name: "interVm",
    defaults: { interVm: [] },
    check(given, ctx) {
        // A link without its own duration takes the suite's. The burst default is the seed's batch.
        const durationSec = ctx.resolved.durationSec ?? 60;
        const checked = checkInterVmSettings(given.interVm, `${ctx.path}.interVm`, { durationSec, burst: DEFAULT_INTER_VM_BURST }, ctx.pod);
        return { settings: { interVm: checked.settings }, problems: checked.problems };
    },
    named: (config) => config.interVm.length > 0,
    podInputs: (ctx) =>
        pulumi
            .all([ctx.programs, pulumi.all(interVmLinks(ctx.plan).map((l) => pulumi.output({ ...l, ...accessOf(ctx.access(linkHost(ctx.plan, l.name))) })))])
            .apply(([programs, links]) => ({ links: links as InterVmLinkView[], ringTool: programs["nfvkit-ring"] ?? "" })),
    run: (ctx) =>
        runInterVm(ctx.config.interVm, ctx.guests, ctx.inputs?.links ?? [], {
            priority: ctx.config.priority,
            ringTool: ctx.inputs?.ringTool || undefined,
            shell: ctx.shell,
            log: ctx.log,
        }),
    judge: (results, ctx) => ({ checks: judgeInterVm(results, ctx.targets), notes: results.flatMap((r) => r.notes) }),
    preview: (config, targets) => ({
        summary: `inter-VM on ${config.interVm.map((s) => s.link).join(", ")}`,
        rows: config.interVm.flatMap((s) => {
            const where = `${s.link}: ${s.producer} → ${s.consumer}`;
            return [
                {
                    probe: "inter-VM",
                    where,
                    metric: `packet rate, ${targets.interVm.packetBytes}-byte packets (avg)`,
                    target: formatTarget(targets.interVm.mpps),
                },
                { probe: "inter-VM", where, metric: "lost, reordered or corrupt packets (total)", target: formatTarget(ZERO_BAD_PACKETS) },
                ...(targets.interVm.hostRatio
                    ? [{ probe: "inter-VM", where, metric: "rate over the host's own (ratio)", target: formatTarget(targets.interVm.hostRatio) }]
                    : []),
            ];
        }),
    }),
    report: {
        markdown: (results) => interVmMarkdown(results),
        json: (results) => ({ interVm: results }),
        charts: (results, verdict) => {
            const target = verdict.checks.find((c) => c.metric === "interVm.mpps")?.target;
            return results.map((r) => ({ fileName: interVmChartName(r), svg: interVmRateSvg(r, target) }));
        },
        html: (results, verdict, charts) => interVmHtml(results, charts, verdict.checks.find((c) => c.metric === "interVm.mpps")?.target),
    },
};

function accessOf<T>(access: T | undefined): { access?: T } {
    return access === undefined ? {} : { access };
}

function linkHost(plan: PodPlan, link: string): string {
    return plan.links.find((l) => l.name === link)!.host;
}

/** The pod's links as the inter-VM probe sees them: backing file, memory node, and where each member's vCPUs sit. */
export function interVmLinks(plan: PodPlan): InterVmLinkView[] {
    return plan.links.map((l) => {
        const members = l.members.map((m) => plan.guests.find((g) => g.name === m)!);
        const host = plan.hosts.find((h) => h.name === l.host)!;
        return {
            name: l.name,
            uri: l.uri,
            shmName: l.shmName,
            path: l.path,
            hugepages: l.hugepages,
            // The first member's node: a hugepage link's pages are reserved there (plan/hugepages.ts).
            memoryNode: members[0].numaNode,
            accel: members[0].accel,
            hostIsolatedCpus: [...host.isolatedCpus.cpus],
            members: Object.fromEntries(members.map((g) => [g.name, { vcpuHostCpus: g.pins.map((p) => p.hostCpu), vcpuNodes: g.pins.map((p) => p.numaNode) }])),
        };
    });
}
