/**
 * The table every known-answer run appends to (results/kat/known-answers.md):
 * probe, figure, injected disturbance, reported figure, error, command. The
 * numbers in docs/probes.md come from it.
 */
import { appendFileSync, existsSync, mkdirSync } from "node:fs";
import { errorPercent } from "./disturb";

export const KAT_TABLE = "results/kat/known-answers.md";

/** One row; `injectedMs` null for a clean run (no error to give). Figures are ms unless `unit` says otherwise (a dirty rate is MiB/s). */
export function recordKnownAnswer(
    probe: string,
    figure: string,
    disturbance: string,
    injectedMs: number | null,
    reportedMs: number,
    command: string,
    unit = "ms",
): void {
    mkdirSync("results/kat", { recursive: true });
    if (!existsSync(KAT_TABLE)) {
        appendFileSync(KAT_TABLE, "| probe | figure | injected disturbance | reported | error | command |\n|---|---|---|---|---|---|\n");
    }
    const err = injectedMs === null ? "—" : `${errorPercent(reportedMs, injectedMs).toFixed(2)} %`;
    appendFileSync(KAT_TABLE, `| ${probe} | ${figure} | ${disturbance} | ${reportedMs.toFixed(3)} ${unit} | ${err} | \`${command.replace(/\|/g, "\\|")}\` |\n`);
}
