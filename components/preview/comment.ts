/**
 * The pull request comment of `npm run preview`: a one-line summary, the
 * validation result, what changes in guest terms, the placement and the
 * probes that will run. Short enough to read on a phone: the summary and the
 * changes show, long parts (placement, probe targets, engine steps, long
 * lists) open on a tap. Pure: every figure comes from the caller.
 */
import type { PodPlan } from "../plan/podPlan";
import type { ProbeSuiteConfig } from "../probes/suiteConfig";
import type { Targets } from "../probes/targets";
import { PROBE_KINDS } from "../probes/kinds/registry";
import type { Gate } from "../probes/verdict";
import { countProblems, formatValue, type SpecProblem } from "../spec/problems";
import { count, details, formatBytes, mdCode, mdText } from "./markdown";
import type { PinMove, PodChanges } from "./podChanges";

/** The comment's first line: a hidden marker a workflow finds its own comment by, to update it rather than add another. */
export function commentMarker(stack: string): string {
    return `<!-- nfvkit-preview stack=${stack.replace(/-->|[^A-Za-z0-9_.-]/g, "_")} -->`;
}

export interface PreviewCommentInput {
    stack: string;
    /** The file the config came from, as problems name it (e.g. `stacks/Pulumi.lab.yaml`). */
    file: string;
    /** Validation problems; when any, nothing else is shown (nothing was previewed). */
    problems: SpecProblem[];
    plan?: PodPlan;
    probes?: ProbeSuiteConfig;
    targets?: Targets;
    gate?: Gate;
    /** The engine's preview in guest terms; unset when the engine was not run or failed. */
    changes?: PodChanges;
    /** The engine's steps per operation. */
    counts?: Record<string, number>;
    /** Set when `pulumi preview` failed: its error diagnostics (or its last output lines). */
    engineErrors?: string[];
}

/** Longest list shown open; longer ones go in a collapsible block. */
const openListMax = 6;

