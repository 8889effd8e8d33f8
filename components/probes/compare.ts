/**
 * `npm run probe -- --compare <run or file>`: this run's figures against an
 * earlier run's, per check the old and the new figure and the relative
 * change, the worse ones first. The earlier run is a line of the stack's
 * history.jsonl, named by its number (`3`, or `-1` for the last one before
 * this run) or its time (`2026-05-03`, `2026-05-03T10:12`: the last run
 * whose time starts so), or a probes.json file of any run. Checks match by
 * their history id (history.ts `checkId`). Pure but for reading the file named.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { historyChecks, checkLabel, readHistory, shownPath, type HistoryCheck, type HistoryRun } from "./history";
import type { Operator } from "./targets";
import type { Check } from "./verdict";
import { formatNumber, unitSymbol } from "./verdict";

/** A run's figures, wherever they came from. */
export interface RunFigures {
    /** How the run is named in the output: `run #3 (2026-05-03 10:12, commit 1a2b3c4d)` or the file. */
    label: string;
    checks: HistoryCheck[];
}

export type ChangeKind = "worse" | "better" | "same" | "lost its figure" | "new figure" | "new check" | "gone";

export interface FigureChange {
    id: string;
    label: string;
    unit: HistoryCheck["unit"];
    before: number | null;
    after: number | null;
    /** (after − before) / |before|; null without both figures, Infinity from 0 to more. */
    relative: number | null;
    kind: ChangeKind;
    /** The newer run's target operator: which way is worse. */
    op: Operator;
    /** The newer run's target, in words, for the reader. */
    target: string;
}

export function runFromHistory(run: HistoryRun): RunFigures {
    return {
        label: `run #${run.index} (${run.time.slice(0, 16).replace("T", " ")}${run.commit ? `, commit ${run.commit.slice(0, 8)}` : ""})`,
        checks: run.checks,
    };
}

/** The figures of a probes.json report; throws with the fix when the text is not one. */
export function runFromReport(text: string, source: string): RunFigures {
    let doc: { schema?: unknown; checks?: unknown; generatedAt?: unknown };
    try {
        doc = JSON.parse(text);
    } catch (err) {
        throw new Error(`--compare ${source}: not JSON (${(err as Error).message}). Fix: name a probes.json of an earlier run, or a run of history.jsonl.`);
    }
    if (typeof doc?.schema !== "string" || !doc.schema.startsWith("nfv-testpod/probe-report@") || !Array.isArray(doc.checks)) {
        throw new Error(`--compare ${source}: not a probe report (no nfv-testpod/probe-report schema and checks). Fix: name a probes.json of an earlier run.`);
    }
    const checks = (doc.checks as Check[]).filter((c) => typeof c?.guest === "string" && typeof c.metric === "string" && typeof c.target === "object");
    const when = typeof doc.generatedAt === "string" ? ` (${doc.generatedAt.slice(0, 16).replace("T", " ")})` : "";
    return { label: `${source}${when}`, checks: historyChecks(checks) };
}

/**
 * The run `ref` names: an existing file (a probes.json), a run's number in
 * history.jsonl (1 is the first; -1 the last), or a time prefix. Throws with
 * the runs there are when it names none, before anything is probed.
 */
export async function resolveRunRef(ref: string, historyFile: string, cwd = process.cwd()): Promise<RunFigures> {
    const asFile = path.resolve(cwd, ref);
    const stat = await fs.stat(asFile).catch(() => null);
    if (stat?.isFile()) return runFromReport(await fs.readFile(asFile, "utf8"), ref);
    const { runs } = await readHistory(historyFile);
    const shown = shownPath(historyFile, cwd);
    const available =
        runs.length === 0
            ? `${shown} holds no run yet`
            : `${shown} holds runs #1 to #${runs.length}, from ${runs[0].time.slice(0, 16)} to ${runs[runs.length - 1].time.slice(0, 16)}`;
    const fix = "Fix: give a run's number (1 is the first, -1 the last), a time such as 2026-05-03 or 2026-05-03T10:12, or the path of a probes.json.";
    if (/^-?\d+$/.test(ref)) {
        const n = Number(ref);
        const run = n > 0 ? runs[n - 1] : n < 0 ? runs[runs.length + n] : undefined;
        if (!run) throw new Error(`--compare ${ref}: no such run (${available}). ${fix}`);
        return runFromHistory(run);
    }
    if (/^\d{4}-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2})?)?)?)?/.test(ref)) {
        const prefix = ref.replace(" ", "T");
        const run = [...runs].reverse().find((r) => r.time.startsWith(prefix));
        if (!run) throw new Error(`--compare ${ref}: no run at that time (${available}). ${fix}`);
        return runFromHistory(run);
    }
    throw new Error(`--compare ${ref}: neither a file nor a run of ${shown} (${available}). ${fix}`);
}

