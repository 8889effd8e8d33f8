/**
 * A summary fit for a pull-request comment: a headline, one table row per
 * guest × probe × metric with a pass/fail mark, the failure messages, then
 * the tool versions and command lines that produced the figures.
 */
import { describeChange } from "../baseline";
import { formatPercentile } from "../stats";
import { formatNumber, formatTarget, unitSymbol, type Check, type Verdict } from "../verdict";

const PASS = "✅ pass";
const FAIL = "❌ fail";

export function markdownReport(verdict: Verdict): string {
    const failed = verdict.checks.filter((c) => !c.pass).length;
    const total = verdict.checks.length;
    const headline = verdict.pass
        ? `## Latency probes: ✅ all ${total} checks passed (gate: ${verdict.gate})`
        : `## Latency probes: ❌ ${failed} of ${total} checks failed (gate: ${verdict.gate}${verdict.gate === "report" ? ", not enforced" : ""})`;
    const out: string[] = [headline, ""];
    const withBaseline = verdict.baseline !== undefined;
    out.push(
        `| Guest | Probe | Metric | Measured | Samples | Where | Target |${withBaseline ? " Change |" : ""} Result |`,
        `|---|---|---|---|---|---|---|${withBaseline ? "---|" : ""}---|`,
    );
    for (const c of verdict.checks) {
        const change = withBaseline
            ? ` ${cell(c.change ? `${describeChange(c.change)} (${c.change.worseBy.toFixed(2)}× worse-by)` : "no baseline figure")} |`
            : "";
        out.push(
            `| ${cell(c.guest)} | ${c.probe} | ${cell(`${c.name} (${c.statistic})`)} | ${cell(measured(c))} | ${c.samples ?? "—"} | ${cell(c.where ?? "")} | ${cell(targetCell(c))} |${change} ${c.pass ? PASS : FAIL} |`,
        );
    }
    if (verdict.baseline) {
        out.push("", `Baseline: ${cell(verdict.baseline.source)}; a figure worse by more than ${verdict.baseline.regressionFactor}× fails its check.`);
    }
    if (verdict.failures.length > 0) {
        out.push("", "### Failures", "", ...verdict.failures.map((f) => `- ${f}`));
    }
    if ((verdict.crossChecks ?? []).length > 0) {
        out.push("", "### Cross-checks", "", ...(verdict.crossChecks ?? []).map((c) => `- ${c.agree ? "✅" : "⚠️"} ${c.note}`));
    }
    if ((verdict.notes ?? []).length > 0) {
        out.push("", "### Statistics notes", "", ...(verdict.notes ?? []).map((n) => `- ${n}`));
    }
    out.push("", "### Percentiles", "", "| Guest | Probe | Series | Samples | Expected | p99 | p99.9 | Max |", "|---|---|---|---|---|---|---|---|");
    for (const { guest, result } of verdict.results) {
        for (const s of result.series) {
            out.push(
                `| ${cell(guest)} | ${result.probe} | ${cell(s.label)} | ${s.stats.samples} | ${s.stats.expectedSamples ?? "—"} | ${cell(formatPercentile(s.stats, "p99"))} | ${cell(formatPercentile(s.stats, "p999"))} | ${s.stats.maxUs === null ? "n/a" : `${formatNumber(s.stats.maxUs)} µs`} |`,
            );
        }
    }
    out.push("", "### Tools", "", "| Guest | Probe | Version | Command |", "|---|---|---|---|");
    for (const { guest, result } of verdict.results) {
        out.push(`| ${cell(guest)} | ${result.probe} | ${cell(result.version ?? "unknown")} | ${result.command ? code(result.command) : "unknown"} |`);
    }
    return out.join("\n") + "\n";
}

function measured(c: Check): string {
    if (c.measuredUs === null) return "no samples";
    return `${formatNumber(c.measuredUs)} ${unitSymbol(c.target.unit)}`;
}

/** The operator is always shown in the table, ≤ included, so a reader never has to guess. */
function targetCell(c: Check): string {
    return c.target.op === "<=" ? `≤ ${formatTarget(c.target)}` : formatTarget(c.target);
}

/** Pipes would end the table cell; line breaks would end the row. */
function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A code span that survives backticks inside the command. */
function code(text: string): string {
    const body = cell(text);
    const fence = body.includes("`") ? "``" : "`";
    return `${fence}${fence === "``" ? " " : ""}${body}${fence === "``" ? " " : ""}${fence}`;
}