export function renderPreviewComment(input: PreviewCommentInput): string {
    const parts = [commentMarker(input.stack), summaryLine(input), ""];
    if (input.problems.length > 0 || !input.plan) {
        parts.push(validationSection(input.problems, input.file));
        return finish(parts);
    }
    const plan = input.plan;
    parts.push(
        `**Validation:** ✅ no problems in ${mdCode(input.file)} (${count(plan.guests.length, "guest")} on ${count(plan.hosts.length, "host")}, ${count(plan.links.length, "link")}).`,
        "",
    );
    if (input.engineErrors) {
        parts.push("**What changes:** unknown, `pulumi preview` failed:", "", "```", input.engineErrors.join("\n").replace(/```/g, "'''"), "```", "");
    } else if (input.changes) {
        parts.push(changesSection(input.changes), "");
    }
    parts.push(placementSection(plan), "", probesSection(plan, input.probes, input.targets, input.gate, input.changes), "");
    if (input.counts) parts.push(stepsLine(input.counts), "");
    return finish(parts);
}

function finish(parts: string[]): string {
    return `${parts
        .join("\n")
        .replace(/\n{3,}/g, "\n\n")
        .trimEnd()}\n`;
}

/** One line: guests, what changes, host reboots, the gate. */
export function summaryLine(input: PreviewCommentInput): string {
    const head = `**nfvkit preview for stack ${mdText(input.stack)}:**`;
    if (input.problems.length > 0 || !input.plan) {
        return `${head} ❌ ${countProblems(input.problems.length)} in the stack config; nothing was previewed`;
    }
    if (input.engineErrors) return `${head} ❌ pulumi preview failed: ${mdText(firstLine(input.engineErrors[0] ?? "no error message"))}`;
    const plan = input.plan;
    const c = input.changes;
    const bits: string[] = [];
    const guestNotes = c
        ? [c.newGuests.length > 0 ? `${c.newGuests.length} new` : "", c.removedGuests.length > 0 ? `${c.removedGuests.length} removed` : ""]
        : [];
    const notes = guestNotes.filter(Boolean);
    bits.push(`${count(plan.guests.length, "guest")}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`);
    if (c) {
        if (c.replaced.length > 0) {
            const shown = c.replaced.slice(0, 2).map((r) => `${r.guest}: ${r.reasons.join(", ")}`);
            const more = c.replaced.length > 2 ? `; ${c.replaced.length - 2} more` : "";
            bits.push(`${c.replaced.length} replaced (${mdText(shown.join("; "))}${more})`);
        } else bits.push("0 replaced");
        bits.push(count(c.pinMoves.length, "pin move"));
        if (c.linksAdded.length > 0) bits.push(`${count(c.linksAdded.length, "link")} added`);
        if (c.linksRemoved.length > 0) bits.push(`${count(c.linksRemoved.length, "link")} removed`);
        if (c.vfChanges.length > 0) bits.push(count(c.vfChanges.length, "VF change"));
        bits.push(count(c.hostReboots.length, "host reboot"));
    }
    bits.push(input.probes?.enabled === false ? "probes off" : `gate ${input.gate ?? "enforce"}`);
    return `${head} ${bits.join(", ")}`;
}

function firstLine(text: string): string {
    const line = text.split("\n").find((l) => l.trim() !== "") ?? text;
    return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Every problem with its line, YAML path, value as written, reason and fix; a long list opens on a tap. */
function validationSection(problems: SpecProblem[], file: string): string {
    if (problems.length === 0) return "**Validation:** ❌ the stack could not be planned.";
    const lines = problems.map((p) => {
        const where = `${p.line !== undefined ? `line ${p.line}` : mdText(file)}${p.path !== "" ? `, ${mdCode(p.path)}` : ""}`;
        return `- ${where}: ${mdText(p.reason)} (got ${mdCode(p.shown ?? formatValue(p.value))}). Fix: ${mdText(p.fix)}`;
    });
    const head = `**Validation:** ❌ ${countProblems(problems.length)} in ${mdCode(file)}; nothing was previewed and nothing was created.`;
    if (lines.length <= openListMax) return [head, "", ...lines].join("\n");
    return [head, "", ...lines.slice(0, openListMax), "", details(`${problems.length - openListMax} more problems`, lines.slice(openListMax).join("\n"))].join(
        "\n",
    );
}

function pinMoveText(m: PinMove): string {
    const fifo = m.fifoFrom === m.fifoTo ? (m.fifoTo !== undefined ? ` (FIFO ${m.fifoTo})` : "") : `, FIFO ${m.fifoFrom ?? "none"} → ${m.fifoTo ?? "none"}`;
    const cpus = m.from === m.to ? `cpu ${m.to}` : `cpu ${m.from} → ${m.to}`;
    return `${m.guest} ${m.thread}: ${cpus}${fifo}`;
}

/** A labelled list: `none`, one line, or items (collapsed when long). */
function listItem(label: string, items: string[], note = ""): string {
    if (items.length === 0) return `- **${label}:** none`;
    const head = `- **${label}**${note}:`;
    if (items.length <= openListMax) return [head, ...items.map((i) => `  - ${i}`)].join("\n");
    return [head, "", details(`${items.length} of them`, items.map((i) => `- ${i}`).join("\n")), ""].join("\n");
}

function changesSection(c: PodChanges): string {
    const linkText = (l: PodChanges["linksAdded"][number], what: string) =>
        `${mdText(l.link)} ${what}${l.members.length > 0 ? ` (${l.members.map(mdText).join(" ↔ ")}${l.sizeBytes !== undefined ? `, ${formatBytes(l.sizeBytes)}` : ""})` : l.sizeBytes !== undefined ? ` (${formatBytes(l.sizeBytes)})` : ""}`;
    const links = [
        ...c.linksAdded.map((l) => linkText(l, "added")),
        ...c.linksRemoved.map((l) => `${mdText(l.link)} removed`),
        ...c.linksReplaced.map((l) => `${mdText(l.link)} made again, because ${mdText(l.reasons.join(", "))}`),
    ];
    const nothing =
        c.newGuests.length +
            c.removedGuests.length +
            c.pinMoves.length +
            c.replaced.length +
            c.otherUpdates.length +
            links.length +
            c.hugepages.length +
            c.other.length ===
        0;
    const lines = ["### What changes", ""];
    if (nothing) lines.push("Nothing: the pod on the hosts already is what this stack describes.", "");
    lines.push(
        listItem(
            "Pin moves",
            c.pinMoves.map((m) => mdText(pinMoveText(m))),
            " (live, the guest keeps running)",
        ),
        listItem(
            "Replaced",
            c.replaced.map(
                (r) =>
                    `${mdText(r.guest)}, because ${mdText(r.reasons.join("; "))}${r.pinMoves.length > 0 ? ` (its pins move with it: ${mdText(r.pinMoves.map((m) => pinMoveText(m).slice(r.guest.length + 1)).join("; "))})` : ""}`,
            ),
            " (deleted and booted again)",
        ),
        listItem("New guests", c.newGuests.map(mdText)),
        listItem("Removed guests", c.removedGuests.map(mdText)),
        listItem("Links", links),
        listItem(
            "Hugepages",
            c.hugepages.map((h) => `${mdText(h.host)} node ${h.node}: ${h.from} → ${h.to} pages of ${formatBytes(h.pageKiB * 1024)}`),
        ),
        listItem(
            "Host reboots",
            c.hostReboots.map((r) => `${mdText(r.host)}: ${mdText(r.why)}`),
        ),
        listItem(
            "VF changes",
            c.vfChanges.map((v) => `${mdText(v.guest)} VF ${mdText(v.vf)}: ${mdText(v.change)}`),
        ),
    );
    if (c.otherUpdates.length > 0) lines.push(listItem("Other live changes", c.otherUpdates.map(mdText)));
    if (c.other.length > 0) lines.push(listItem("Other resources", c.other.map(mdText)));
    return lines.join("\n");
}

function pageWords(kib: number): string {
    return kib === 4 ? "4 KiB (no hugepages)" : formatBytes(kib * 1024);
}

function placementSection(plan: PodPlan): string {
    const rows = plan.guests.map((g) => {
        const pins = g.pins.map((p) => `${p.vcpu}→${p.hostCpu}`).join(", ");
        const rt = g.pins.filter((p) => p.role === "rt").map((p) => p.vcpu);
        return `| ${mdText(g.name)} | ${mdText(g.host)} | ${pins} | ${rt.length > 0 ? rt.join(", ") : "none"} | ${formatBytes(g.memory.bytes)} | ${pageWords(g.pageSize.kibibytes)} |`;
    });
    const table = ["| Guest | Host | vCPUs → host CPUs | RT vCPUs | Memory | Page size |", "|---|---|---|---|---|---|", ...rows].join("\n");
    return details(`<b>Placement</b>: ${count(plan.guests.length, "guest")} on ${count(plan.hosts.length, "host")}`, table);
}

function probesSection(
    plan: PodPlan,
    probes: ProbeSuiteConfig | undefined,
    targets: Targets | undefined,
    gate: Gate | undefined,
    changes?: PodChanges,
): string {
    if (!probes || !targets) return "**Probes:** unknown (the probe settings were not read).";
    if (!probes.enabled) return "**Probes:** off (`nfv-testpod:probes.enabled: false`): nothing is measured after deploy.";
    const when =
        changes?.probes === "first run"
            ? "they run after the guests are up"
            : changes?.probes === "runs again"
              ? "they run again after this change"
              : changes?.probes === "removed"
                ? "the probe suite is removed"
                : "unchanged: they do not run again";
    // Each kind the stack names says what it will judge: the comment knows no kind.
    const parts = PROBE_KINDS.filter((k) => k.named(probes) && k.preview).map((k) => k.preview!(probes, targets, plan));
    const summaries = parts.map((p) => p.summary).filter((x): x is string => x !== null);
    const head = `**Probes** (gate ${gate ?? "enforce"}, ${probes.durationSec} s each, load ${probes.load}; ${when}): ${summaries.map(mdText).join("; ") || "none named"}`;
    const rows = parts.flatMap((p) => p.rows).map((r) => `| ${mdText(r.probe)} | ${mdText(r.where)} | ${mdText(r.metric)} | ${mdText(r.target)} |`);
    if (rows.length === 0) return head;
    const table = ["| Probe | Guest | Metric | Target |", "|---|---|---|---|", ...rows].join("\n");
    return `${head}\n\n${details(`${count(rows.length, "check")} and their targets`, table)}`;
}

function stepsLine(counts: Record<string, number>): string {
    const order = ["create", "update", "replace", "delete", "same"];
    const words: Record<string, string> = { create: "to create", update: "to update", replace: "to replace", delete: "to delete", same: "unchanged" };
    const shown = order.filter((op) => counts[op]).map((op) => `${counts[op]} ${words[op]}`);
    return `<sub>Engine (\`pulumi preview\`): ${shown.join(", ") || "no resources"}.</sub>`;
}
