/**
 * The program keeps no stack trace for the SDK's promise bookkeeping unless
 * PULUMI_DEBUG_PROMISE_LEAKS asks for them (components/promiseStacks.ts); the
 * SDK still tracks every promise, and every other error keeps its trace.
 */
import test from "ava";
import * as path from "node:path";
import { skipPromiseStacks } from "../../components/promiseStacks";

// The SDK's own module, from its file: the package's exports map does not list it.
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi"));
const bookkeeping = require(path.join(sdkDir, "runtime", "debuggable.js")) as {
    debuggablePromise: <T>(p: Promise<T>, ctx: string) => Promise<T>;
    leakedPromises: () => [Set<Promise<unknown>>, string];
};

const traceOf = (p: Promise<unknown>) => (p as unknown as { _debugStackTrace: string })._debugStackTrace;

test.serial("without PULUMI_DEBUG_PROMISE_LEAKS the SDK's promises carry no trace but are still tracked; other errors keep theirs", (t) => {
    const formatter = Error.prepareStackTrace;
    let framesFormatted = 0;
    // Stands in for source-map-support: it counts the frames it formatted.
    Error.prepareStackTrace = (error, frames) => {
        framesFormatted += frames.length;
        return `MAPPED ${String(error)} (${frames.length} frames)`;
    };
    const limit = Error.stackTraceLimit;
    const remove = skipPromiseStacks({});
    try {
        bookkeeping.leakedPromises(); // start from an empty list
        const pending = new Promise<number>(() => {});
        void bookkeeping.debuggablePromise(pending, "registerResource(test)");
        t.is(traceOf(pending), "MAPPED Error (0 frames)", "no frames taken");
        t.is(framesFormatted, 0, "none to map");
        t.is(Error.stackTraceLimit, limit, "the limit is back for everything else");
        const [leaked, message] = bookkeeping.leakedPromises();
        t.true(leaked.has(pending), "the SDK still knows the promise is pending");
        t.regex(message, /PULUMI_DEBUG_PROMISE_LEAKS/, "and its leak report says how to get the traces");

        const kitError = new Error("a kit error");
        t.regex(String(kitError.stack), /^MAPPED Error: a kit error \([1-9]\d* frames\)$/, "any other error is formatted as before");
    } finally {
        remove();
        Error.prepareStackTrace = formatter;
    }
});

test.serial("the limit is put back when the SDK's function throws", (t) => {
    const limit = Error.stackTraceLimit;
    const remove = skipPromiseStacks({});
    try {
        // defineProperty on null throws inside the SDK's function.
        t.throws(() => bookkeeping.debuggablePromise(null as unknown as Promise<void>, "bad"), { instanceOf: TypeError });
        t.is(Error.stackTraceLimit, limit);
    } finally {
        remove();
    }
});

test.serial("with PULUMI_DEBUG_PROMISE_LEAKS set the SDK keeps its full traces", (t) => {
    const sdkOwn = bookkeeping.debuggablePromise;
    const remove = skipPromiseStacks({ PULUMI_DEBUG_PROMISE_LEAKS: "1" });
    try {
        t.is(bookkeeping.debuggablePromise, sdkOwn, "left as the SDK has it");
        const p = Promise.resolve(1);
        void bookkeeping.debuggablePromise(p, "registerResource(test)");
        t.regex(traceOf(p), /^Error\n\s+at .*debuggablePromise/, "frames from the SDK call on");
        bookkeeping.leakedPromises();
    } finally {
        remove();
    }
});

test.serial("removing it puts the SDK's own function back", (t) => {
    const sdkOwn = bookkeeping.debuggablePromise;
    const remove = skipPromiseStacks({});
    t.not(bookkeeping.debuggablePromise, sdkOwn);
    remove();
    t.is(bookkeeping.debuggablePromise, sdkOwn);
});
