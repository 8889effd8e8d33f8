/**
 * Reads a stack file (or a bare pod spec file) from its bytes, within the
 * input limits: size, encoding, control characters, nesting, one YAML
 * document. Returns the stack's config in the form the engine gives the
 * program (fully qualified keys, which of them are secret) and where each
 * YAML path sits, so problems carry their line. Pure: the caller reads the file.
 */
import { loadAll, YAMLException } from "js-yaml";
import type { SpecProblem } from "../spec/problems";
import { controlCharacters, maxDepth, maxFileBytes, maxValues } from "./limits";
import { LineIndex, lineOfPath, recordLines, type YamlNode } from "./sourceMap";

/** The kit's config namespace: a stack file's `config: pod` is `nfv-testpod:pod`. */
export const configNamespace = "nfv-testpod";

export interface StackFile {
    /** "stack": a Pulumi stack file (`config:` at the top); "spec": a bare pod spec. */
    kind: "stack" | "spec";
    /** A stack's config by fully qualified key ("nfv-testpod:pod"); for a bare spec, the spec under "nfv-testpod:pod". */
    config: Record<string, unknown>;
    /** Keys stored encrypted (`secure:` values). */
    secretKeys: string[];
    /** Problems of the file itself (size, encoding, YAML syntax, documents); when any, `config` is empty. */
    problems: SpecProblem[];
    /** Line of a problem path (as validateStack reports it), or of the deepest part of it in the file. */
    lineOf: (path: string) => number | undefined;
}

/** js-yaml's event depth past which the file is refused before js-yaml recurses further (its parser is recursive). */
const maxEventDepth = 4 * maxDepth;

class TooDeep extends Error {
    constructor(readonly position: number) {
        super("too deep");
    }
}

/** The parse built more values than maxValues: merge keys (`<<`) copying mappings into mappings. */
class TooMany extends Error {
    constructor(readonly position: number) {
        super("too many values");
    }
}

