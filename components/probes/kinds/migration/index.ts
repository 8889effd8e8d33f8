/**
 * The live-migration kind: per `probes.migration` entry, the guest moved to
 * another host of the pod and back, live, with every figure libvirt gives,
 * the network downtime from a packet stream, and the pins on the
 * destination (docs/probes.md "The live-migration probe"). It runs last: it
 * moves guests, and every round trip ends with the guest on its own host.
 */
import * as pulumi from "@pulumi/pulumi";
import { makeHugepageRoom } from "../../../host/hugepageRoom";
import type { PodPlan } from "../../../plan/podPlan";
import { libvirtUriHost } from "../../../spec/access";
import { problemError, ProblemListError } from "../../../spec/problems";
import { formatTarget } from "../../verdict";
import type { ProbeKindModule } from "../kind";
import { checkMigrationSettings, type MigrationSetting } from "./config";
import { migrationMoves } from "./moves";
import { receiverAddressToward } from "./receiver";
import { migrationChartName, migrationGapSvg, migrationMarkdown } from "./report";
import { migrationHtml } from "./html";
import { runMigrations, type MigrationGuestView } from "./run";
import type { MigrationResult } from "./types";
import { judgeMigration, migrationNotes, ZERO_WRONG_PINS } from "./verdict";

export interface MigrationSettings {
    /**
     * The live-migration probe: per listed guest, round trips to another host and back with a
     * packet stream that measures network downtime (see config.ts). Runs in `pulumi up`'s
     * probe suite after the other kinds, and in `npm run probe`; each round trip brings the
     * guest back to its own host.
     * @default []
     */
    migration: MigrationSetting[];
}

/** What the ProbeSuite records for it: the planned moves, and the receiver's tool. */
export interface MigrationInputs {
    /** Host path of nfvkit-migload from the guest image. */
    tool: string;
    /** One per setting, in order. */
    moves: MigrationGuestView[];
}

export const migration: ProbeKindModule<"migration", MigrationSettings, MigrationResult[], MigrationInputs> = {
    name: "migration",
    defaults: { migration: [] },
    check(given, ctx) {
        const checked = checkMigrationSettings(given.migration, `${ctx.path}.migration`, ctx.pod);
        return { settings: { migration: checked.settings }, problems: checked.problems };
    },
    named: (config) => config.migration.length > 0,
    podInputs(ctx) {
        const moves = migrationMoves(ctx.plan, ctx.config.migration);
        const receivers = ctx.config.migration.map((s, i) => s.receiver ?? receiverAddressToward(hostAddress(ctx.plan, s.to, moves[i].host, i)));
        return pulumi.all([ctx.programs, pulumi.all(receivers)]).apply(([programs, addresses]) => ({
            tool: programs["nfvkit-migload"] ?? "",
            moves: moves.map((m, i) => ({ ...m, receiver: addresses[i] })),
        }));
    },
    async run(ctx) {
        const inputs = ctx.inputs;
        if (!inputs || !inputs.tool)
            throw problemError(
                "guest image",
                "programs",
                undefined,
                "has no nfvkit-migload, which the migration probe runs in the guest and on this machine",
                "add nfvkit-migload to programs: in guest-images/recipe.yaml, and let up rebuild the image",
            );
        // Each host as this process reaches it: its libvirt through its pinned SSH connection. A host the kit
        // cannot reach is never guessed at (the validation and TestPod refuse such a pod; recorded inputs of another kind get this).
        const problems = inputs.moves.flatMap((m) =>
            Object.keys(m.hosts)
                .filter((h) => !ctx.hosts[h]?.access)
                .map((h) => ({
                    path: `hostAccess.${h}`,
                    value: undefined,
                    reason: `is needed: the migration of ${m.guest} works on host ${h}`,
                    fix: "give the host ssh: access with pinned keys",
                })),
        );
        if (problems.length > 0) throw new ProblemListError(problems, "migration probe");
        const accessTo = (host: string) => {
            const access = ctx.hosts[host]?.access;
            // Every host of a move was checked above.
            if (!access) throw new Error(`migration probe: host ${host} is not one of its moves' hosts`);
            return access;
        };
        const moves = inputs.moves.map((m) => ({
            ...m,
            hosts: Object.fromEntries(Object.entries(m.hosts).map(([name, h]) => [name, { ...h, uri: ctx.hosts[name]?.uri ?? h.uri }])),
        }));
        return runMigrations(ctx.config.migration, moves, {
            tool: inputs.tool,
            shell: ctx.shellOn,
            log: ctx.log,
            signal: ctx.signal,
            makeRoom: async (host, need) => makeHugepageRoom(accessTo(host), host, need, ctx.log),
        });
    },
    judge: (results, ctx) => ({ checks: judgeMigration(results, ctx.targets), notes: [...results.flatMap((r) => r.notes), ...migrationNotes(results)] }),
    preview(config, targets, plan) {
        const rows = config.migration.flatMap((s) => {
            const from = s.from || plan.guests.find((g) => g.name === s.guest)?.host || "?";
            const where = `${s.guest}: ${from} → ${s.to} → ${from}, ${s.roundTrips} round trip(s), ${s.workload}`;
            const downtime = s.workload === "memory" ? targets.migration.downtimeMemoryMs : targets.migration.downtimeIoMs;
            return [
                { probe: "migration", where, metric: "total time, each move", target: formatTarget(targets.migration.totalMs) },
                { probe: "migration", where, metric: "downtime (libvirt), each move", target: formatTarget(downtime) },
                { probe: "migration", where, metric: "network downtime, each move", target: formatTarget(targets.migration.networkDowntimeMs) },
                { probe: "migration", where, metric: "vCPU pins off the plan on the destination", target: formatTarget(ZERO_WRONG_PINS) },
            ];
        });
        return { summary: `migration of ${config.migration.map((s) => `${s.guest} to ${s.to} and back`).join(", ")}`, rows };
    },
    report: {
        markdown: (results) => migrationMarkdown(results),
        json: (results) => ({ migration: results }),
        html: (results, _verdict, charts) => migrationHtml(results, charts),
        charts: (results, verdict) => {
            const target = verdict.checks.find((c) => c.metric === "migration.networkDowntimeMs")?.target;
            return results.flatMap((r) =>
                r.legs.map((leg, i) => ({ fileName: migrationChartName(r.guest, i, leg), svg: migrationGapSvg(r.guest, leg, target) })),
            );
        },
    },
};

/** The address this machine reaches a host by: its SSH address, else the host in its libvirt URI; the destination's, or the source's when the destination is this machine. */
function hostAddress(plan: PodPlan, to: string, from: string, i: number): string {
    const of = (name: string) => {
        const h = plan.hosts.find((x) => x.name === name);
        return h?.ssh?.address ?? (h ? libvirtUriHost(h.uri) : undefined);
    };
    const address = of(to) ?? of(from);
    if (!address)
        throw problemError(
            "probe settings",
            `probes.migration[${i}].receiver`,
            undefined,
            `is needed: neither ${to} nor ${from} has an address this machine routes to, so the packet stream's receiver has none`,
            "set receiver: <an address of this machine that the hosts reach>",
        );
    return address;
}
