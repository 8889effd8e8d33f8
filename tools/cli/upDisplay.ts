/**
 * What `npm run up` shows while the engine works. `pulumi up --json` streams
 * one engine event per line; this turns them into the few lines a person
 * follows: each resource the update touched, once, when it is done, with how
 * long it took; every message the program and the providers said as it
 * comes (long steps say they are still at work, components/progress.ts);
 * errors and warnings in full; and the totals. What it leaves out is kept
 * elsewhere: each resource's inputs and outputs in the state (`pulumi stack
 * export`), the stack outputs (`pulumi stack output --json`), the probes'
 * figures in the reports. `pulumi up` run directly shows the engine's own
 * display, unchanged. Pure: lines in, lines out.
 */

/** The parts of an engine event (Pulumi's apitype.EngineEvent) this display reads. */
interface StepMetadata {
    op?: string;
    urn?: string;
    type?: string;
    old?: { custom?: boolean } | null;
    new?: { custom?: boolean } | null;
}

interface EngineEvent {
    diagnosticEvent?: { urn?: string; prefix?: string; message?: string; severity?: string };
    stdoutEvent?: { message?: string };
    resourcePreEvent?: { metadata?: StepMetadata; planning?: boolean };
    resOutputsEvent?: { metadata?: StepMetadata; planning?: boolean };
    resOpFailedEvent?: { metadata?: StepMetadata };
    summaryEvent?: { durationSeconds?: number; resourceChanges?: Record<string, number>; result?: string };
}

/** How each operation reads once done; `replace` is the engine's logical step between the two halves of a replacement, and `same` changed nothing. */
const DONE: Record<string, string> = {
    create: "+ {} created",
    update: "~ {} updated",
    delete: "- {} deleted",
    "create-replacement": "+ {} created (replacing the old one)",
    "delete-replaced": "- {} deleted (being replaced)",
    read: "> {} read",
    refresh: "~ {} refreshed",
    import: "= {} imported",
    discard: "- {} discarded",
};

/** The totals' words, in the engine's order of importance. */
const TOTALS: [string, string][] = [
    ["create", "created"],
    ["update", "updated"],
    ["replace", "replaced"],
    ["delete", "deleted"],
    ["same", "unchanged"],
];

export class UpDisplay {
    private readonly started = new Map<string, number>();

    /** @param now the clock durations are taken from */
    constructor(private readonly now: () => number = Date.now) {}

    /** One line of the engine's stdout; returns the lines to print (often none). */
    line(text: string): string[] {
        if (text.trim() === "") return [];
        let event: EngineEvent;
        try {
            event = JSON.parse(text);
        } catch {
            // Not an event: whatever the engine printed is shown as it is.
            return [text];
        }
        if (event === null || typeof event !== "object") return [text];
        if (event.diagnosticEvent) return this.diagnostic(event.diagnosticEvent);
        if (event.stdoutEvent?.message) return indent(plain(event.stdoutEvent.message));
        if (event.resourcePreEvent && !event.resourcePreEvent.planning) {
            const m = event.resourcePreEvent.metadata ?? {};
            if (shown(m)) this.started.set(`${m.op} ${m.urn}`, this.now());
            return [];
        }
        if (event.resOutputsEvent && !event.resOutputsEvent.planning) return this.done(event.resOutputsEvent.metadata ?? {});
        if (event.resOpFailedEvent) {
            const m = event.resOpFailedEvent.metadata ?? {};
            return [`  ✗ ${shortType(m)} ${nameOf(m.urn)}: ${m.op} failed${this.took(m)}`];
        }
        if (event.summaryEvent) return [totals(event.summaryEvent)];
        return [];
    }

    /** What the engine is at now, for a line that says it is still at work: the steps under way, or the program. */
    doing(): string {
        const steps = [...this.started.keys()].map((key) => {
            const [op, urn] = key.split(" ");
            return `${op} ${nameOf(urn)}`;
        });
        return steps.length > 0 ? `at ${steps.join(", ")}` : "running the program";
    }

    /** Resources the kit works on (not components, providers or the stack), once done, with the time their step took. */
    private done(m: StepMetadata): string[] {
        if (!shown(m)) return [];
        return [`  ${DONE[m.op!].replace("{}", `${shortType(m)} ${nameOf(m.urn)}`)}${this.took(m)}`];
    }

    private took(m: StepMetadata): string {
        const started = this.started.get(`${m.op} ${m.urn}`);
        this.started.delete(`${m.op} ${m.urn}`);
        return started === undefined ? "" : ` (${((this.now() - started) / 1000).toFixed(1)} s)`;
    }

    /** Messages as they come: the program's and the providers' (progress included), warnings and errors with their word, all in full. */
    private diagnostic(d: NonNullable<EngineEvent["diagnosticEvent"]>): string[] {
        if (d.severity === "debug" || !d.message || isKitLanguageHostWarning(d.message)) return [];
        const message = plain(d.message).trimEnd();
        if (message.trim() === "") return [];
        const prefix = plain(d.prefix ?? "");
        // A message about a resource names it; the stack's and the providers' (which the engine gives no resource) speak for themselves.
        const owner = d.urn && !/::pulumi:pulumi:Stack::/.test(d.urn) ? `${nameOf(d.urn)}: ` : "";
        return indent(`${prefix}${owner}${message}`);
    }
}

/** A step on a resource the kit works on (not a component, a provider or the stack) that changes something. */
function shown(m: StepMetadata): boolean {
    const custom = m.new?.custom ?? m.old?.custom ?? false;
    return custom && DONE[m.op ?? ""] !== undefined && !(m.type ?? "").startsWith("pulumi:providers:");
}

function totals(s: NonNullable<EngineEvent["summaryEvent"]>): string {
    const changes = s.resourceChanges ?? {};
    const parts = TOTALS.filter(([op]) => (changes[op] ?? 0) > 0).map(([op, word]) => `${changes[op]} ${word}`);
    const outcome = s.result === "failed" ? "failed after" : "took";
    return `Resources: ${parts.join(", ") || "none"}; pulumi up ${outcome} ${s.durationSeconds ?? 0} s`;
}

/**
 * The engine warns on every run that it uses the Node.js language host found
 * on PATH: that is the kit's own, put first on PATH on purpose (tools/bootstrap.sh,
 * docs/design.md "The engine on these machines"), so the warning says nothing to act on.
 */
export function isKitLanguageHostWarning(line: string): boolean {
    return /using pulumi-language-nodejs from \$PATH at \S*\/\.state\/bin\/pulumi-language-nodejs/.test(line);
}

function indent(text: string): string[] {
    return text.split("\n").map((l) => `  ${l.trimEnd()}`);
}

/** The engine's messages can carry colour directives and escape sequences even with --color never. */
function plain(text: string): string {
    return text.replace(/\u001b\[[0-9;]*m/g, "").replace(/<\{%[^%]*%\}>/g, "");
}

/** `nfvkit:libvirt:Domain` → `Domain`. */
function shortType(m: StepMetadata): string {
    return (m.type ?? "").split(":").pop() ?? "";
}

/** The resource's name: the last part of its URN. */
function nameOf(urn: string | undefined): string {
    return (urn ?? "").split("::").pop() ?? "";
}
