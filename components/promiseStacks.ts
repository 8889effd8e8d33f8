/**
 * No stack traces for the Pulumi SDK's promise bookkeeping, unless a leak is
 * being debugged.
 *
 * The SDK gives every promise it makes for a resource (one per property it
 * hands back, one per await of an input, one per RPC) a stack trace, taken at
 * once with `new Error().stack`. It prints those traces only when
 * PULUMI_DEBUG_PROMISE_LEAKS is set and a promise leaks; without it a leak is
 * reported by count and a fixed text. Taking a trace walks the stack, and
 * reading `.stack` runs Error.prepareStackTrace, which the SDK's run script
 * sets to source-map-support's. A Domain has about twenty properties, so at
 * 512 guests this was more than half of the program's CPU
 * (`npm run bench -- sizes --hosts 64 --profile`: 31 % taking the traces,
 * 26 % source-mapping them; docs/bench.md).
 *
 * So, unless PULUMI_DEBUG_PROMISE_LEAKS is set, the SDK's debuggablePromise
 * runs with Error.stackTraceLimit at 0: it still tracks every promise and
 * still fails a program that leaks one, but the trace it keeps has no
 * frames. With the variable set, the SDK is left as it is and keeps its
 * full, source-mapped traces. Every other error keeps its trace either way.
 */
import * as path from "node:path";

/** The SDK's promise bookkeeping module; its package exports do not list it, so it is loaded by file. */
interface Bookkeeping {
    debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T>;
}

function sdkBookkeeping(): Bookkeeping | undefined {
    try {
        const sdkDir = path.dirname(require.resolve("@pulumi/pulumi"));
        const mod = require(path.join(sdkDir, "runtime", "debuggable.js")) as Partial<Bookkeeping>;
        return typeof mod.debuggablePromise === "function" ? (mod as Bookkeeping) : undefined;
    } catch {
        // An SDK without that module only loses the speed-up, not correctness.
        return undefined;
    }
}

/**
 * Makes the SDK's debuggablePromise take no stack trace, unless `env` asks
 * for leak debugging. The SDK calls it through its module's exports, so
 * replacing the export reaches every caller. Returns a function that puts the
 * SDK's own back.
 */
export function skipPromiseStacks(env: NodeJS.ProcessEnv = process.env): () => void {
    const bookkeeping = sdkBookkeeping();
    if (!bookkeeping || env.PULUMI_DEBUG_PROMISE_LEAKS) return () => {};
    const sdkOwn = bookkeeping.debuggablePromise;
    const withoutStack = <T>(p: Promise<T>, ctx: unknown): Promise<T> => {
        const limit = Error.stackTraceLimit;
        Error.stackTraceLimit = 0;
        try {
            return sdkOwn(p, ctx);
        } finally {
            Error.stackTraceLimit = limit;
        }
    };
    bookkeeping.debuggablePromise = withoutStack;
    return () => {
        if (bookkeeping.debuggablePromise === withoutStack) bookkeeping.debuggablePromise = sdkOwn;
    };
}
