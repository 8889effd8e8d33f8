/**
 * Judges the inter-VM probe's runs. Pure. Per link, up to three checks:
 * - the guest-to-guest rate against `interVm.mpps` (the seed's ≥ 65 Mpps);
 * - bad packets (lost, reordered, corrupt), always on, target 0: a ring that
 *   loses one packet is broken whatever its rate;
 * - the guest-to-host ratio against `interVm.hostRatio`, when that target is set.
 *
 * Messages follow the verdict's shape with the link as the place:
 *   inter-VM rate on ring0 (peer → vnf): avg 0.42 Mpps < target ≥ 65 Mpps
 *   inter-VM packets on ring0 (peer → vnf): 1 lost, 0 reordered, 0 corrupt > target 0; first bad: seq 1000 (lost)
 *   inter-VM rate vs host on ring0 (peer → vnf): ratio 0.012 < target ≥ 0.5
 */
import { satisfies, type Bound, type Targets } from "../../targets";
import type { InterVmResult, RingEvent } from "./types";
import { brokenRelation, formatNumber, formatTarget, type Check } from "../../verdict";

/** The bad-packet target: always on, never configurable. */
export const ZERO_BAD_PACKETS: Bound = { value: 0, op: "<=", unit: "packets", source: "always on: any lost, reordered or corrupt packet fails" };

/** `ring0 (peer → vnf)`: the place in every inter-VM message. */
export function linkPlace(r: Pick<InterVmResult, "link" | "producer" | "consumer">): string {
    return `${r.link} (${r.producer} → ${r.consumer})`;
}

/** Rates and ratios under TCG are small: three significant digits below 1, two decimals above. */
export function formatFigure(n: number): string {
    if (n === 0 || Math.abs(n) >= 1) return formatNumber(n);
    return String(Number(n.toPrecision(3)));
}

/** One check per figure per link; `judge`'s checks are unchanged. */
export function judgeInterVm(results: InterVmResult[], targets: Targets): Check[] {
    const checks: Check[] = [];
    for (const r of results) {
        const place = linkPlace(r);
        const where = `${r.consumer} vCPU ${r.consumerVcpu}`;
        const base = { guest: r.consumer, probe: "interVm" as const };
        const rateTarget = targets.interVm.mpps;
        const rateName = `inter-VM rate on ${place}`;
        if (r.rate === null) {
            const message = `${rateName}: no samples (${r.noSamples ?? "nfvkit-ring reported nothing"})`;
            checks.push({
                ...base,
                metric: "interVm.mpps",
                name: rateName,
                statistic: "avg",
                measuredUs: null,
                where: null,
                target: rateTarget,
                pass: false,
                message,
            });
        } else {
            const pass = satisfies(r.rate.mpps, rateTarget);
            checks.push({
                ...base,
                metric: "interVm.mpps",
                name: rateName,
                statistic: "avg",
                measuredUs: r.rate.mpps,
                where,
                target: rateTarget,
                pass,
                message: pass ? null : `${rateName}: avg ${formatFigure(r.rate.mpps)} Mpps ${brokenRelation(rateTarget.op)} target ${formatTarget(rateTarget)}`,
            });
        }

        // Bad packets count in both modes; a run that measured nothing has nothing to count and fails above.
        const packetsName = `inter-VM packets on ${place}`;
        if (r.rate !== null) {
            const bad = { lost: r.rate.lost, reordered: r.rate.reordered, corrupt: r.rate.corrupt };
            const events: RingEvent[] = [...r.rate.events];
            if (r.roundTrip) {
                bad.lost += r.roundTrip.lost;
                bad.reordered += r.roundTrip.reordered;
                bad.corrupt += r.roundTrip.corrupt;
                events.push(...r.roundTrip.events);
            }
            const total = bad.lost + bad.reordered + bad.corrupt;
            const pass = satisfies(total, ZERO_BAD_PACKETS);
            const first = events[0];
            checks.push({
                ...base,
                metric: "interVm.badPackets",
                name: packetsName,
                statistic: "total",
                measuredUs: total,
                where: first ? `seq ${first.seq} (${first.kind})` : where,
                target: ZERO_BAD_PACKETS,
                pass,
                message: pass
                    ? null
                    : `${packetsName}: ${bad.lost} lost, ${bad.reordered} reordered, ${bad.corrupt} corrupt > target 0` +
                      (first ? `; first bad: seq ${first.seq} (${first.kind})` : ""),
            });
        }

        const ratioTarget = targets.interVm.hostRatio;
        if (ratioTarget) {
            const ratioName = `inter-VM rate vs host on ${place}`;
            if (r.ratio === null) {
                const reason = r.hostNoSamples ?? (r.rate === null ? "no guest-to-guest rate" : "the host-limit run did not run");
                checks.push({
                    ...base,
                    metric: "interVm.hostRatio",
                    name: ratioName,
                    statistic: "ratio",
                    measuredUs: null,
                    where: null,
                    target: ratioTarget,
                    pass: false,
                    message: `${ratioName}: no samples (${reason})`,
                });
            } else {
                const pass = satisfies(r.ratio, ratioTarget);
                checks.push({
                    ...base,
                    metric: "interVm.hostRatio",
                    name: ratioName,
                    statistic: "ratio",
                    measuredUs: r.ratio,
                    where: `host CPUs ${r.hostCpus.producer} → ${r.hostCpus.consumer}`,
                    target: ratioTarget,
                    pass,
                    message: pass ? null : `${ratioName}: ratio ${formatFigure(r.ratio)} ${brokenRelation(ratioTarget.op)} target ${formatTarget(ratioTarget)}`,
                });
            }
        }
    }
    return checks;
}
