/**
 * Where a problem path sits in the text it came from. Built once per file:
 * a line index (offset to line by binary search) and a map from every YAML
 * path to its line, so looking up thousands of problems costs no rescans of
 * the text (which made a 5 MB spec take half an hour).
 */
import { joinPath } from "../spec/problems";

/** Offsets at which lines start; `lineAt` is a binary search. */
export class LineIndex {
    private readonly starts: number[] = [0];

    constructor(private readonly text: string) {
        for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.starts.push(i + 1);
    }

    /** 1-based line of `offset`. */
    lineAt(offset: number): number {
        let lo = 0;
        let hi = this.starts.length - 1;
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (this.starts[mid] <= offset) lo = mid;
            else hi = mid - 1;
        }
        return lo + 1;
    }

    /** 1-based line of the first character at or after `offset` that is not blank or a list dash (js-yaml reports a node where its indentation starts). */
    lineOfNodeAt(offset: number): number {
        let pos = offset;
        for (; pos < this.text.length; pos++) {
            const c = this.text.charCodeAt(pos);
            // space, tab, LF, CR, "-"
            if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 45) break;
        }
        return this.lineAt(pos);
    }

    /** The text of a 1-based line, for showing malformed YAML as written. */
    lineText(line: number): string {
        const start = this.starts[line - 1] ?? this.text.length;
        const end = line < this.starts.length ? this.starts[line] - 1 : this.text.length;
        return this.text.slice(start, end).replace(/\r$/, "");
    }
}

/** A YAML node and where it starts, from js-yaml's parse events. */
export interface YamlNode {
    start: number;
    result: unknown;
    children: YamlNode[];
}

/** Skips wrapper nodes js-yaml opens around a flow collection (one child with the same result). */
export function unwrap(node: YamlNode): YamlNode {
    while (node.children.length === 1 && node.children[0].result === node.result) node = node.children[0];
    return node;
}

/**
 * Records the line of every path under `node`: a mapping value at its key's
 * line, a list item at its own. `name` renames keys directly under `node`
 * (a stack file's `config: gates` is the key "nfv-testpod:gates").
 * A loop over an explicit stack with no closure per node: this runs once per
 * node of multi-megabyte files.
 */
export function recordLines(node: YamlNode, path: string, lines: LineIndex, into: Map<string, number>, name: (key: string) => string = (key) => key): void {
    const nodes: YamlNode[] = [unwrap(node)];
    const paths: string[] = [path];
    const top = nodes[0];
    while (nodes.length > 0) {
        const at = nodes.pop()!;
        const atPath = paths.pop()!;
        const children = at.children;
        if (Array.isArray(at.result)) {
            for (let i = 0; i < children.length; i++) {
                const item = unwrap(children[i]);
                const itemPath = `${atPath}[${i}]`;
                if (!into.has(itemPath)) into.set(itemPath, lines.lineOfNodeAt(item.start));
                nodes.push(item);
                paths.push(itemPath);
            }
        } else if (at.result !== null && typeof at.result === "object") {
            for (let i = 0; i + 1 < children.length; i += 2) {
                const key = children[i].result;
                if (typeof key !== "string" && typeof key !== "number") continue;
                const keyPath = joinPath(atPath, at === top ? name(String(key)) : String(key));
                if (!into.has(keyPath)) into.set(keyPath, lines.lineOfNodeAt(children[i].start));
                nodes.push(unwrap(children[i + 1]));
                paths.push(keyPath);
            }
        }
    }
}

/** Line of `path`, or of the deepest part of it that is in the file. */
export function lineOfPath(lines: Map<string, number>, path: string): number | undefined {
    for (let at = path; at !== "";) {
        const line = lines.get(at);
        if (line !== undefined) return line;
        const cut = Math.max(at.lastIndexOf("."), at.lastIndexOf("["));
        if (cut <= 0) return undefined;
        at = at.slice(0, cut);
    }
    return undefined;
}
