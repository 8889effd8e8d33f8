/**
 * How often a boot wait asks the host (components/libvirt/waitCadence.ts):
 * a fast boot is asked as often as before, a slow one far less often, and the
 * ready line is never seen much later than constant asking would see it.
 */
import test from "ava";
import { pauseBeforeNextAsk, pauseBeforeStateCheck } from "../../components/libvirt/waitCadence";

/** The times (ms into the wait) at which a wait with `floorMs` asks, up to `untilMs`; each ask itself taking `askMs`. */
function asks(untilMs: number, floorMs: number, askMs = 0): number[] {
    const at: number[] = [];
    for (let t = 0; t <= untilMs; t += askMs + pauseBeforeNextAsk(t + askMs, floorMs)) at.push(t);
    return at;
}

/** The first ask at or after `readyMs`: when the wait sees a line written then. */
const seenAt = (readyMs: number, floorMs: number) => asks(readyMs + 10_000, floorMs).find((t) => t >= readyMs)!;

test("a boot of a few seconds is asked every 250 ms, as before", (t) => {
    const first = asks(10_000, 250);
    t.is(first.length, 41);
    t.true(first.every((at, i) => i === 0 || at - first[i - 1] === 250));
});

test("the ready line is seen at most 2.5 % (or 250 ms) after it is written, and never more than 5 s after", (t) => {
    for (const readyS of [1, 8, 10, 60, 155, 181, 645, 1296]) {
        const ready = readyS * 1000;
        const seen = seenAt(ready, 250);
        t.true(seen - ready <= Math.min(5_000, Math.max(250, ready * 0.025)), `a line written at ${readyS} s is seen at ${seen / 1000} s`);
    }
});

test("the nested guest's 645 s boot in CI costs a quarter of the asks or fewer", (t) => {
    // The console was read every 250 ms after each read; over SSH to the lab VM a read itself took about 0.4 s.
    const before = Math.floor(645_000 / (250 + 400));
    const now = asks(645_000, 250, 400).length;
    t.true(now * 4 <= before, `${now} asks now against ${before} before`);
});

test("QEMU is checked every 2 s at first, and at least every 15 s", (t) => {
    t.is(pauseBeforeStateCheck(0), 2_000);
    t.is(pauseBeforeStateCheck(8_000), 2_000);
    t.is(pauseBeforeStateCheck(40_000), 10_000);
    t.is(pauseBeforeStateCheck(600_000), 15_000);
});

test("the guest agent's wait starts at its own 500 ms", (t) => {
    t.is(pauseBeforeNextAsk(0, 500), 500);
    t.is(pauseBeforeNextAsk(19_000, 500), 500);
    t.is(pauseBeforeNextAsk(60_000, 500), 1_500);
});
