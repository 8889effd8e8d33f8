/**
 * Where a run spends its time, for the bench (`npm run bench -- up`): when
 * NFVKIT_TIMING_LOG names a file, the program and the provider plugin append
 * one JSON line per timed step (what, whose, start and end in ms since the
 * epoch). Unset, nothing is written and the cost is one environment lookup.
 * Both processes inherit the variable from the pulumi CLI.
 */
import { appendFileSync, readFileSync } from "node:fs";

/** One timed step, as a line of the log. */
export interface TimingSpan {
    /** The step, e.g. "domain: boot (console ready line)". */
    what: string;
    /** Whose step: a guest, a host, a resource name; "" for the whole run. */
    subject: string;
    start: number;
    end: number;
}

function logFile(): string | undefined {
    return process.env.NFVKIT_TIMING_LOG || undefined;
}

/** Records a step that started at `start` and ends now. */
export function recordSpan(what: string, subject: string, start: number, end = Date.now()): void {
    const file = logFile();
    if (!file) return;
    const span: TimingSpan = { what, subject, start, end };
    // One short line per write: appends of this size from two processes do not interleave.
    appendFileSync(file, `${JSON.stringify(span)}\n`);
}

/** Runs `work` and records how long it took (also when it fails). */
export async function timed<T>(what: string, subject: string, work: () => Promise<T>): Promise<T> {
    if (!logFile()) return work();
    const start = Date.now();
    try {
        return await work();
    } finally {
        recordSpan(what, subject, start);
    }
}

/** The spans a run wrote to `file`, in the order they were written; none when it wrote no file. */
export function readSpans(file: string): TimingSpan[] {
    let text = "";
    try {
        text = readFileSync(file, "utf8");
    } catch {
        return [];
    }
    return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as TimingSpan);
}
