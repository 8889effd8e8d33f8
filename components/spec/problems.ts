/**
 * What is wrong with a pod spec, said so that a person can fix it without
 * reading the kit's source: where (YAML path), what was there, why it is
 * wrong, and what to write instead.
 */

/** One thing wrong with a pod spec. */
export interface SpecProblem {
    /** YAML path of the offending field, e.g. "guests[1].vcpus" (with the ResolveOptions.yamlPath prefix when given). */
    path: string;
    /** The value found there; `undefined` when the field is missing. */
    value: unknown;
    /** Why the value cannot be used, in the user's words (hosts, guests, CPUs), not the kit's. */
    reason: string;
    /** What to write instead. */
    fix: string;
}

/** Renders a value for a message: strings quoted, lists and objects as compact JSON, long ones cut. */
export function formatValue(value: unknown): string {
    if (value === undefined) return "nothing";
    let text: string;
    try {
        text = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
    } catch {
        text = String(value);
    }
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One problem as one line: `<path>: <reason> (got <value>). Fix: <fix>`. */
export function formatProblem(problem: SpecProblem): string {
    return `${problem.path}: ${problem.reason} (got ${formatValue(problem.value)}). Fix: ${problem.fix}`;
}

/** Every problem of a pod spec at once, so one run of `npm run validate` shows all of them. */
export class PodSpecError extends Error {
    readonly problems: SpecProblem[];

    constructor(problems: SpecProblem[]) {
        const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
        super(`pod spec has ${count}:\n${problems.map(formatProblem).join("\n")}`);
        this.name = "PodSpecError";
        this.problems = problems;
    }
}

/** Joins a YAML path prefix and a field: ("", "guests") → "guests", ("p", "guests") → "p.guests", ("p", "[0]") → "p[0]". */
export function joinPath(prefix: string, key: string | number): string {
    if (typeof key === "number") return `${prefix}[${key}]`;
    return prefix === "" ? key : `${prefix}.${key}`;
}
