/**
 * The nfvkit provider: the engine's resource calls routed by type token to
 * the module that does the work. It runs as a real provider plugin
 * (tools/provider/pulumi-resource-nfvkit), so a stack's state holds only
 * resource properties: no serialized code and no paths into a checkout, and
 * any checkout of the project can preview, refresh, update and destroy it.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { newestAccess, sameAccess, sameValue } from "../host/access/currentAccess";
import { accessOf } from "../host/access/inputs";
import type { HostTarget } from "../host/access/target";
import { withProgress, writeToStderr } from "../progress";
import { timed } from "../timing";
import { tokens } from "../tokens";
import { urnParts, type OperationContext, type ResourceOperations } from "../types/operations";
import type { Owner } from "../types/ownership";

/** Reported to the engine; the kit's package version. */
export const providerVersion = "0.1.0";

/**
 * Each type's module is loaded on its first call: the plugin starts on every
 * `up`, `preview` and `destroy`, and most stacks use a few of the types (the
 * probe suite's parsers and report writers are the largest part of the kit).
 */
const operationsByType: Record<string, () => Promise<ResourceOperations>> = {
    [tokens.domain]: () => import("../libvirt/domainOperations"),
    [tokens.shmRegion]: () => import("../libvirt/shmOperations"),
    [tokens.hugepageReservation]: () => import("../host/hugepageOperations"),
    [tokens.guestImage]: () => import("../host/guestImageOperations"),
    [tokens.sriovPf]: () => import("../host/sriovOperations"),
    [tokens.rtHost]: () => import("../host/rtHostOperations"),
    [tokens.probeSuite]: () => import("../probes/suiteOperations"),
    [tokens.stackLineage]: () => import("../pod/stackLineageOperations"),
};

/** The type tokens the provider serves, in the order of its table. */
export function servedTypes(): string[] {
    return Object.keys(operationsByType);
}

async function operationsFor(urn: string): Promise<ResourceOperations> {
    return operationsOf(urnParts(urn).type);
}

/** The operations of one type token, as the provider loads them. */
export async function operationsOf(type: string): Promise<ResourceOperations> {
    const load = operationsByType[type];
    if (!load) {
        // The engine only asks for the types the kit registered: another one is a bug of the kit (plain Error).
        throw new Error(`the nfvkit provider has no resource type ${type}; it serves ${Object.keys(operationsByType).join(", ")}`);
    }
    return load();
}

/** "Domain", "HugepageReservation", ...: the type as the bench's breakdown names it. */
function shortType(urn: string): string {
    return urnParts(urn).type.split(":").pop() ?? "";
}

/** The words of each operation in its "still" lines. */
const DOING = { create: "creating", read: "reading", update: "updating", delete: "deleting" } as const;

/**
 * Where a resource's progress lines go: the line, and the URN of the resource it is about. `sent`, when there,
 * resolves once every line given so far is with the engine: an operation ends only then, so a line such as
 * "left alone" is never lost with a plugin the engine stops right after the last operation.
 */
export type ResourceLog = ((urn: string, line: string) => void) & { sent?: () => Promise<void> };

/** Without the engine (a test that calls the provider in-process): stderr, each line named by its resource. */
export const stderrResourceLog: ResourceLog = (urn, line) => writeToStderr(`${urnParts(urn).name}: ${line}`);

/**
 * Runs one operation of the resource `urn` with its Progress: until it ends, a
 * silence of PROGRESS_EVERY_MS gets a line on `log` saying it is still at
 * work and at what (`still booting (...), 16 s so far`). The line is about
 * the resource: the engine shows it on the resource's row.
 */
function withResourceProgress<T>(
    urn: string,
    op: keyof typeof DOING,
    log: ResourceLog,
    owner: Omit<Owner, "urn">,
    work: (ctx: OperationContext) => Promise<T>,
): Promise<T> {
    const still = (step: string, seconds: number) => `still ${step}, ${seconds} s so far`;
    const done = withProgress(urnParts(urn).name, DOING[op], { write: (line) => log(urn, line), still }, (progress) => work({ urn, ...owner, progress }));
    if (!log.sent) return done;
    const sent = log.sent;
    return done.finally(() => sent());
}

/**
 * The stack's lineage as a resource's inputs or state hold it (its `lineage`
 * input, from the stack's StackLineage). Absent for a resource type without
 * one, and for a resource of a stack made before lineages.
 */
function lineageIn(values: unknown): { lineage?: string } {
    const lineage = (values as { lineage?: unknown } | undefined)?.lineage;
    return typeof lineage === "string" && lineage !== "" ? { lineage } : {};
}

/**
 * The provider, its progress lines on `log`.
 * @param log @default stderr: server.ts gives the engine's Log call, so that the lines reach the display
 */
