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
 * Checked in one pass, pure: each entry's shape, and the same entry against
 * the pod (`againstPod`: the guest, its host, the other host and how the kit
 * reaches it, its user-mode NIC, no VF by passthrough, room for it on the
 * destination), so every problem of every entry is said at once. Units stay in the names
 * (`downtimeLimitMs`, `bandwidthMiBps`): QEMU's HMP takes seconds for the
 * downtime limit, QMP and libvirt milliseconds, and libvirt's bandwidth is
 * MiB/s where QEMU's is bytes/s.
 */
import { planMigrationDestination } from "../../../plan/migration";
import { closestMatch } from "../../../spec/names";
import type { SpecProblem } from "../../../spec/problems";
import { checkSettingsList } from "../../settingsList";
import type { ProbePodView } from "../podView";

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
    /**
     * IPv4 address of this machine (where `pulumi up` or `npm run probe` runs the
     * receiver) that the guest's packets are sent to, from both hosts: QEMU's
     * user-mode NIC sends them from whichever host runs the guest.
     * @default null: this machine's source address on its route to the hosts
     * (`ip route get <host's SSH address>`); set it when the hosts reach this
     * machine by another address (NAT, a second network).
     */
    receiver: string | null;
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
    receiver: null,
};

const KEYS = ["guest", "from", "to", ...Object.keys(MIGRATION_DEFAULTS)];
const WORKLOADS: MigrationWorkload[] = ["idle", "io", "memory"];

/**
 * Checks the list (shape, and each entry against the pod when it is known) and
 * fills defaults. Problems carry `<path>[i].<key>`.
 */
export function checkMigrationSettings(raw: unknown, path: string, pod?: ProbePodView): { settings: MigrationSetting[]; problems: SpecProblem[] } {
    const shape = { listOf: "guests to migrate", example: "{ guest: vnf, from: lab-1, to: lab-2 }", keys: KEYS, settingName: "a migration" };
    return checkSettingsList(
        raw,
        path,
        shape,
        ({ fields: e, bad, whole, flag }): MigrationSetting => {
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
            let receiver: string | null = null;
            if (e.receiver !== undefined && e.receiver !== null) {
                if (typeof e.receiver === "string" && receiverProblem(e.receiver) === null) receiver = e.receiver;
                else
                    bad(
                        "receiver",
                        typeof e.receiver === "string" ? receiverProblem(e.receiver)! : "must be an IPv4 address of this machine",
                        "write the address the hosts reach this machine by, e.g. receiver: 10.213.100.1, or leave it out",
                    );
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
                receiver,
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
        },
        pod ? (setting, at) => againstPod(setting, pod, at) : undefined,
    );
}

/** Why an address cannot be the receiver's, or null. nfvkit-migload binds IPv4 only. */
export function receiverProblem(address: string): string | null {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) return "is not an IPv4 address (nfvkit-migload receives on IPv4)";
    if (m[1] === "127" || address === "0.0.0.0")
        return "is not reachable from the hosts: a guest's user-mode NIC sends from the host it runs on, so the receiver needs an address of this machine on the hosts' network";
    return null;
}

/**
 * One entry against the pod: it names a guest of the pod, starts on its host,
 * moves to another host of the pod that the kit can reach, the guest has a
 * user-mode NIC for the packet stream and no VF (libvirt cannot migrate a
 * guest with an assigned PCI device), and it fits on the destination next to
 * that host's own guests. Tolerates an entry whose shape is wrong: a field
 * that is not a name is the shape check's problem.
 */
export function againstPod(s: MigrationSetting, pod: ProbePodView, at: string): SpecProblem[] {
    const problems: SpecProblem[] = [];
    const hostNames = pod.hosts.map((h) => h.name);
    const guest = typeof s.guest === "string" ? pod.guests.find((g) => g.name === s.guest) : undefined;
    if (typeof s.guest === "string" && s.guest !== "" && !guest) {
        const names = pod.guests.map((g) => g.name);
        const guess = closestMatch(s.guest, names);
        problems.push({
            path: `${at}.guest`,
            value: s.guest,
            reason: "is not a guest of the pod",
            fix: guess ? `did you mean "${guess}"?` : `use one of ${names.join(", ")}`,
        });
    }
    if (typeof s.to === "string" && s.to !== "") {
        const to = pod.hosts.find((h) => h.name === s.to);
        if (!to) {
            const others = hostNames.filter((h) => h !== guest?.host);
            const guess = closestMatch(s.to, others);
            problems.push({
                path: `${at}.to`,
                value: s.to,
                reason: "is not a host of the pod",
                fix: guess ? `did you mean "${guess}"?` : `use one of ${(others.length > 0 ? others : hostNames).join(", ")}`,
            });
        } else if (guest && s.to === guest.host) {
            problems.push({
                path: `${at}.to`,
                value: s.to,
                reason: `is where ${guest.name} runs already`,
                fix: `name another host: ${hostNames.filter((h) => h !== guest.host).join(", ")}`,
            });
        }
    }
    if (!guest) return problems;
    if (typeof s.from === "string" && s.from !== "" && s.from !== guest.host)
        problems.push({
            path: `${at}.from`,
            value: s.from,
            reason: `is not where ${guest.name} runs (${guest.host})`,
            fix: `write from: ${guest.host}, or leave it out`,
        });
    if (!guest.userNic)
        problems.push({
            path: `${at}.guest`,
            value: s.guest,
            reason: `has no user-mode NIC for the packet stream that measures network downtime`,
            fix: `set knobs: { userNic: true } on guest ${guest.name}`,
        });
    if (guest.vfs.length > 0) {
        const vfs = guest.vfs.map((v) => `${v.pciAddress || v.pf} (attach: ${v.attach})`).join(", ");
        problems.push({
            path: `${at}.guest`,
            value: s.guest,
            reason:
                `takes SR-IOV VF ${vfs} by VFIO passthrough, and libvirt cannot migrate a guest with an assigned PCI device ` +
                `(it refuses: "domain has assigned non-USB host devices")`,
            fix: `migrate a guest without vfs:, or remove this migration`,
        });
    }
    const to = pod.hosts.find((h) => h.name === s.to);
    if (pod.plan && to && s.to !== guest.host) {
        const planned = planMigrationDestination(pod.plan, guest.name, s.to);
        problems.push(
            ...planned.problems.map((p) => ({
                path: `${at}.to`,
                value: s.to,
                reason: `has no place for ${guest.name}: ${p.reason}`,
                fix: p.fix,
            })),
        );
    }
    return problems;
}
