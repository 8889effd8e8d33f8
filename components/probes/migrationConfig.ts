/**
 * The live-migration probe's settings, one entry per guest to move, under
 * `nfv-testpod:probes.migration`:
 *
 * ```yaml
 * nfv-testpod:probes:
 *   migration:
 *     - { guest: vnf, from: lab-1, to: lab-2, roundTrips: 1, workload: memory, downtimeLimitMs: 50 }
 * ```
 *
 * Checked in two steps, both pure: the shape here with the suite settings,
 * and against the pod (`checkMigrationPod`: the guest, its host, the other
 * host, its user-mode NIC) in the one validation. Units stay in the names
 * (`downtimeLimitMs`, `bandwidthMiBps`): QEMU's HMP takes seconds for the
 * downtime limit, QMP and libvirt milliseconds, and libvirt's bandwidth is
 * MiB/s where QEMU's is bytes/s.
 */
import { closestMatch } from "../spec/names";
import type { SpecProblem } from "../spec/problems";
import { checkSettingsList } from "./settingsList";

/** What the guest does while it moves. */
export type MigrationWorkload = "idle" | "io" | "memory";

/** One guest to move, and how. */
export interface MigrationSetting {
    /** The guest (pod spec `guests[*].name`). Required. */
    guest: string;
    /** The host it starts on; must be the guest's host in the pod spec. @default the guest's host */
    from: string;
    /** The host it moves to and back from. Required: another host of the pod. */
    to: string;
    /** Round trips from → to → from; each is two migrations. @default 1 */
    roundTrips: number;
    /**
     * `idle`: only the probe's own packet stream (tiny). `io`: a second, bulk stream of 1400-byte
     * packets at `ioRateHz`. `memory`: the guest dirties `dirtyMiB` of memory at `dirtyMiBps`.
     * @default "idle"
     */
    workload: MigrationWorkload;
    /** Memory workload: MiB/s the guest dirties. @default 64: a clear load next to the lab's ~300 MiB/s link, that still converges */
    dirtyMiBps: number;
    /** Memory workload: the working set it dirties, in MiB. @default 64 (a quarter of the lab guests' 256 MiB) */
    dirtyMiB: number;
    /** IO workload: 1400-byte packets per second of the bulk stream. @default 5000 (~56 Mbit/s) */
    ioRateHz: number;
    /** Longest pause QEMU may plan for the switchover, in ms (`virsh migrate-setmaxdowntime`). @default null: QEMU's own default (300 ms) */
    downtimeLimitMs: number | null;
    /** Bandwidth cap in MiB/s (`virsh migrate --bandwidth`). @default null: unlimited */
    bandwidthMiBps: number | null;
    /** multifd channels (`--parallel --parallel-connections`); 0 sends memory over one connection. @default 0 */
    multifdChannels: number;
    /** Switch to post-copy after the first pass (`--postcopy --postcopy-after-precopy`). @default false */
    postcopy: boolean;
    /** Let QEMU throttle the guest's vCPUs when it dirties memory faster than the link sends it (`--auto-converge`). @default false */
    autoConverge: boolean;
    /** Packets per second of the sequence-numbered stream that measures network downtime. @default 10000 (0.1 ms resolution) */
    packetRateHz: number;
    /** UDP port of the receiver on the control side. @default 47800 */
    port: number;
}

export const MIGRATION_DEFAULTS = {
    roundTrips: 1,
    workload: "idle" as MigrationWorkload,
    dirtyMiBps: 64,
    dirtyMiB: 64,
    ioRateHz: 5000,
    downtimeLimitMs: null,
    bandwidthMiBps: null,
    multifdChannels: 0,
    postcopy: false,
    autoConverge: false,
    packetRateHz: 10_000,
    port: 47_800,
};

const KEYS = ["guest", "from", "to", ...Object.keys(MIGRATION_DEFAULTS)];
const WORKLOADS: MigrationWorkload[] = ["idle", "io", "memory"];

