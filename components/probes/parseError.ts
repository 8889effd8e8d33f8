/**
 * The error every parser throws on output it cannot read. It quotes the
 * first lines of the output, because that is where tools print "invalid
 * option", "Could not apply config" and other reasons nothing was measured.
 */

/** How many lines of the output an error message quotes. */
export const QUOTED_LINES = 8;

export class ProbeParseError extends Error {
    /** Tool whose output could not be read, e.g. `cyclictest`. */
    readonly tool: string;
    /** The first lines of the output, as quoted in the message. */
    readonly head: string[];

    constructor(tool: string, reason: string, output: string) {
        const head = firstLines(output, QUOTED_LINES);
        const quoted = head.length > 0 ? head.map((l) => `  | ${l}`).join("\n") : "  | (empty output)";
        super(`cannot parse ${tool} output: ${reason}. It begins:\n${quoted}`);
        this.name = "ProbeParseError";
        this.tool = tool;
        this.head = head;
    }
}

/** The first `n` lines, with terminal escape sequences removed so the message stays readable. */
export function firstLines(text: string, n: number): string[] {
    const lines = stripAnsi(text).split(/\r?\n/);
    while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
    return lines.slice(0, n);
}

/** Removes ANSI escape sequences (colours, "ESC c" clear screen) that rtla prints even without a terminal. */
export function stripAnsi(text: string): string {
    // eslint-disable-next-line no-control-regex
    return text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[A-Za-z]/g, "");
}
