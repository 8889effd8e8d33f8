/**
 * The placement a migrated guest gets on each host it may run on. Pure: the
 * pod spec is planned again with the guest on the destination host, as if it
 * had been declared there, so its pins, emulator pin and FIFO priorities on
 * the destination are what the planner gives for that host, next to that
 * host's own guests.
 */
import { resolvePod } from "../plan/resolvePod";
import { renderCputune } from "../render/domainXml";
import type { MigrationSetting } from "./migrationConfig";
import type { MigrationGuestView } from "./migrationRunner";

/** One view per setting. `uris`: each host's libvirt URI as this process reaches it. */
export function migrationGuestViews(spec: unknown, settings: MigrationSetting[], namePrefix: string, uris: Record<string, string>): MigrationGuestView[] {
    const pod = spec as { guests: { name: string; host: string }[] };
    return settings.map((s) => {
        const declared = pod.guests.find((g) => g.name === s.guest);
        if (!declared) throw new Error(`migration probe: guest ${s.guest} is not in the pod spec`);
        const hosts: MigrationGuestView["hosts"] = {};
        let domain = "";
        let memory = "";
        let memoryMiB = 0;
        let hugepages: MigrationGuestView["hugepages"] = {};
        for (const host of [declared.host, s.to]) {
            const moved = { ...pod, guests: pod.guests.map((g) => (g.name === s.guest ? { ...g, host } : g)) };
            const plan = resolvePod(moved, { namePrefix });
            const guest = plan.guests.find((g) => g.name === s.guest)!;
            domain = guest.domainName;
            memory = `${guest.memory.toString()} of ${guest.pageSize.toString()} pages`;
            memoryMiB = guest.memory.bytes / 1024 ** 2;
            // 4K guests take ordinary memory: nothing to make room for.
            if (guest.pageSize.bytes > 4096)
                hugepages = {
                    ...hugepages,
                    [host]: { node: guest.numaNode, sizeKiB: guest.pageSize.bytes / 1024, pages: Math.ceil(guest.memory.bytes / guest.pageSize.bytes) },
                };
            hosts[host] = {
                uri: uris[host],
                cputune: renderCputune(guest),
                pins: Object.fromEntries(guest.pins.map((p) => [String(p.vcpu), String(p.hostCpu)])),
            };
        }
        return { guest: s.guest, domain, host: declared.host, hosts, memory, memoryMiB, hugepages };
    });
}
