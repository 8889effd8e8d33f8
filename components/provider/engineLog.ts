/**
 * Progress lines of the provider plugin, through the engine. The engine does
 * not show what a resource provider plugin writes on its stderr (it keeps it
 * for when the plugin dies), so a long step's lines go through the engine's
 * Log call instead, about the resource they concern and ephemeral: the
 * engine's display shows each on the resource's row while the step runs,
 * `pulumi up --json` streams it (what `npm run up` shows), and the summary
 * at the end does not repeat them.
 */
import { urnParts } from "../types/operations";
import type { ResourceLog } from "./provider";
import { writeToStderr } from "../progress";

/**
 * The engine's address from the plugin's arguments, as the engine starts a
 * provider: `<engine address>`, with `--logtostderr`, `-v=<n>` or
 * `--tracing <endpoint>` around it. Undefined when it is not there.
 */
export function engineAddressOf(args: readonly string[]): string | undefined {
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "--tracing") i++;
        else if (!args[i].startsWith("-")) return args[i];
    }
    return undefined;
}

/**
 * A ResourceLog through the engine at `engineAddress`, with the SDK's log API.
 * The SDK's main module is loaded with the first line, not at the plugin's
 * start: it brings the TypeScript compiler (for the SDK's closure
 * serialization), about 0.4 CPU s that a plugin which says nothing (a quick
 * destroy, a preview) never needs.
 */
export function engineResourceLog(engineAddress: string): ResourceLog {
    let sdk: Promise<typeof import("@pulumi/pulumi")> | undefined;
    let pending: Promise<void> = Promise.resolve();
    const log: ResourceLog = (urn, line) => {
        sdk ??= import("@pulumi/pulumi").then((pulumi) => {
            // What the SDK's provider server does before a construct or a call: its log API then reaches this engine.
            const { project, stack } = urnParts(urn);
            pulumi.runtime.resetOptions(project, stack, -1, engineAddress, "", false, "");
            return pulumi;
        });
        const delivered = sdk.then(
            // The SDK's stand-in for a resource known by its URN: it registers nothing.
            (pulumi) => pulumi.log.info(line, new pulumi.DependencyResource(urn), undefined, true),
            (err: unknown) => writeToStderr(`${urnParts(urn).name}: ${line} (the SDK did not load: ${(err as Error).message ?? String(err)})`),
        );
        pending = Promise.all([pending, delivered.catch(() => undefined)]).then(() => undefined);
    };
    // Lines go out in the order given (reactions to one promise run in the order they were added, and the
    // SDK sends its log calls one after another). A line the engine refused changes no operation's outcome.
    log.sent = () => pending;
    return log;
}
