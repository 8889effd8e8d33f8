/** Command lines and targets: what runs in the guest and what it is held to. */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realTest } from "../helpers/realParts";
import { formatProblem, ProblemListError } from "../../components/spec/problems";
import {
    DEFAULT_TARGETS,
    cyclictestCommand,
    oslatCommand,
    osnoiseCommand,
    parseCyclictestRun,
    parseOslatJson,
    parseToolVersion,
    resolveTargets,
    timerlatCommand,
    versionCommand,
} from "../../components/probes";

const cfg = { cpus: "1-2", durationSec: 10, priority: 95, intervalUs: 1000 };

test("cyclictest argv: FIFO priority, mlockall, affinity with one thread per CPU, histogram and JSON, never -n", (t) => {
    const argv = cyclictestCommand(cfg, { jsonFile: "/run/probe/ct.json" });
    t.deepEqual(argv, [
        "cyclictest",
        "-m",
        "-p",
        "95",
        "--policy=fifo",
        "-a",
        "1-2",
        "-t",
        "2",
        "-i",
        "1000",
        "-D",
        "10",
        "-q",
        "-h",
        "1000000",
        "--json=/run/probe/ct.json",
    ]);
    t.false(argv.includes("-n"));
    t.deepEqual(cyclictestCommand({ ...cfg, cpus: "1,3-4", housekeepingCpu: 0 }, { jsonFile: "f", histogramUs: 200 }).slice(5, 9), ["-a", "1,3-4", "-t", "3"]);
    t.true(cyclictestCommand({ ...cfg, housekeepingCpu: 0 }, { jsonFile: "f" }).includes("--mainaffinity=0"));
});

test("oslat and rtla argv", (t) => {
    t.deepEqual(oslatCommand(cfg, { jsonFile: "/run/o.json" }), ["oslat", "-c", "1-2", "-D", "10", "-f", "95", "-q", "--json=/run/o.json"]);
    t.deepEqual(timerlatCommand(cfg), [
        "rtla",
        "timerlat",
        "hist",
        "-c",
        "1-2",
        "-d",
        "10",
        "-p",
        "1000",
        "-P",
        "f:95",
        "--dma-latency",
        "0",
        "-b",
        "10",
        "-E",
        "100000",
    ]);
    t.deepEqual(osnoiseCommand(cfg), ["rtla", "osnoise", "top", "-q", "-c", "1-2", "-p", "1000", "-r", "1000", "-d", "10"]);
    t.deepEqual(osnoiseCommand(cfg, { runtimeUs: 900, fifoPriority: 1 }), [
        "rtla",
        "osnoise",
        "top",
        "-q",
        "-c",
        "1-2",
        "-p",
        "1000",
        "-r",
        "900",
        "-d",
        "10",
        "-P",
        "f:1",
    ]);
});

test("bad probe config names the field, the value and the fix", (t) => {
    t.throws(() => cyclictestCommand({ ...cfg, cpus: "2-1" }, { jsonFile: "f" }), {
        instanceOf: ProblemListError,
        message: 'probe config has 1 problem:\ncpus: is not a CPU list (got "2-1"). Fix: write a CPU list such as "1", "1-3" or "1,3-4"',
    });
    t.throws(() => timerlatCommand({ ...cfg, priority: 100 }), {
        message: /priority: is not a SCHED_FIFO priority \(got 100\)\. Fix: give a SCHED_FIFO priority from 1 to 99/,
    });
    t.throws(() => oslatCommand({ ...cfg, housekeepingCpu: 2 }), {
        message: /housekeepingCpu: is one of the measured CPUs, or not a CPU number \(got 2\)\. Fix: pick a CPU outside the measured ones \(1-2\)/,
    });
    t.throws(() => osnoiseCommand(cfg, { runtimeUs: 2000 }), {
        message: /runtimeUs: is outside 100 µs to the window .*\(got 2000\)\. Fix: give 100 to 1000 µs/,
    });
});

test("version commands and their output as the installed tools print it", (t) => {
    t.deepEqual(versionCommand("timerlat"), ["rtla", "--help"]);
    t.is(parseToolVersion("cyclictest", "cyclictest V 2.40\nUsage:\n"), "2.40");
    t.is(parseToolVersion("osnoise", "\nrtla version 6.1\n\n  usage: rtla COMMAND ...\n"), "6.1");
    t.is(parseToolVersion("oslat", "nothing here"), null);
});

function have(bin: string): boolean {
    try {
        execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
        return process.getuid?.() === 0;
    } catch {
        return false;
    }
}

// The builders' argv must be accepted by the real rt-tests: run them briefly when the tools are here (root, rt-tests installed).
const real = realTest(have("cyclictest") && have("oslat"), "root with rt-tests (cyclictest, oslat)");