/** Checks the list's shape and fills defaults. Problems carry `<path>[i].<key>`. */
export function checkMigrationSettings(raw: unknown, path: string): { settings: MigrationSetting[]; problems: SpecProblem[] } {
    const shape = { listOf: "guests to migrate", example: "{ guest: vnf, from: lab-1, to: lab-2 }", keys: KEYS, settingName: "a migration" };
    return checkSettingsList(raw, path, shape, ({ fields: e, bad, whole, flag }): MigrationSetting => {
        for (const key of ["guest", "to"]) {
            if (typeof e[key] !== "string" || (e[key] as string).length === 0)
                bad(
                    key,
                    `is required: a ${key === "guest" ? "guest" : "host"} name from the pod spec`,
                    `write e.g. ${key}: ${key === "guest" ? "vnf" : "lab-2"}`,
                );
        }
        if (e.from !== undefined && (typeof e.from !== "string" || e.from.length === 0))
            bad("from", "must be a host name", "write e.g. from: lab-1, or leave it out");
        const optional = (key: string, min: number, max: number, example: number): number | null => {
            const v = e[key];
            if (v === undefined || v === null) return null;
            if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
            bad(key, `must be a whole number from ${min} to ${max}, or null for the default`, `write e.g. ${example}`);
            return null;
        };
        let workload = MIGRATION_DEFAULTS.workload;
        if (e.workload !== undefined) {
            if (WORKLOADS.includes(e.workload as MigrationWorkload)) workload = e.workload as MigrationWorkload;
            else bad("workload", "is not a migration workload", `write ${WORKLOADS.map((w) => `"${w}"`).join(", ")}`);
        }
        const setting: MigrationSetting = {
            guest: e.guest as string,
            from: (e.from as string | undefined) ?? "",
            to: e.to as string,
            roundTrips: whole("roundTrips", 1, 100, MIGRATION_DEFAULTS.roundTrips),
            workload,
            dirtyMiBps: whole("dirtyMiBps", 1, 100_000, MIGRATION_DEFAULTS.dirtyMiBps),
            dirtyMiB: whole("dirtyMiB", 1, 1_048_576, MIGRATION_DEFAULTS.dirtyMiB),
            ioRateHz: whole("ioRateHz", 1, 1_000_000, MIGRATION_DEFAULTS.ioRateHz),
            // QEMU takes 0 to 2000 s; above a minute a "live" migration is not live.
            downtimeLimitMs: optional("downtimeLimitMs", 1, 60_000, 50),
            bandwidthMiBps: optional("bandwidthMiBps", 1, 1_000_000, 1000),
            multifdChannels: whole("multifdChannels", 0, 255, 0),
            postcopy: flag("postcopy", false),
            autoConverge: flag("autoConverge", false),
            // 1 kHz is the issue's floor (1 ms resolution); past 100 kHz the guest's timers, not the link, set the pace.
            packetRateHz: whole("packetRateHz", 1000, 100_000, MIGRATION_DEFAULTS.packetRateHz),
            port: whole("port", 1024, 65_535, MIGRATION_DEFAULTS.port),
        };
        if (setting.postcopy && setting.multifdChannels > 0)
            bad(
                "postcopy",
                "cannot be combined with multifdChannels: QEMU refuses post-copy over multifd",
                "choose one: postcopy: false, or multifdChannels: 0",
            );
        if (typeof e.from === "string" && e.from === e.to)
            bad("to", "is the host it starts on: a migration needs another host", "name another host of the pod");
        return setting;
    });
}

/** What the cross-check needs of the pod. */
export interface MigrationPodView {
    hosts: string[];
    guests: { name: string; host: string; userNic: boolean }[];
}

/** Each setting names a guest of the pod, starts on its host, moves to another host of the pod, and has a user-mode NIC for the packet stream. */
export function checkMigrationPod(settings: MigrationSetting[], pod: MigrationPodView, path: string): SpecProblem[] {
    const problems: SpecProblem[] = [];
    settings.forEach((s, i) => {
        const at = `${path}[${i}]`;
        const guest = pod.guests.find((g) => g.name === s.guest);
        if (!guest) {
            const guess = closestMatch(
                s.guest,
                pod.guests.map((g) => g.name),
            );
            problems.push({
                path: `${at}.guest`,
                value: s.guest,
                reason: "is not a guest of the pod",
                fix: guess ? `did you mean "${guess}"?` : `use one of ${pod.guests.map((g) => g.name).join(", ")}`,
            });
            return;
        }
        if (s.from !== "" && s.from !== guest.host)
            problems.push({
                path: `${at}.from`,
                value: s.from,
                reason: `is not where ${s.guest} runs (${guest.host})`,
                fix: `write from: ${guest.host}, or leave it out`,
            });
        if (!pod.hosts.includes(s.to)) {
            const others = pod.hosts.filter((h) => h !== guest.host);
            const guess = closestMatch(s.to, others);
            problems.push({
                path: `${at}.to`,
                value: s.to,
                reason: "is not a host of the pod",
                fix: guess ? `did you mean "${guess}"?` : `use one of ${pod.hosts.join(", ")}`,
            });
        } else if (s.to === guest.host) {
            problems.push({
                path: `${at}.to`,
                value: s.to,
                reason: `is where ${s.guest} runs already`,
                fix: `name another host: ${pod.hosts.filter((h) => h !== guest.host).join(", ")}`,
            });
        }
        if (!guest.userNic)
            problems.push({
                path: `${at}.guest`,
                value: s.guest,
                reason: `has no user-mode NIC for the packet stream that measures network downtime`,
                fix: `set knobs: { userNic: true } on guest ${s.guest}`,
            });
    });
    return problems;
}
