/**
 * A summary fit for a pull-request comment: a headline, one table row per
 * judged figure of every kind with a pass/fail mark, the failure messages,
 * then each kind's own section (the latency tools' percentiles and commands,
 * the inter-VM rates, the migrations' figures) and the notes.
 */
import { describeChange } from "../baseline";
import type { AnyProbeKind } from "../kinds/kind";
import { PROBE_KINDS } from "../kinds/registry";
import { formatNumber, formatTarget, unitSymbol, type Check, type Verdict } from "../verdict";

const PASS = "✅ pass";
const FAIL = "❌ fail";

/**
 * `kinds`: whose sections to write. @default the registry's
 * `htmlLink`: the HTML report's address, relative to this file (`index.html`): a line under the headline links to it. @default none
 */
export function markdownReport(verdict: Verdict, opts: { kinds?: readonly AnyProbeKind[]; htmlLink?: string } = {}): string {
    let text = markdownVerdict(verdict, opts);
    // Each kind's section, in the pipeline's order.
    for (const kind of opts.kinds ?? PROBE_KINDS) {
        const section = (verdict.sections as Record<string, unknown>)[kind.name];
        if (section !== undefined) text += kind.report.markdown(section, verdict);
    }
    return text;
}

/**
 * The report's top: the headline, the checks table and the failures, without
 * the kinds' sections. It needs only what probes.json holds, so `npm run up`
 * prints it in the terminal from there.
 */
export function markdownVerdict(verdict: Pick<Verdict, "pass" | "gate" | "stopped" | "checks" | "failures">, opts: { htmlLink?: string } = {}): string {
    const failed = verdict.checks.filter((c) => !c.pass).length;
    const total = verdict.checks.length;
    const headline = verdict.stopped
        ? `## Probes: ❌ stopped before probing: ${verdict.stopped.split("\n")[0]}`
        : verdict.pass
          ? `## Probes: ✅ all ${total} checks passed (gate: ${verdict.gate})`
          : `## Probes: ❌ ${failed} of ${total} checks failed (gate: ${verdict.gate}${verdict.gate === "report" ? ", not enforced" : ""})`;
    const out: string[] = [headline, ""];
    if (opts.htmlLink)
        out.push(
            `Full report, with every chart and each check's trend over the last runs: [${opts.htmlLink}](${encodeURI(opts.htmlLink)}) (next to this file).`,
            "",
        );
    // The Change column when any figure was compared with a baseline.
    const withBaseline = verdict.checks.some((c) => c.change !== undefined);
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
    if (verdict.failures.length > 0) {
        out.push("", "### Failures", "", ...verdict.failures.map((f) => `- ${f}`));
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