real("the built cyclictest and oslat command lines run on this host and parse", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "probe-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const short = { cpus: "0", durationSec: 1, priority: 95, intervalUs: 1000 };
    const ct = cyclictestCommand(short, { jsonFile: join(dir, "ct.json"), histogramUs: 2000 });
    const stdout = execFileSync(ct[0], ct.slice(1), { encoding: "utf8" });
    const r = parseCyclictestRun({ stdout, json: readFileSync(join(dir, "ct.json"), "utf8") });
    t.is(r.noSamples, null);
    t.is(r.command, ct.join(" "));
    t.true(r.series[0].stats.samples > 500, `${r.series[0].stats.samples} cycles in 1 s at 1 ms`);
    t.true(r.series[0].stats.minUs! <= r.series[0].stats.avgUs! && r.series[0].stats.avgUs! <= r.series[0].stats.maxUs!);
    const os = oslatCommand(short, { jsonFile: join(dir, "o.json") });
    execFileSync(os[0], os.slice(1), { encoding: "utf8" });
    const o = parseOslatJson(readFileSync(join(dir, "o.json"), "utf8"));
    t.is(o.series[0].cpu, 0);
    t.true(o.series[0].stats.samples > 0);
});

test("default targets are the seed's, each with its operator and source", (t) => {
    t.like(DEFAULT_TARGETS.timer.avgUs, { value: 5, op: "<=", unit: "us" });
    t.like(DEFAULT_TARGETS.timer.maxUs, { value: 15, op: "<=" });
    t.like(DEFAULT_TARGETS.interrupt.maxUs, { value: 20, op: "<=" });
    t.like(DEFAULT_TARGETS.preemption.maxSingleUs, { value: 10, op: "<=" });
    t.like(DEFAULT_TARGETS.preemption.perWindowUs, { value: 20, op: "<" });
    t.is(DEFAULT_TARGETS.preemption.windowUs, 1000);
    t.like(DEFAULT_TARGETS.migration.totalMs, { value: 2000, op: "<", unit: "ms" });
    t.like(DEFAULT_TARGETS.migration.downtimeIoMs, { value: 10, op: "<=" });
    t.like(DEFAULT_TARGETS.migration.downtimeMemoryMs, { value: 500, op: "<" });
    t.like(DEFAULT_TARGETS.migration.networkDowntimeMs, { value: 25, op: "<=" });
    t.like(DEFAULT_TARGETS.interVm, { packetBytes: 64, batch: 32 });
    t.like(DEFAULT_TARGETS.interVm.mpps, { value: 65, op: ">=", unit: "Mpps" });
    t.regex(DEFAULT_TARGETS.preemption.perWindowUs.source, /Cumulative pre-emption within 1 ms window => X < 20 us/);
    t.true(Object.isFrozen(DEFAULT_TARGETS.timer.maxUs));
});

test("stack config overrides merge over the defaults", (t) => {
    const got = resolveTargets({ timer: { maxUs: 30 }, preemption: { perWindowUs: { value: 4, op: "<" } }, interVm: { batch: 64 } }, "nfv-testpod:targets");
    t.like(got.timer.maxUs, { value: 30, op: "<=", source: "stack config (nfv-testpod:targets.timer.maxUs)" });
    t.like(got.timer.avgUs, { value: 5, op: "<=" });
    t.like(got.preemption.perWindowUs, { value: 4, op: "<" });
    t.is(got.interVm.batch, 64);
    t.deepEqual(resolveTargets(undefined, "nfv-testpod:targets"), structuredClone(DEFAULT_TARGETS));
    // Defaults stay untouched.
    t.is(DEFAULT_TARGETS.timer.maxUs.value, 15);
});

test("bad target values are all reported with their YAML path", (t) => {
    const err = t.throws(
        () => resolveTargets({ timer: { maxUs: "fast", avgUs: { value: 5, op: "=<" } }, interupt: {}, preemption: { windowUs: 0.5 } }, "nfv-testpod:targets"),
        { instanceOf: ProblemListError },
    );
    const issues = err!.problems.map((p) => ({ path: p.path, message: formatProblem({ ...p, path: "" }) }));
    t.deepEqual(
        issues.map((i) => i.path),
        ["nfv-testpod:targets.timer.maxUs", "nfv-testpod:targets.timer.avgUs.op", "nfv-testpod:targets.interupt", "nfv-testpod:targets.preemption.windowUs"],
    );
    t.is(issues[0].message, 'must be a number from 0 to 1000000000 in us (got "fast"). Fix: write 15 or { value: 15, op: "<=" }');
    t.is(issues[2].message, 'is not a target group (got {}). Fix: did you mean "interrupt"?');
    t.throws(() => resolveTargets([1], "nfv-testpod:targets"), {
        message: 'latency targets has 1 problem:\nnfv-testpod:targets: must be a mapping of target groups (got [1]). Fix: write e.g. "timer: { maxUs: 15 }"',
    });
});
