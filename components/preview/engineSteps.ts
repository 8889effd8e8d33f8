/**
 * What `pulumi preview --json` says it would do, as plain data: one step per
 * resource with its operation, type, name, parent and the inputs before and
 * after. The engine's own `diffReasons` are not used: it leaves them empty for
 * updates of provider resources, so changes are read from the inputs, which
 * the kit's resources carry in guest words (`facts`, `pinning`). Pure.
 */
import { ProblemListError } from "../spec/problems";

/** The engine's operations; `same` is a resource left as it is. */
export type StepOp = "same" | "create" | "update" | "replace" | "delete" | "create-replacement" | "delete-replaced" | "read" | "refresh" | "import";

export interface EngineStep {
    op: StepOp;
    urn: string;
    /** Type token, e.g. `nfvkit:libvirt:Domain`. */
    type: string;
    /** The resource's name, e.g. `pod-vnf-domain`. */
    name: string;
    /** The parent's URN, when it has one. */
    parent?: string;
    /** Inputs in the state before the change (none for a create). */
    oldInputs?: Record<string, unknown>;
    /** Inputs the program gives now (none for a delete). */
    newInputs?: Record<string, unknown>;
    /** Top-level inputs the provider said force a replacement. */
    replaceReasons: string[];
}

export interface EnginePreview {
    steps: EngineStep[];
    /** Error diagnostics, in order, without terminal colours. */
    errors: string[];
    /** Steps per operation, as the engine counts them. */
    counts: Record<string, number>;
}

interface RawState {
    urn?: string;
    type?: string;
    parent?: string;
    inputs?: Record<string, unknown>;
}

interface RawStep {
    op?: string;
    urn?: string;
    oldState?: RawState;
    newState?: RawState;
    replaceReasons?: string[];
}

/** The engine's output as bad input to this pure reader (its text is shown by the caller, not again here). */
function unreadable(reason: string): ProblemListError {
    return new ProblemListError(
        [
            {
                path: "",
                value: undefined,
                shown: "the engine's output",
                reason,
                fix: "read the engine's own words: its preview failed before it printed its JSON",
            },
        ],
        "pulumi preview --json",
    );
}

/** Reads the JSON document `pulumi preview --json` prints. Throws a ProblemListError when the text is not one. */
export function readEnginePreview(json: string): EnginePreview {
    let doc: { steps?: RawStep[]; diagnostics?: { message?: string; severity?: string }[]; changeSummary?: Record<string, number> };
    try {
        doc = JSON.parse(json);
    } catch (err) {
        throw unreadable(`printed no JSON document (${(err as Error).message})`);
    }
    if (doc === null || typeof doc !== "object") throw unreadable("printed no JSON document");
    const steps = (doc.steps ?? []).filter((s) => typeof s.urn === "string" && typeof s.op === "string").map(toStep);
    const errors = (doc.diagnostics ?? [])
        .filter((d) => d.severity === "error" && typeof d.message === "string")
        .map((d) => withoutColours(d.message!).trim())
        .filter((m) => m !== "");
    return { steps, errors, counts: doc.changeSummary ?? {} };
}

function toStep(raw: RawStep): EngineStep {
    const urn = raw.urn!;
    const state = raw.newState ?? raw.oldState ?? {};
    return {
        op: raw.op as StepOp,
        urn,
        type: state.type ?? typeOfUrn(urn),
        name: nameOfUrn(urn),
        ...(state.parent ? { parent: state.parent } : {}),
        ...(raw.oldState?.inputs ? { oldInputs: raw.oldState.inputs } : {}),
        ...(raw.newState?.inputs ? { newInputs: raw.newState.inputs } : {}),
        replaceReasons: raw.replaceReasons ?? [],
    };
}

/** `urn:pulumi:<stack>::<project>::<parent types>$<type>::<name>` → `<name>`. */
export function nameOfUrn(urn: string): string {
    const parts = urn.split("::");
    return parts.slice(3).join("::");
}

/** The resource's own type token, the last of the URN's type chain. */
export function typeOfUrn(urn: string): string {
    const chain = urn.split("::")[2] ?? "";
    return chain.split("$").pop() ?? chain;
}

function withoutColours(text: string): string {
    // The engine colours some diagnostics even in JSON mode; a comment shows the words only.
    return text.replace(/\u001b\[[0-9;]*m/g, "").replace(/<\{%[^%]*%\}>/g, "");
}
