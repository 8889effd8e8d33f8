/**
 * The program formats the SDK's promise-bookkeeping stack traces plainly
 * (components/promiseStacks.ts), and every other error still goes through the
 * formatter installed before it (source-map-support in a real run).
 */
import test from "ava";
import * as path from "node:path";
import { plainPromiseStacks } from "../../components/promiseStacks";

// The SDK's own debuggablePromise, from its file: the package's exports map does not list it.
const sdkDir = path.dirname(require.resolve("@pulumi/pulumi"));
const { debuggablePromise } = require(path.join(sdkDir, "runtime", "debuggable.js")) as {
    debuggablePromise: <T>(p: Promise<T>, ctx: string) => Promise<T>;
};

test.serial("the SDK's promise stack traces skip the source-mapping formatter; other errors keep it", (t) => {
    const original = Error.prepareStackTrace;
    let mappedCalls = 0;
    // Stands in for source-map-support: it marks what it formatted.
    Error.prepareStackTrace = (error, frames) => {
        mappedCalls++;
        return `MAPPED ${String(error)} (${frames.length} frames)`;
    };
    const remove = plainPromiseStacks();
    try {
        const bookkept = Promise.resolve(1);
        void debuggablePromise(bookkept, "registerResource(test)");
        const trace = (bookkept as unknown as { _debugStackTrace: string })._debugStackTrace;
        t.regex(trace, /^Error\n    at debuggablePromise \(.*runtime[/\\]debuggable\.js:\d+:\d+\)/, "plain V8 frames, starting at the SDK call");
        t.true(trace.split("\n").length <= 5, `at most four frames: ${trace}`);
        t.is(mappedCalls, 0, "the source-mapping formatter was not run for it");

        const kitError = new Error("a kit error");
        t.regex(String(kitError.stack), /^MAPPED Error: a kit error \(\d+ frames\)$/, "any other error is formatted as before");
        t.is(mappedCalls, 1);
    } finally {
        remove();
        t.not(Error.prepareStackTrace, undefined);
        Error.prepareStackTrace = original;
    }
});

test.serial("removing it puts the earlier formatter back", (t) => {
    const original = Error.prepareStackTrace;
    const earlier = () => "EARLIER";
    Error.prepareStackTrace = earlier;
    const remove = plainPromiseStacks();
    t.not(Error.prepareStackTrace, earlier);
    remove();
    t.is(Error.prepareStackTrace, earlier);
    Error.prepareStackTrace = original;
});
