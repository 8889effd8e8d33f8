/**
 * Cheap stack traces for the Pulumi SDK's promise bookkeeping.
 *
 * The SDK gives every promise it makes for a resource (one per property it
 * hands back, one per await of an input, one per RPC) a stack trace, read at
 * once with `new Error().stack`, to print only if the promise leaks. Reading
 * `.stack` runs Error.prepareStackTrace, which the SDK's run script sets to
 * source-map-support's: it maps every frame through the kit's source maps. A
 * Domain has about twenty properties, so at 512 guests this was more than
 * half of the program's CPU (`npm run bench -- sizes --hosts 64 --profile`:
 * 31 % promise stack traces, 26 % source-map lookups in them; docs/bench.md).
 *
 * So the traces taken inside the SDK's `debuggablePromise` are written as V8
 * writes them, without source maps and only the first four frames; a leak
 * report still names the SDK call, file and line of the compiled code. Every other error,
 * the kit's and the SDK's, keeps its source-mapped trace.
 */

/** The SDK function whose stack traces are only for leak reports. */
const PROMISE_BOOKKEEPING = "debuggablePromise";

/** Installs the plain formatting for promise bookkeeping in front of the current Error.prepareStackTrace. Returns a function that removes it. */
export function plainPromiseStacks(): () => void {
    const previous = Error.prepareStackTrace;
    const format = (error: Error, frames: NodeJS.CallSite[]): unknown => {
        // The first frames say which SDK call made the promise; writing out
        // each frame costs, and there are tens of thousands of these.
        if (frames[0]?.getFunctionName() === PROMISE_BOOKKEEPING) return asV8Writes(error, frames.slice(0, 4));
        return previous ? previous(error, frames) : asV8Writes(error, frames);
    };
    Error.prepareStackTrace = format;
    return () => {
        if (Error.prepareStackTrace === format) Error.prepareStackTrace = previous;
    };
}

/** A trace as V8 writes one when nothing else formats it. */
function asV8Writes(error: Error, frames: NodeJS.CallSite[]): string {
    return `${String(error)}${frames.map((f) => `\n    at ${f}`).join("")}`;
}
