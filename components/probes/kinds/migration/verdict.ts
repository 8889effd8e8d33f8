/**
 * Judges the live-migration probe's runs. Pure. Per migration (leg), four checks:
 * - total time (libvirt's `Time elapsed`) against `migration.totalMs` (< 2 s);
 * - downtime as libvirt measures it against `migration.downtimeIoMs` (≤ 10 ms)
 *   for an idle or IO-bound guest, `migration.downtimeMemoryMs` (< 500 ms) for
 *   a memory-bound one (an idle guest is held to the IO figure: the stricter);
 * - network downtime (the largest packet gap) against `migration.networkDowntimeMs` (≤ 25 ms);
 * - the destination's vCPU pins (`virsh vcpupin`), emulator pin and FIFO
 *   priorities (its live XML) against the plan for that host (target: 0 wrong).
 * A leg that failed fails its total-time check with the error.
 *
 * Messages follow the verdict's shape with the guest and the move as the place:
 *   migration downtime of vnf (lab-1 → lab-2): 83 ms > target 10 ms
 *
 * The cross-check: the network downtime is libvirt's downtime plus the time
 * the resumed guest needs to send its next packet. It is never shorter by
 * more than two packet intervals (a paused guest cannot send), and longer by
 * at most `NETWORK_EXCESS_TOLERANCE_MS`: under TCG the destination's QEMU
 * starts with an empty translation cache, so the guest crawls for its first
 * few hundred ms (measured 115-850 ms on the lab, docs/probes.md). Beyond
 * that a note says so; it does not fail the gate.
 */
import { satisfies, type Bound, type Targets } from "../../targets";
import type { MigrationLeg, MigrationResult } from "./types";
import { brokenRelation, formatNumber, formatTarget, type Check } from "../../verdict";

/** How much longer than libvirt's downtime the packet gap may be before a note flags it, ms. */
export const NETWORK_EXCESS_TOLERANCE_MS = 1000;

export const ZERO_WRONG_PINS: Bound = { value: 0, op: "<=", unit: "ratio", source: "always on: the destination runs the plan's pins for that host" };

export function legPlace(guest: string, leg: Pick<MigrationLeg, "from" | "to">): string {
    return `${guest} (${leg.from} → ${leg.to})`;
}

export function judgeMigration(results: MigrationResult[], targets: Targets): Check[] {
    const checks: Check[] = [];
    for (const r of results) {
        const downtimeTarget = r.workload === "memory" ? targets.migration.downtimeMemoryMs : targets.migration.downtimeIoMs;
        for (const leg of r.legs) {
            const place = legPlace(r.guest, leg);
            const base = { guest: r.guest, probe: "migration" as const, statistic: "max" as const, where: `${leg.from} → ${leg.to}` };
            const figure = (metric: Check["metric"], name: string, measured: number | null, target: Bound, missing: string) => {
                const fullName = `${name} of ${place}`;
                if (measured === null) {
                    checks.push({ ...base, metric, name: fullName, measuredUs: null, target, pass: false, message: `${fullName}: no figure (${missing})` });
                    return;
                }
                const pass = satisfies(measured, target);
                checks.push({
                    ...base,
                    metric,
                    name: fullName,
                    measuredUs: measured,
                    target,
                    pass,
                    message: pass ? null : `${fullName}: ${formatNumber(measured)} ms ${brokenRelation(target.op)} target ${formatTarget(target)}`,
                });
            };
            const missing = leg.error ?? "libvirt gave no completed-job figures";
            figure("migration.totalMs", "migration total time", leg.error ? null : leg.totalMs, targets.migration.totalMs, missing);
            if (leg.error) continue;
            figure("migration.downtimeMs", "migration downtime", leg.downtimeMs, downtimeTarget, missing);
            figure("migration.networkDowntimeMs", "network downtime", leg.networkDowntimeMs, targets.migration.networkDowntimeMs, "the receiver got no packet");
            const wrong = leg.pins.filter((p) => p.actual !== p.expected);
            const lacking = leg.cputuneMissing ?? [];
            const pinsName = `vCPU pins after migration of ${place}`;
            checks.push({
                ...base,
                metric: "migration.pins",
                name: pinsName,
                statistic: "total",
                measuredUs: wrong.length + lacking.length,
                target: ZERO_WRONG_PINS,
                pass: wrong.length + lacking.length === 0,
                message:
                    wrong.length + lacking.length === 0
                        ? null
                        : `${pinsName}: ${[
                              ...wrong.map((p) => `vCPU ${p.vcpu} on ${p.actual ?? "nothing"}, plan says ${p.expected}`),
                              ...lacking.map((l) => `the destination lacks ${l}`),
                          ].join("; ")}`,
            });
        }
    }
    return checks;
}

/** Where the network downtime and libvirt's downtime disagree by more than the stated tolerance. */
export function migrationNotes(results: MigrationResult[]): string[] {
    const notes: string[] = [];
    for (const r of results) {
        for (const leg of r.legs) {
            if (leg.error || leg.networkDowntimeMs === null || leg.downtimeMs === null) continue;
            const excess = leg.networkDowntimeMs - leg.downtimeMs;
            const slack = 2 * (leg.resolutionMs ?? 0);
            if (excess < -slack || excess > NETWORK_EXCESS_TOLERANCE_MS) {
                notes.push(
                    `${legPlace(r.guest, leg)}: network downtime ${formatNumber(leg.networkDowntimeMs)} ms and libvirt's downtime ${leg.downtimeMs} ms differ by ` +
                        `${formatNumber(excess)} ms, outside the tolerance (−${formatNumber(slack)} to +${NETWORK_EXCESS_TOLERANCE_MS} ms, docs/probes.md)`,
                );
            }
        }
    }
    return notes;
}
