/**
 * The moves the live-migration probe makes, as the ProbeSuite records them:
 * per setting, the guest's domain, its `<cputune>` and pins on its own host
 * (from the pod's plan) and on the destination (planned once, from the plan
 * and that host's facts: plan/migration.ts), and the hugepages it takes on
 * each; and the running domain's XML made into the destination's (its
 * `<cputune>` from the plan for that host). Pure.
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

/** The running domain's migratable XML with the destination's planned `<cputune>` in place of the source's. */
export function destinationXml(migratable: string, cputune: string[]): string {
    const block = cputune.map((l) => `  ${l}`).join("\n");
    if (/<cputune>[\s\S]*?<\/cputune>/.test(migratable)) return migratable.replace(/ *<cputune>[\s\S]*?<\/cputune>/, block);
    return migratable.replace(/(\n *<vcpu[^\n]*\n)/, `$1${block}\n`);
}

/** The plan's `<emulatorpin>` and `<vcpusched>` elements that the live XML does not hold (libvirt writes them as the kit renders them). */
export function missingCputune(planned: string[], liveXml: string): string[] {
    const live = /<cputune>[\s\S]*?<\/cputune>/.exec(liveXml)?.[0] ?? "";
    return planned.map((l) => l.trim()).filter((l) => /^<(emulatorpin|vcpusched) /.test(l) && !live.includes(l));
}
