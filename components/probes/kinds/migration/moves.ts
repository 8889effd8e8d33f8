/**
 * The moves the live-migration probe makes, as the ProbeSuite records them:
 * per setting, the guest's domain, its `<cputune>` and pins on its own host
 * (from the pod's plan) and on the destination (planned once, from the plan
 * and that host's facts: plan/migration.ts), and the hugepages it takes on
 * each. Pure.
 */
import { planMigrationDestination } from "../../../plan/migration";
import type { GuestPin, PodPlan } from "../../../plan/podPlan";
import { renderCputune } from "../../../render/domainXml";
import { problemError, ProblemListError } from "../../../spec/problems";
import type { MigrationSetting } from "./config";
import type { MigrationGuestView } from "./run";

/**
 * One view per setting, in the settings' order. Throws a ProblemListError when
 * a setting names what the plan lacks or a destination cannot be planned: the
 * validation refuses such a stack first, this is for settings checked without the pod.
 */
export function migrationMoves(plan: PodPlan, settings: MigrationSetting[]): Omit<MigrationGuestView, "receiver">[] {
    return settings.map((s, i) => {
        const g = plan.guests.find((x) => x.name === s.guest);
        const dst = plan.hosts.find((h) => h.name === s.to);
        if (!g || !dst) {
            const [field, value] = !g ? ["guest", s.guest] : ["to", s.to];
            throw problemError(
                "probe settings",
                `probes.migration[${i}].${field}`,
                value,
                `is not a ${!g ? "guest" : "host"} of the pod`,
                `name one of the pod's ${!g ? "guests" : "hosts"}`,
            );
        }
        const planned = planMigrationDestination(plan, s.guest, s.to);
        if (!planned.destination) throw new ProblemListError(planned.problems, "probe settings");
        const d = planned.destination;
        const pinsOf = (pins: GuestPin[]) => Object.fromEntries(pins.map((p) => [String(p.vcpu), String(p.hostCpu)]));
        const pageBytes = g.pageSize.bytes;
        return {
            guest: g.name,
            domain: g.domainName,
            host: g.host,
            hosts: {
                [g.host]: { uri: g.uri, cputune: renderCputune(g), pins: pinsOf(g.pins) },
                [s.to]: { uri: dst.uri, cputune: renderCputune(d), pins: pinsOf(d.pins) },
            },
            memory: `${g.memory.toString()} of ${g.pageSize.toString()} pages`,
            memoryMiB: g.memory.bytes / 1024 ** 2,
            hugepages: {
                ...(pageBytes > 4096 ? { [g.host]: { node: g.numaNode, sizeKiB: pageBytes / 1024, pages: Math.ceil(g.memory.bytes / pageBytes) } } : {}),
                ...(d.hugepages ? { [s.to]: d.hugepages } : {}),
            },
        };
    });
}
