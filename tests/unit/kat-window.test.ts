/**
 * The known-answer tests' own timing rule: a hog burst counts only when it
 * lies inside the tool's measuring window (tests/helpers/disturb.ts). The
 * rule is what tells "the probe missed a burst" from "the test put the burst
 * where nothing measured", so it is checked here without a guest.
 */
import test from "ava";
import { burstOutsideWindow, watcherScript, type HogTiming } from "../helpers/disturb";

// A 6 s run seen measuring at uptime 100 s, ended at 106.2 s; a 300 ms burst 1 s in.
const inside: HogTiming = { measuringAtS: 100, endedAtS: 106.2, durationSec: 6, burstStartS: 101, burstMs: 300 };

test("a burst 1 s into the window, ending well before it closes, is inside", (t) => {
    t.is(burstOutsideWindow(inside), null);
});

test("a burst before the tool measured (oslat's 1 s pre-heat) is named as the test's fault", (t) => {
    // The failure seen before the fix: the hog fired 1 s after oslat's process appeared, inside its pre-heat.
    t.is(
        burstOutsideWindow({ ...inside, burstStartS: 99.8 }),
        "the hog started before the tool measured: burst 99.80–100.10 s, window 100.00–106.00 s (guest uptime)",
    );
});

test("a burst that ends within the margin of the window's end is refused; the earlier of duration and exit closes it", (t) => {
    t.is(
        burstOutsideWindow({ ...inside, burstStartS: 104.9 }),
        "the hog ended less than 1 s before the tool's window closed: burst 104.90–105.20 s, window 100.00–106.00 s (guest uptime)",
    );
    // The tool exited early (its window closed at 103 s): the burst at 102–102.3 s is too close to that end.
    t.regex(burstOutsideWindow({ ...inside, endedAtS: 103, burstStartS: 102 }) ?? "", /window 100\.00–103\.00 s/);
});

test("the oslat watcher waits for the measuring threads, not for the process", (t) => {
    const script = watcherScript("oslat", 1, "nfvkit-hog 1 98 300 1 1000 0");
    // Pre-heat threads first, then all of them gone and a new one present.
    t.regex(script, /until first=\$\(threads\)/);
    t.regex(script, /for t in \$first; do \[ -d \/proc\/\$p\/task\/\$t \] && old=1; done/);
    t.true(script.indexOf('cut -d" " -f1 /proc/uptime > /tmp/nfvkit-kat-measuring-at') < script.indexOf("nfvkit-hog"));
    // Its output goes nowhere, so the guest agent returns when the tool's script does.
    t.true(script.endsWith(") > /dev/null 2>&1 &"));
    // rtla's tools are measuring once their kernel thread exists.
    t.regex(watcherScript("osnoise", 1, null), /grep -qx osnoise\/1 \/proc\/\[0-9\]\*\/comm/);
});
