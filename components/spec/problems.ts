/**
 * What is wrong with a pod spec, a stack's config or any other input of the
 * kit, said so that a person can fix it without reading the kit's source:
 * where (YAML path, and the line when the text is known), what was there, why
 * it is wrong, and what to write instead. Every check of the kit reports in
 * this one shape, so `npm run validate` and `pulumi up` print the same list,
 * and one error class carries such a list: ProblemListError. (The other shape
 * of error is a command that failed: HostCommandError, in host/access.)
 *
 * A value is shown as written, except what looks like a secret: a problem
 * says what kind of thing it saw ("a private key"), never the thing itself.
 */

/** One thing wrong with a pod spec, a stack's config or another input. */
export interface SpecProblem {
    /**
     * YAML path of the offending field, e.g. "nfv-testpod:pod.guests[1].vcpus"
     * (with the ResolveOptions.yamlPath prefix when given). "" for the file as
     * a whole (its size, its encoding, its YAML syntax).
     */
    path: string;
    /** The value found there; `undefined` when the field is missing. */
    value: unknown;
    /** Why the value cannot be used, in the user's words (hosts, guests, CPUs), not the kit's. */
    reason: string;
    /** What to write instead. */
    fix: string;
    /** 1-based line in the file the config came from; absent when no text is known (config from the engine). */
    line?: number;
    /**
     * How to show the value when its loaded form would mislead or leak: a
     * secret ("[secret]"), the size of a file, a line of malformed YAML.
     */
    shown?: string;
}

/** Longest value shown in a message; values are cut there, so a huge value costs no more than a small one. */
const shownLength = 80;

/**
 * Renders a value for a message: strings quoted, lists and objects as compact
 * JSON, YAML's `.inf` and `.nan` as written (JSON would say null), long ones
 * cut. Stops walking a value once enough is written, so showing a
 * multi-megabyte list costs no more than showing a small one.
 */
export function formatValue(value: unknown): string {
    if (value === undefined) return "nothing";
    const parts: string[] = [];
    let length = 0;
    const put = (text: string) => {
        parts.push(text);
        length += text.length;
    };
    const write = (v: unknown): void => {
        if (length > shownLength) return;
        if (typeof v === "number") put(Number.isNaN(v) ? ".nan" : v === Infinity ? ".inf" : v === -Infinity ? "-.inf" : String(v));
        else if (typeof v === "string") put(describeSecret(v) ?? JSON.stringify(v.length > shownLength * 2 ? v.slice(0, shownLength * 2) : v));
        else if (v === null || v === undefined) put("null");
        else if (typeof v === "boolean" || typeof v === "bigint") put(String(v));
        else if (v instanceof Date) put(JSON.stringify(v.toISOString()));
        else if (Array.isArray(v)) {
            put("[");
            for (let i = 0; i < v.length && length <= shownLength; i++) {
                if (i > 0) put(",");
                write(v[i]);
            }
            put("]");
        } else if (typeof v === "object") {
            put("{");
            let first = true;
            for (const key in v as Record<string, unknown>) {
                if (length > shownLength) break;
                if (!first) put(",");
                first = false;
                put(`${JSON.stringify(key)}:`);
                write((v as Record<string, unknown>)[key]);
            }
            put("}");
        } else put(String(v));
    };
    write(value);
    const text = parts.join("");
    return text.length > shownLength ? `${text.slice(0, shownLength - 3)}...` : text;
}

/** One problem as one line: `<path>: <reason> (got <value>). Fix: <fix>`; a problem of the whole file has no path. */
export function formatProblem(problem: SpecProblem): string {
    const where = problem.path === "" ? "" : `${problem.path}: `;
    return `${where}${problem.reason} (got ${problem.shown ?? formatValue(problem.value)}). Fix: ${problem.fix}`;
}

/** "1 problem", "3 problems". */
export function countProblems(n: number): string {
    return n === 1 ? "1 problem" : `${n} problems`;
}

/**
 * Every problem of an input at once (a pod spec, probe settings, a guest
 * image recipe, a host description), so one run shows all of them. The one
 * error class for bad input: each problem has its path, the value, the
 * reason and the fix.
 */
export class ProblemListError extends Error {
    readonly problems: SpecProblem[];

    constructor(
        problems: SpecProblem[],
        /** What was checked, for the first line: "pod spec", "probe settings", "guest image recipe". */
        readonly what = "pod spec",
    ) {
        super(`${what} has ${countProblems(problems.length)}:\n${problems.map(formatProblem).join("\n")}`);
        this.name = "ProblemListError";
        this.problems = problems;
    }
}

/** One bad input as a ProblemListError: for checks that find one problem at a time (a command-line flag, a value a host cannot satisfy). */
export function problemError(what: string, path: string, value: unknown, reason: string, fix: string): ProblemListError {
    return new ProblemListError([{ path, value, reason, fix }], what);
}

/** The first line of a PEM block (any kind of private key: OpenSSH, RSA, EC, PKCS#8, encrypted or not). */
const privateKeyPattern = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----|PuTTY-User-Key-File-|b3BlbnNzaC1rZXktdjE/;
/** A run of base64 long enough to be key material, in a value that is nothing else. */
const keyMaterialPattern = /^[A-Za-z0-9+/]{40,}={0,2}$/;

/**
 * How a problem shows a value that looks like a secret: "a private key" for
 * a pasted key (PEM, PuTTY, or the body of an OpenSSH key), "key material
 * (N characters)" for a long base64 run with the marks of one (a "+" or "/",
 * "=" padding, or 64 characters and more); undefined for anything else, which
 * is shown as written.
 */
export function describeSecret(value: string): string | undefined {
    if (privateKeyPattern.test(value)) return "a private key";
    const text = value.trim();
    if (keyMaterialPattern.test(text) && (/[+/=]/.test(text) || text.length >= 64)) return `key material (${text.length} characters)`;
    return undefined;
}

/** Joins a YAML path prefix and a field: ("", "guests") → "guests", ("p", "guests") → "p.guests", ("p", "[0]") → "p[0]". */
export function joinPath(prefix: string, key: string | number): string {
    if (typeof key === "number") return `${prefix}[${key}]`;
    return prefix === "" ? key : `${prefix}.${key}`;
}
