/**
 * The problem list as people read it: a header that counts every problem,
 * then one line each, `<file>:<line>: <path>: <reason> (got <value>). Fix: <fix>`.
 * `npm run validate` prints it; the Pulumi program throws it.
 */
import { countProblems, formatProblem, type SpecProblem } from "../spec/problems";

/** One problem line; `file` is left out when the config came from the engine. */
export function formatProblemLine(problem: SpecProblem, file?: string): string {
    const where =
        file === undefined ? (problem.line !== undefined ? `line ${problem.line}: ` : "") : `${file}${problem.line !== undefined ? `:${problem.line}` : ""}: `;
    return `${where}${formatProblem(problem)}`;
}

/** Header and every problem, one per line. */
export function formatProblemReport(problems: SpecProblem[], file?: string): string {
    const header = `${file === undefined ? "the stack config" : file}: ${countProblems(problems.length)}:`;
    return [header, ...problems.map((p) => formatProblemLine(p, file))].join("\n");
}