export function makeNfvkitProvider(log: ResourceLog = stderrResourceLog): provider.Provider {
    return {
        version: providerVersion,
        // The one function: the program calls it as it starts (index.ts), so that the engine starts this plugin
        // while the program still reads its hosts.
        async invoke(token) {
            if (token !== tokens.providerVersion) throw new Error(`the nfvkit provider has no function ${token}; it serves ${tokens.providerVersion}`);
            return { outputs: { version: providerVersion } };
        },
        async check(urn, olds, news) {
            const ops = await operationsFor(urn);
            return ops.check ? ops.check(olds, news, { urn }) : { inputs: news };
        },
        // A change of one input alone is either a replacement (the kind's diff names it in `replaces`) or an update that
        // the update below can carry out; never a change that no operation handles. Which one follows from what the
        // input means on the host:
        //   - it names or shapes what exists there (a URI, a domain name, a page size, the image's bytes): a replacement,
        //     which makes the new thing and removes the old;
        //   - it can be changed on what exists (pins, a page count, VF settings): the kind's own `update`;
        //   - it makes nothing on the host (`access`, and the kind's `storedOnly` inputs: a name for messages, a setting
        //     of the next change): an update that stores the new value (storeInputs), with nothing else done; a new
        //     key, pin, user, port or address is checked by a login first. The guest, its pages and files stay.
        // tests/unit/provider-inputChanges.test.ts walks every input of every kind in operationsByType against this rule.
        async diff(id, urn, olds, news) {
            const ops = await operationsFor(urn);
            const own = await ops.diff(id, olds, news, { urn });
            return own.changes || !storedChanged(ops, olds, news) ? own : { ...own, changes: true };
        },
        create: (urn, inputs) =>
            timed(`${shortType(urn)} create`, urnParts(urn).name, () =>
                withResourceProgress(urn, "create", log, lineageIn(inputs), async (ctx) => (await operationsFor(urn)).create(inputs, ctx)),
            ),
        read: (id, urn, props) =>
            withResourceProgress(urn, "read", log, lineageIn(props), async (ctx) => {
                const ops = await operationsFor(urn);
                const access = newestAccess(props?.access, urnParts(urn).stack);
                if (access === props?.access) return ops.read(id, props, ctx);
                // Read with the newest access, and record the stored one: the access is an input, which only `up` changes
                // (the next up's diff then shows the new access as an update).
                return withStoredAccess(await ops.read(id, { ...props, access }, ctx), props.access);
            }),
        update: (id, urn, olds, news) =>
            withResourceProgress(urn, "update", log, { ...lineageIn(news), formerLineage: lineageIn(olds).lineage ?? "" }, async (ctx) => {
                const ops = await operationsFor(urn);
                const how = await updateRoute(ops, id, urn, olds, news);
                // Only inputs that make nothing on the host changed: stored, after proving a new access works.
                if (how === "store") return storeInputs(ops, olds, news, ctx);
                // A kit bug (the rule at diff, above, is broken for this kind): refused before anything is touched.
                if (how === "none" || !ops.update)
                    throw new Error(`${urnParts(urn).type} cannot be updated in place; its diff should have asked for a replacement`);
                return ops.update(id, olds, news, ctx);
            }),
        delete: (id, urn, props) =>
            timed(`${shortType(urn)} delete`, urnParts(urn).name, () =>
                withResourceProgress(urn, "delete", log, lineageIn(props), async (ctx) =>
                    (await operationsFor(urn)).delete(id, { ...props, access: newestAccess(props?.access, urnParts(urn).stack) }, ctx),
                ),
            ),
    };
}

/** The inputs the provider itself stores on an update, for every kind: the access, and the kind's own `storedOnly` ones. */
function storedKeys(ops: ResourceOperations): string[] {
    return ["access", ...(ops.storedOnly ?? [])];
}

/** Whether any input that makes nothing on the host changed (the access compared by its secrets' values). */
function storedChanged(ops: ResourceOperations, olds: any, news: any): boolean {
    return storedKeys(ops).some((k) => (k === "access" ? !sameAccess(olds?.access, news?.access) : !sameValue(olds?.[k], news?.[k])));
}

/** `values` with the stored-only inputs (storedKeys) as `news` has them; an input news leaves out is taken out. */
function withStoredFrom(ops: ResourceOperations, values: any, news: any): any {
    const out = { ...values };
    for (const k of storedKeys(ops)) {
        if (news?.[k] === undefined) delete out[k];
        else out[k] = news[k];
    }
    return out;
}

/**
 * How an update of `olds` to `news` is carried out: "store" when only inputs
 * that make nothing on the host changed, "kind" by the kind's own update,
 * "none" when the kind has none (its diff should have asked for a replacement).
 */
export async function updateRoute(ops: ResourceOperations, id: string, urn: string, olds: any, news: any): Promise<"store" | "kind" | "none"> {
    if (!(await ops.diff(id, withStoredFrom(ops, olds, news), news, { urn })).changes) return "store";
    return ops.update ? "kind" : "none";
}

/**
 * The update of a resource whose stored-only inputs alone changed (storedKeys):
 * a new access is proved first by a login (a wrong key or pin fails here,
 * before the state says it works); then the new values are stored. Nothing
 * else on the host is touched. The access is stored as it came, so the
 * private key stays in the engine's secret envelope.
 */
async function storeInputs(ops: ResourceOperations, olds: any, news: any, ctx: { progress?: { step(s: string): void } }): Promise<provider.UpdateResult> {
    if (!sameAccess(olds?.access, news?.access)) {
        ctx.progress?.step("checking the host's new access (ssh login)");
        await accessOf(news?.access, news?.uri ?? olds?.uri).run(["true"]);
    }
    return { outs: withStoredFrom(ops, olds, news) };
}

/** A read's result with `access` put back to the stored one, in the outputs and the inputs it returns. */
function withStoredAccess(result: provider.ReadResult, stored: HostTarget | undefined): provider.ReadResult {
    const put = (v: any) => (v && typeof v === "object" && "access" in v ? { ...v, access: stored } : v);
    return { ...result, props: put(result.props), ...(result.inputs !== undefined ? { inputs: put(result.inputs) } : {}) };
}
