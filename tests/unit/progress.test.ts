/**
 * components/progress.ts: a step says it is still at work after each silence
 * of the interval, names what it does at that moment, stays quiet while it
 * speaks for itself, and stops when the work settles, also when it fails.
 * The interval is shortened here; the kit's own is under 10 s. The timed
 * tests run one at a time: a module loading beside them would hold the
 * event loop and their timers with it.
 */
import test from "ava";
import { PROGRESS_EVERY_MS, withProgress } from "../../components/progress";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the kit's interval leaves room under 10 s", (t) => {
    t.true(PROGRESS_EVERY_MS < 10_000);
});

test.serial("a silent step gets a line per interval, naming the step at that moment", async (t) => {
    const lines: string[] = [];
    await withProgress("pod-vnf-domain", "starting", { write: (l) => lines.push(l), everyMs: 300 }, async (p) => {
        await sleep(450);
        p.step("booting");
        await sleep(700);
    });
    t.deepEqual(
        lines.map((l) => l.replace(/\d+ s so far/, "N s so far")),
        ["pod-vnf-domain: still starting, N s so far", "pod-vnf-domain: still booting, N s so far", "pod-vnf-domain: still booting, N s so far"],
    );
});

test.serial("a step that speaks for itself gets no extra line; none comes after the work ends, even when it fails", async (t) => {
    const lines: string[] = [];
    const work = withProgress("probes", "the start", { write: (l) => lines.push(l), everyMs: 400 }, async (p) => {
        for (let i = 0; i < 5; i++) {
            p.say(`figure ${i}`);
            await sleep(50);
        }
        throw new Error("the guest went away");
    });
    await t.throwsAsync(work, { message: "the guest went away" });
    await sleep(600);
    t.deepEqual(lines, ["figure 0", "figure 1", "figure 2", "figure 3", "figure 4"]);
});

test.serial("the still line can be worded by the caller", async (t) => {
    const lines: string[] = [];
    const still = (last: string, seconds: number) => `still running, ${seconds} s since "${last}"`;
    await withProgress("probes", "the start", { write: (l) => lines.push(l), everyMs: 300, still }, async (p) => {
        p.step("vnf: cyclictest for 10 s on vCPU 1");
        await sleep(450);
    });
    t.deepEqual(
        lines.map((l) => l.replace(/\d+ s since/, "N s since")),
        ['still running, N s since "vnf: cyclictest for 10 s on vCPU 1"'],
    );
});

test("the provider plugin finds the engine's address among the arguments the engine starts it with", async (t) => {
    const { engineAddressOf } = await import("../../components/provider/engineLog");
    t.is(engineAddressOf(["127.0.0.1:40123"]), "127.0.0.1:40123");
    t.is(engineAddressOf(["--logtostderr", "-v=9", "--tracing", "file:/tmp/t.json", "127.0.0.1:40123"]), "127.0.0.1:40123");
    t.is(engineAddressOf([]), undefined, "started by hand: no engine, the lines go to stderr");
});

test.serial("a Progress inside another (the probe pipeline's inside the provider's): once the inner one has spoken, only it speaks", async (t) => {
    const lines: string[] = [];
    await withProgress("pod-probes", "creating", { write: (l) => lines.push(l), everyMs: 300 }, (outer) =>
        withProgress("probes", "latency", { write: (l) => outer.say(l), everyMs: 300 }, async (inner) => {
            inner.say("latency: cyclictest for 10 s");
            await sleep(1050);
        }),
    );
    t.deepEqual(
        lines.map((l) => l.replace(/\d+ s so far/, "N s so far")),
        ["latency: cyclictest for 10 s", "probes: still latency, N s so far", "probes: still latency, N s so far", "probes: still latency, N s so far"],
    );
});
