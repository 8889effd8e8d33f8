/**
 * The history of a stack's probe runs: `results/<stack>/history.jsonl`, one
 * JSON line per run, appended by the results writer after every run (the
 * ProbeSuite of `pulumi up` and `npm run probe` alike): the commit, the time,
 * the hosts' facts (kernel, accelerator), the gate, pass, and each check's
 * id, figure, unit and target. The HTML report draws each check's trend from
 * it, `npm run probe -- --compare` reads runs back from it, and the baseline
 * gate can take the median of its last accepted runs (`baseline: { history: N }`).
 *
 * JSON Lines, because an append is one write of one line: a run killed while
 * writing leaves at most one torn last line, which readers skip and name,
 * never a history that no longer parses.
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { hostAccess } from "../host/access";
import type { Baseline } from "./baseline";
import type { ProbeKind } from "./kinds/latency/types";
import type { Operator, TargetUnit } from "./targets";
import type { Check, Gate, Verdict } from "./verdict";

/** Identifies the layout of one line, so readers can refuse lines they do not understand. */
export const HISTORY_SCHEMA = "nfv-testpod/probe-history@1";

/** The file's name in a results folder. */
export const HISTORY_FILE = "history.jsonl";

/** One judged figure of a run, as the history keeps it. */
export interface HistoryCheck {
    /** Stable across runs: the same figure of the same place has the same id (see `checkId`). */
    id: string;
    guest: string;
    probe: string;
    metric: string;
    name: string;
    statistic: Check["statistic"];
    /** The figure, in `unit`; null when nothing was measured. */
    figure: number | null;
    unit: TargetUnit;
    target: { op: Operator; value: number };
    pass: boolean;
    samples: number | null;
}

/** What a run knew of a host: its running kernel and the accelerator its guests ran under. */
export interface HistoryHost {
    host: string;
    /** `uname -r`; null when the host was not read. */
    kernel: string | null;
    /** `kvm` or `tcg`, from the guests' libvirt domain type; null when it has no guest or none was read. */
    accel: string | null;
}

/** One line of history.jsonl: one probe run. */
export interface HistoryEntry {
    schema: typeof HISTORY_SCHEMA;
    /** ISO time the run's reports were written. */
    time: string;
    /** `git rev-parse HEAD` of the checkout the run came from; null outside a git checkout. */
    commit: string | null;
    /** The report's title (`<project>/<stack>`). */
    title: string;
    gate: Gate;
    pass: boolean;
    /** True when the run was interrupted: its figures cover only part of the planned run. */
    partial: boolean;
    hosts: HistoryHost[];
    checks: HistoryCheck[];
}

/** A run read back from history.jsonl, with its place in the file. */
export interface HistoryRun extends HistoryEntry {
    /** 1-based position among the file's runs: `#3` in the report, `--compare 3`. */
    index: number;
}

/**
 * A check's id, stable across runs: guest, tool or kind, metric and the
 * figure's name (which carries the link or the move where a kind has several
 * of one metric per guest: `inter-VM rate on ring0 (peer → vnf)`,
 * `migration downtime of vnf (lab-1 → lab-2)`).
 */
export function checkId(c: Pick<Check, "guest" | "probe" | "metric" | "name" | "statistic">): string {
    return `${c.guest}/${c.probe}/${c.metric}/${c.statistic}/${c.name}`;
}

/** How a check reads in a trend's title or a comparison: `timer latency (max) on kat, cyclictest`. */
export function checkLabel(c: Pick<HistoryCheck, "guest" | "probe" | "name" | "statistic">): string {
    const place = c.name.includes(c.guest) ? "" : ` on ${c.guest}`;
    return `${c.name} (${c.statistic})${place}, ${c.probe}`;
}

/** The checks of a verdict as the history keeps them; a repeated id gets `#2`, `#3` in check order, so ids stay unique and stable. */
export function historyChecks(checks: readonly Check[]): HistoryCheck[] {
    const seen = new Map<string, number>();
    return checks.map((c) => {
        const base = checkId(c);
        const n = (seen.get(base) ?? 0) + 1;
        seen.set(base, n);
        return {
            id: n === 1 ? base : `${base}#${n}`,
            guest: c.guest,
            probe: c.probe,
            metric: c.metric,
            name: c.name,
            statistic: c.statistic,
            figure: c.measuredUs,
            unit: c.target.unit,
            target: { op: c.target.op, value: c.target.value },
            pass: c.pass,
            samples: c.samples ?? null,
        };
    });
}

/** The line a run adds to the history. Pure: the caller gives the time and the commit. */
export function historyEntry(verdict: Verdict, run: { time: string; commit: string | null; title: string; partial: boolean }): HistoryEntry {
    const hosts = (verdict.sections.hostGate?.hosts ?? []).map((h) => ({ host: h.host, kernel: h.kernel ?? null, accel: h.accel ?? null }));
    return {
        schema: HISTORY_SCHEMA,
        time: run.time,
        commit: run.commit,
        title: run.title,
        gate: verdict.gate,
        pass: verdict.pass,
        partial: run.partial,
        hosts,
        checks: historyChecks(verdict.checks),
    };
}