/** `fileSize`: the file's size when the caller did not read a file over the cap (`bytes` is then empty). */
export function readStackFile(bytes: Uint8Array, fileSize = bytes.length): StackFile {
    const fileProblem = (reason: string, fix: string, line?: number, shown?: string): StackFile => ({
        kind: "spec",
        config: {},
        secretKeys: [],
        problems: [{ path: "", value: undefined, reason, fix, ...(line !== undefined ? { line } : {}), ...(shown !== undefined ? { shown } : {}) }],
        lineOf: () => undefined,
    });
    if (fileSize > maxFileBytes || bytes.length > maxFileBytes) {
        const size = Math.max(fileSize, bytes.length);
        return fileProblem(
            `the file is ${mebibytes(size)} (${size} bytes); the kit reads stack and spec files of up to ${mebibytes(maxFileBytes)}`,
            "split the pod, or remove what the pod does not use",
            undefined,
            `${size} bytes`,
        );
    }
    const badByte = firstInvalidUtf8(bytes);
    if (badByte >= 0) {
        const line = countLines(bytes, badByte);
        return fileProblem(
            `the file is not UTF-8: byte 0x${bytes[badByte].toString(16).padStart(2, "0")} at offset ${badByte} starts no UTF-8 character`,
            "save the file as UTF-8",
            line,
            `0x${bytes[badByte].toString(16).padStart(2, "0")}`,
        );
    }
    let text = new TextDecoder("utf-8").decode(bytes);
    // A byte order mark is not content; editors on some systems write one.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const lines = new LineIndex(text);
    const control = controlCharacters.exec(text);
    if (control) {
        const line = lines.lineAt(control.index);
        const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
        return fileProblem(
            `holds the control character U+${code}, which no setting of the kit takes`,
            "remove it (an editor shows it, e.g. as ^@ or <0x00>); write tabs and line ends only as white space",
            line,
            JSON.stringify(lines.lineText(line)),
        );
    }

    // js-yaml reports each node as it opens and closes; the tree gives every path its line.
    const stack: YamlNode[] = [{ start: 0, result: undefined, children: [] }];
    // A merge key copies the merged mapping's entries while js-yaml parses, so a chain of merges costs time and memory
    // that grow with the square of the file (a 250 KB chain took 7 s and 1.1 GB). Each mapping and list is counted as it
    // closes, with the entries merges gave it, and the parse stops once the file has built more than maxValues: the
    // count costs what js-yaml's own copying does, so it stops the growth at a bounded cost. (Plain aliases copy
    // nothing; their expansion is counted after the parse, against the same limit.)
    let built = 0;
    const listener = (event: string, state: { position: number; result: unknown }) => {
        if (event === "open") {
            if (stack.length > maxEventDepth) throw new TooDeep(state.position);
            stack.push({ start: state.position, result: undefined, children: [] });
        } else if (event === "close" && stack.length > 1) {
            const result = state.result;
            if (result !== null && typeof result === "object") {
                built += Array.isArray(result) ? result.length : Object.keys(result).length;
                if (built > maxValues) throw new TooMany(state.position);
            }
            const node = stack.pop()!;
            node.result = state.result;
            stack[stack.length - 1].children.push(node);
        }
    };
    let documents: unknown[];
    try {
        documents = loadAll(text, undefined, { listener } as Parameters<typeof loadAll>[2]);
    } catch (err) {
        if (err instanceof TooDeep) {
            return fileProblem(
                `nests lists or mappings deeper than ${maxDepth} levels`,
                "write the pod spec as docs/pod-spec.md shows; it needs 6 levels",
                lines.lineAt(err.position),
            );
        }
        if (err instanceof TooMany) {
            return fileProblem(
                `builds more than ${maxValues} values while it is read: YAML merge keys (<<: *name) copy mappings into mappings past what any pod needs`,
                "write the repeated settings out, or merge fewer times (each merge copies every entry of the mapping it names)",
                lines.lineAt(err.position),
                `more than ${maxValues} values`,
            );
        }
        if (err instanceof YAMLException) {
            const line = err.mark.line + 1;
            return fileProblem(
                `malformed YAML at column ${err.mark.column + 1}: ${err.reason}`,
                "correct the YAML syntax there (indentation, quotes, brackets)",
                line,
                JSON.stringify(lines.lineText(line).trim()),
            );
        }
        throw err;
    }
    if (documents.length !== 1) {
        const second = stack[0].children[1];
        return fileProblem(
            documents.length === 0 ? "the file holds no YAML document" : `the file holds ${documents.length} YAML documents; a stack file holds one`,
            documents.length === 0
                ? "write the stack's config: nfv-testpod:pod: ... (see docs/pod-spec.md)"
                : 'keep one document: remove the "---" lines and what follows, or split the file',
            second ? lines.lineOfNodeAt(second.start) : undefined,
            `${documents.length} documents`,
        );
    }

    const doc = documents[0];
    const root = stack[0].children[0];
    const pathLines = new Map<string, number>();
    const lineOf = (path: string) => lineOfPath(pathLines, path);
    const isStack = doc !== null && typeof doc === "object" && !Array.isArray(doc) && "config" in doc;
    if (!isStack) {
        if (root) recordLines(root, "", lines, pathLines);
        return { kind: "spec", config: { [`${configNamespace}:pod`]: doc }, secretKeys: [], problems: [], lineOf };
    }

    const rawConfig = (doc as Record<string, unknown>).config;
    const configNode = root ? findValue(root, "config") : undefined;
    const qualify = (key: string) => (key.includes(":") ? key : `${configNamespace}:${key}`);
    if (configNode) recordLines(configNode, "", lines, pathLines, qualify);
    if (rawConfig === null || rawConfig === undefined) return { kind: "stack", config: {}, secretKeys: [], problems: [], lineOf };
    if (typeof rawConfig !== "object" || Array.isArray(rawConfig)) {
        const line = configNode ? lines.lineOfNodeAt(configNode.start) : undefined;
        return fileProblem('"config" must be a mapping of stack settings', "write config: followed by indented key: value lines", line);
    }
    const config: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(rawConfig as Record<string, unknown>)) {
        config[qualify(key)] = value;
        // Pulumi stores a secret as { secure: <ciphertext> }; the engine hands the program the plain text.
        if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value) {
            secretKeys.push(qualify(key));
        }
    }
    return { kind: "stack", config, secretKeys, problems: [], lineOf };
}

/** The value node of `key` in a mapping node. */
function findValue(node: YamlNode, key: string): YamlNode | undefined {
    while (node.children.length === 1 && node.children[0].result === node.result) node = node.children[0];
    for (let i = 0; i + 1 < node.children.length; i += 2) if (node.children[i].result === key) return node.children[i + 1];
    return undefined;
}

function mebibytes(bytes: number): string {
    return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

function countLines(bytes: Uint8Array, end: number): number {
    let line = 1;
    for (let i = 0; i < end; i++) if (bytes[i] === 10) line++;
    return line;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 character, or -1. */
function firstInvalidUtf8(bytes: Uint8Array): number {
    for (let i = 0; i < bytes.length;) {
        const b = bytes[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        let need: number;
        let min: number;
        if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
        else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
        else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
        else return i;
        let cp = b & (0x3f >> need);
        for (let k = 1; k <= need; k++) {
            const c = bytes[i + k];
            if (c === undefined || (c & 0xc0) !== 0x80) return i;
            cp = (cp << 6) | (c & 0x3f);
        }
        // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
        if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
        i += need + 1;
    }
    return -1;
}