/** Each check of either run, matched by id, the worse first (by how much worse), then lost figures, better, same, new and gone. */
export function compareRuns(before: RunFigures, after: RunFigures): FigureChange[] {
    const old = new Map(before.checks.map((c) => [c.id, c]));
    const changes: FigureChange[] = [];
    for (const c of after.checks) {
        const o = old.get(c.id);
        old.delete(c.id);
        const target = `${c.target.op === "<=" ? "≤" : c.target.op} ${formatNumber(c.target.value)}${unitSymbol(c.unit) ? ` ${unitSymbol(c.unit)}` : ""}`;
        const base = { id: c.id, label: checkLabel(c), unit: c.unit, after: c.figure, target, op: c.target.op };
        if (!o) {
            changes.push({ ...base, before: null, relative: null, kind: "new check" });
            continue;
        }
        if (o.figure === null || c.figure === null) {
            const kind: ChangeKind = o.figure === null && c.figure === null ? "same" : c.figure === null ? "lost its figure" : "new figure";
            changes.push({ ...base, before: o.figure, relative: null, kind });
            continue;
        }
        const relative = o.figure === 0 ? (c.figure === 0 ? 0 : Infinity * Math.sign(c.figure)) : (c.figure - o.figure) / Math.abs(o.figure);
        const kind: ChangeKind = relative === 0 ? "same" : relative > 0 === isUpper(c.target.op) ? "worse" : "better";
        changes.push({ ...base, before: o.figure, relative, kind });
    }
    for (const o of old.values()) {
        const target = `${o.target.op === "<=" ? "≤" : o.target.op} ${formatNumber(o.target.value)}${unitSymbol(o.unit) ? ` ${unitSymbol(o.unit)}` : ""}`;
        changes.push({ id: o.id, label: checkLabel(o), unit: o.unit, before: o.figure, after: null, relative: null, kind: "gone", target, op: o.target.op });
    }
    const rank: Record<ChangeKind, number> = { worse: 0, "lost its figure": 1, better: 2, "new figure": 3, same: 4, "new check": 5, gone: 6 };
    const badness = (c: FigureChange) => (c.relative === null ? 0 : isUpper(c.op) ? c.relative : -c.relative);
    return changes
        .map((c, i) => ({ c, i }))
        .sort((a, b) => rank[a.c.kind] - rank[b.c.kind] || (a.c.kind === "worse" ? badness(b.c) - badness(a.c) : 0) || a.i - b.i)
        .map(({ c }) => c);
}

/** The comparison as the terminal shows it: a line saying what against what, then one aligned row per check. */
export function formatComparison(before: RunFigures, after: RunFigures, changes: FigureChange[]): string {
    const show = (v: number | null, unit: HistoryCheck["unit"]) =>
        v === null ? "no figure" : `${formatNumber(v)}${unitSymbol(unit) ? ` ${unitSymbol(unit)}` : ""}`;
    const pct = (c: FigureChange) =>
        c.relative === null ? "" : !Number.isFinite(c.relative) ? "from 0" : `${c.relative >= 0 ? "+" : ""}${(c.relative * 100).toFixed(1)} %`;
    const rows = changes.map((c) => [c.kind, c.label, show(c.before, c.unit), "→", show(c.after, c.unit), pct(c), `target ${c.target}`]);
    const widths = rows.reduce((w, r) => r.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), [] as number[]);
    const worse = changes.filter((c) => c.kind === "worse" || c.kind === "lost its figure").length;
    const better = changes.filter((c) => c.kind === "better" || c.kind === "new figure").length;
    return [
        `Changes from ${before.label} to ${after.label}: ${worse} worse, ${better} better, ${changes.length - worse - better} other`,
        ...rows.map(
            (r) =>
                "  " +
                r
                    .map((cell, i) => ([2, 4, 5].includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
                    .join("  ")
                    .trimEnd(),
        ),
    ].join("\n");
}

/** Higher is worse for an upper bound (latencies, downtimes, bad packets), lower for a lower bound (rates). */
function isUpper(op: Operator): boolean {
    return op === "<=" || op === "<";
}