/**
 * Reads history.jsonl's text: every run it holds, in order, and the lines it
 * could not read (a torn last line, a hand edit), each named with its line
 * number, so a reader says so instead of failing the run.
 */
export function parseHistory(text: string, source: string): { runs: HistoryRun[]; skipped: string[] } {
    const runs: HistoryRun[] = [];
    const skipped: string[] = [];
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "") return;
        let doc: unknown;
        try {
            doc = JSON.parse(line);
        } catch {
            skipped.push(`${source} line ${i + 1}: not JSON (a run cut off while writing?), skipped`);
            return;
        }
        const d = doc as Partial<HistoryEntry>;
        if (d?.schema !== HISTORY_SCHEMA || typeof d.time !== "string" || !Array.isArray(d.checks)) {
            skipped.push(`${source} line ${i + 1}: not a ${HISTORY_SCHEMA} line, skipped`);
            return;
        }
        runs.push({ ...(d as HistoryEntry), hosts: Array.isArray(d.hosts) ? d.hosts : [], index: runs.length + 1 });
    });
    return { runs, skipped };
}

/** The runs of a history file; a missing file is an empty history (the stack's first run). */
export async function readHistory(file: string): Promise<{ runs: HistoryRun[]; skipped: string[] }> {
    let text: string;
    try {
        text = await fs.readFile(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return { runs: [], skipped: [] };
        throw err;
    }
    return parseHistory(text, path.basename(file));
}

/** Appends one run as one line. */
export async function appendHistory(file: string, entry: HistoryEntry): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    // A file whose last line was torn (a killed run) gets its newline first, so this line stays whole.
    const handle = await fs.open(file, "a+");
    try {
        const { size } = await handle.stat();
        let lead = "";
        if (size > 0) {
            const last = Buffer.alloc(1);
            await handle.read(last, 0, 1, size - 1);
            if (last.toString() !== "\n") lead = "\n";
        }
        await handle.appendFile(lead + JSON.stringify(entry) + "\n");
    } finally {
        await handle.close();
    }
}

/** The commit checked out where `dir` lies (`git rev-parse HEAD`); null outside a git checkout or without git. */
export async function gitCommit(dir: string): Promise<string | null> {
    try {
        const out = await hostAccess().run(["git", "-C", dir, "rev-parse", "HEAD"], { timeoutMs: 10_000 });
        const sha = out.stdout.trim();
        return /^[0-9a-f]{40,64}$/.test(sha) ? sha : null;
    } catch {
        return null;
    }
}

/**
 * Runs accepted as a baseline: every check met its target (the verdict
 * passed) and the run was not cut short. A run that failed, even one only
 * reported, is not what "normal" looks like.
 */
export function acceptedRuns(runs: readonly HistoryRun[]): HistoryRun[] {
    return runs.filter((r) => r.pass && !r.partial);
}

/**
 * A baseline from the history: per figure (guest × probe × metric, the
 * baseline's key), the median of the last `n` accepted runs that measured
 * it. Fewer accepted runs give the median of those there are; none gives an
 * empty baseline (nothing is compared) whose source says so. Pure.
 */
export function medianBaseline(runs: readonly HistoryRun[], n: number, file: string): Baseline {
    const last = acceptedRuns(runs).slice(-n);
    const byKey = new Map<string, { guest: string; probe: string; metric: string; figures: number[] }>();
    for (const run of last) {
        for (const c of run.checks) {
            if (c.figure === null) continue;
            const key = `${c.guest}\u0000${c.probe}\u0000${c.metric}`;
            const entry = byKey.get(key) ?? { guest: c.guest, probe: c.probe, metric: c.metric, figures: [] };
            entry.figures.push(c.figure);
            byKey.set(key, entry);
        }
    }
    const source =
        last.length === 0
            ? `${file}: no accepted run yet (of the last ${n} asked), nothing compared`
            : `median of the last ${last.length} accepted run(s) of ${file} (${last.map((r) => `#${r.index}`).join(", ")}${last.length < n ? `; ${n} asked` : ""})`;
    return {
        source,
        checks: [...byKey.values()].map((e) => ({ guest: e.guest, probe: e.probe as ProbeKind, metric: e.metric, measuredUs: median(e.figures) })),
    };
}

/** The middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
    if (values.length === 0) throw new Error("median of no values");
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A path as a reader knows it: relative inside the project (`results/lab/history.jsonl`), absolute elsewhere. */
export function shownPath(file: string, cwd = process.cwd()): string {
    const rel = path.relative(cwd, file);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}
