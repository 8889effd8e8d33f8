/**
 * The latency probe's host load (`load: host`): stress-ng on each host's
 * housekeeping CPUs for the whole suite, started through that host's access,
 * so the guests are measured while their hosts are busy elsewhere.
 */
import { hostAccess, targetForHost, type RunningCommand } from "../../../host/access";
import type { ProbeGuest } from "../../inputs";
import type { LatencySettings } from "./config";

/** stress-ng on each host's housekeeping CPUs for the whole suite, started through that host's access (a host the kit cannot reach gets none, said in a note). */
export function startHostLoad(guests: ProbeGuest[], config: LatencySettings, notes: string[], log: (line: string) => void): RunningCommand[] {
    const byHost = new Map<string, ProbeGuest[]>();
    for (const g of guests) {
        const name = g.host ?? "local";
        byHost.set(name, [...(byHost.get(name) ?? []), g]);
    }
    const seconds = config.durationSec * config.probes.length + 120;
    const loads: RunningCommand[] = [];
    for (const [name, hostGuests] of byHost) {
        const target = targetForHost({ name, uri: hostGuests[0].uri }, hostGuests[0].access);
        if (!target) {
            notes.push(`host load not applied on ${name}: the kit has no access to it`);
            continue;
        }
        const host = hostAccess(target);
        const cpus = [...new Set(hostGuests.flatMap((g) => g.hostHousekeepingCpus))].sort((a, b) => a - b);
        if (cpus.length === 0) {
            notes.push(`host load not applied on ${host.name}: it has no housekeeping CPUs`);
            continue;
        }
        log(`host load on ${host.name}: stress-ng --cpu ${cpus.length} --taskset ${cpus.join(",")}`);
        notes.push(`host load: stress-ng on host ${host.name} CPUs ${cpus.join(",")} while probing`);
        // nothrow: the load's own exit says nothing about the probes; its --timeout ends it if we cannot.
        loads.push(host.start(["stress-ng", "--cpu", String(cpus.length), "--taskset", cpus.join(","), "--timeout", `${seconds}s`], { nothrow: true }));
    }
    return loads;
}
