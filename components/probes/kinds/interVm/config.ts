/**
 * The inter-VM probe's settings, one entry per measured link, under
 * `nfv-testpod:probes.interVm`:
 *
 * ```yaml
 * nfv-testpod:probes:
 *   interVm:
 *     - { link: ring0, producer: peer, consumer: vnf, durationSec: 3, burst: 32 }
 * ```
 *
 * Checked in one pass, pure: each entry's shape, and the same entry against
 * the pod's links (`againstLinks`) when the pod is known, so every problem of
 * every entry is said at once.
 */
import { closestMatch } from "../../../spec/names";
import type { SpecProblem } from "../../../spec/problems";
import { checkSettingsList } from "../../settingsList";
import type { ProbePodView } from "../podView";

/** The seed's batch of 32 packets (targets.ts `interVm.batch`). */
export const DEFAULT_INTER_VM_BURST = 32;

/** One link to measure. */
export interface InterVmSetting {
    /** The ivshmem link (pod spec `links[*].name`). Required. */
    link: string;
    /** The guest that sends; a member of the link. Required. */
    producer: string;
    /** The guest that receives and checks every packet; the other member. Required. */
    consumer: string;
    /**
     * Seconds of traffic guest to guest, and again host to host.
     * @default the suite's `durationSec`: one knob for a short or a long run.
     */
    durationSec: number;
    /**
     * Packets per burst: the producer publishes, and the consumer may take, this many at once.
     * @default the `interVm.batch` target (32, the seed's batching), so the rate is measured as the target is stated.
     */
    burst: number;
    /**
     * Seconds of ping-pong (one packet there and back at a time) for round-trip latency; 0 skips it.
     * @default 2: enough round trips for a p99 even under TCG.
     */
    roundTripSec: number;
    /**
     * Run the same program between two host processes on the link's backing file, for the guest-to-host ratio.
     * @default true: the ratio is the figure that means something on any machine.
     */
    hostLimit: boolean;
    /**
     * For testing the probe itself: the producer drops (never sends) or corrupts (flips a byte after the
     * checksum) the packet with this sequence number; the probe must then fail and name it.
     * @default none
     */
    inject?: { drop?: number; corrupt?: number };
}

const KEYS = ["link", "producer", "consumer", "durationSec", "burst", "roundTripSec", "hostLimit", "inject"];

/** Checks the list (shape, and each entry against the pod's links when they are known) and fills defaults. Problems carry `<path>[i].<key>`. */
export function checkInterVmSettings(
    raw: unknown,
    path: string,
    defaults: { durationSec: number; burst: number },
    pod?: Pick<ProbePodView, "links">,
): { settings: InterVmSetting[]; problems: SpecProblem[] } {
    const shape = { listOf: "links to measure", example: "{ link: ring0, producer: peer, consumer: vnf }", keys: KEYS, settingName: "an interVm" };
    return checkSettingsList(
        raw,
        path,
        shape,
        ({ fields: e, bad, whole, flag }): InterVmSetting => {
            for (const key of ["link", "producer", "consumer"]) {
                if (typeof e[key] !== "string" || (e[key] as string).length === 0)
                    bad(key, "is required: a name from the pod spec", `write e.g. ${key}: ${key === "link" ? "ring0" : key === "producer" ? "peer" : "vnf"}`);
            }
            if (typeof e.producer === "string" && e.producer === e.consumer)
                bad("consumer", "is the producer too: a ring joins two guests", "name the link's other member");
            // The ring program keeps per-second samples for at most an hour, and bursts of at most 1024.
            const durationSec = whole("durationSec", 1, 3600, Math.min(defaults.durationSec, 3600));
            const burst = whole("burst", 1, 1024, defaults.burst);
            const roundTripSec = whole("roundTripSec", 0, 3600, 2);
            const hostLimit = flag("hostLimit", true);
            let inject: InterVmSetting["inject"];
            if (e.inject !== undefined) {
                const j = e.inject as Record<string, unknown>;
                const ok =
                    typeof j === "object" &&
                    j !== null &&
                    !Array.isArray(j) &&
                    Object.keys(j).length > 0 &&
                    Object.entries(j).every(([k, v]) => (k === "drop" || k === "corrupt") && typeof v === "number" && Number.isInteger(v) && v >= 0);
                if (ok) inject = j as InterVmSetting["inject"];
                else bad("inject", "must be { drop: <seq> } or { corrupt: <seq> } with a packet sequence number", "write e.g. { drop: 1000 }, or leave it out");
            }
            return {
                link: e.link as string,
                producer: e.producer as string,
                consumer: e.consumer as string,
                durationSec,
                burst,
                roundTripSec,
                hostLimit,
                ...(inject ? { inject } : {}),
            };
        },
        pod ? (setting, at) => againstLinks(setting, pod.links, at) : undefined,
    );
}

/** What the cross-check needs of a pod link. */
export interface LinkMembers {
    name: string;
    members: string[];
}

/** One entry names a link of the pod, and its producer and consumer are that link's members. Tolerates a malformed entry. */
export function againstLinks(s: InterVmSetting, links: LinkMembers[], at: string): SpecProblem[] {
    const problems: SpecProblem[] = [];
    if (typeof s.link !== "string" || s.link === "") return problems;
    const link = links.find((l) => l.name === s.link);
    if (!link) {
        const guess = closestMatch(
            s.link,
            links.map((l) => l.name),
        );
        problems.push({
            path: `${at}.link`,
            value: s.link,
            reason: "is not a link of the pod",
            fix: guess
                ? `did you mean "${guess}"?`
                : links.length > 0
                  ? `use one of ${links.map((l) => l.name).join(", ")}`
                  : "add the link under the pod's links first",
        });
        return problems;
    }
    for (const role of ["producer", "consumer"] as const) {
        if (typeof s[role] === "string" && s[role] !== "" && !link.members.includes(s[role])) {
            problems.push({
                path: `${at}.${role}`,
                value: s[role],
                reason: `is not a member of link ${link.name}`,
                fix: `use one of ${link.members.join(", ")}`,
            });
        }
    }
    return problems;
}

/** Every entry against the pod's links (for entries already read). */
export function checkInterVmLinks(settings: InterVmSetting[], links: LinkMembers[], path: string): SpecProblem[] {
    return settings.flatMap((s, i) => againstLinks(s, links, `${path}[${i}]`));
}
