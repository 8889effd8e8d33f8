/**
 * The latency gate with the real engine, a real guest and the real probes,
 * on KVM as on TCG: the gate fails at targets no guest meets (1 ns) with a
 * message naming probe, guest, figure and target; passes at targets every
 * guest meets; never fails in report mode; and fails when a probe measures
 * nothing.
 */
import test from "ava";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import { formatNumber } from "../../components/probes/verdict";
import { useStack, type TestStack } from "../helpers/stack";

const STACK_FILE = "stacks/Pulumi.probe-gate.yaml";
const RESULTS = "results/probe-gate";

interface ProbesOutput {
    gate: string;
    pass: boolean;
    failures: string[];
    checks: { guest: string; probe: string; name: string; statistic: string; measuredUs: number | null; pass: boolean }[];
    reports: { json: string; markdown: string; junit: string; histograms: string[] };
}

/** The config variants' folder, made once and removed after this file's tests. */
const scratch = mkdtempSync(path.join(os.tmpdir(), "nfvkit-gate-"));
test.after.always(() => rmSync(scratch, { recursive: true, force: true }));

/** The stack file with some `nfv-testpod:` settings replaced, written to a temp file. */
function variant(settings: Record<string, unknown>): string {
    const doc = yaml.load(readFileSync(STACK_FILE, "utf8")) as { config: Record<string, unknown> };
    for (const [key, value] of Object.entries(settings)) doc.config[`nfv-testpod:${key}`] = value;
    const file = path.join(mkdtempSync(path.join(scratch, "variant-")), "Pulumi.probe-gate.yaml");
    writeFileSync(file, yaml.dump(doc));
    return file;
}

async function upWith(stack: TestStack, settings: Record<string, unknown>) {
    return stack.run(["up", "--yes", "--skip-preview", "--config-file", variant(settings)]);
}

/** Targets no guest meets, on any host: 1 ns. */
const UNREACHABLE_TARGETS = {
    timer: { avgUs: 0.001, maxUs: 0.001 },
    interrupt: { maxUs: 0.001 },
};

/** Targets every guest meets, TCG included: a second on average, 10 s at worst. */
const LOOSE_TARGETS = {
    timer: { avgUs: 1_000_000, maxUs: 10_000_000 },
    interrupt: { maxUs: 10_000_000 },
};

test.serial("the latency gate: fails at unreachable targets, passes at loose ones, never fails in report mode, fails without samples", async (t) => {
    const stack = useStack(t, "probe-gate", "nfv-testpod-probe-gate");

    // 1. Unreachable targets, enforced: pulumi up fails, naming probe, guest, figure and target.
    const seed = await upWith(stack, { targets: UNREACHABLE_TARGETS });
    t.not(seed.code, 0, "the gate must fail at 1 ns targets");
    const report = JSON.parse(readFileSync(`${RESULTS}/probes.json`, "utf8"));
    const check = (metric: string) => report.checks.find((c: { metric: string }) => c.metric === metric);
    const [timerAvg, timerMax, irqMax] = ["timer.avgUs", "timer.maxUs", "interrupt.maxUs"].map(check);
    // A real measurement: above zero, the average no more than the max, and under the 10 s every guest meets.
    t.true(timerAvg.measuredUs > 0 && timerAvg.measuredUs <= timerMax.measuredUs && timerMax.measuredUs < 10_000_000, JSON.stringify([timerAvg, timerMax]));
    t.true(irqMax.measuredUs > 0 && irqMax.measuredUs < 10_000_000, JSON.stringify(irqMax));
    const failures = [
        `timer latency on vnf: avg ${formatNumber(timerAvg.measuredUs)} µs > target 0.001 µs`,
        `timer latency on vnf: max ${formatNumber(timerMax.measuredUs)} µs > target 0.001 µs`,
        `interrupt latency on vnf: max ${formatNumber(irqMax.measuredUs)} µs > target 0.001 µs`,
    ];
    t.false(report.pass);
    t.deepEqual([...report.failures].sort(), [...failures].sort(), "the file names the three misses");
    for (const f of failures) t.true(seed.stdout.includes(f), `${f}\n${seed.stdout}`);
    t.regex(seed.stdout, /probe gate failed: 3 of 3 checks missed their target/);

    // The reports a person and a CI system read.
    const markdown = readFileSync(`${RESULTS}/probes.md`, "utf8");
    const rows = markdown.split("\n").filter((l) => /^\| vnf \|.*\| (✅ pass|❌ fail) \|$/.test(l));
    t.is(rows.length, 3, "one Markdown row per guest x probe x metric: timer avg, timer max, IRQ max");
    t.notThrows(() => execFileSync("xmllint", ["--noout", "--schema", "tests/fixtures/probes/junit.xsd", `${RESULTS}/probes.junit.xml`], { stdio: "pipe" }));
    for (const svg of ["vnf-cyclictest.svg", "vnf-timerlat.svg"]) {
        const file = `${RESULTS}/histograms/${svg}`;
        t.true(existsSync(file), file);
        t.notThrows(() => execFileSync("xmllint", ["--noout", file], { stdio: "pipe" }), `${svg} is well-formed XML`);
    }

    // 2. Targets every guest meets: the same pod passes the gate, here with
    // the image's nfvkit-load keeping the guest's housekeeping vCPU busy while the RT vCPU is measured.
    const loose = await upWith(stack, { targets: LOOSE_TARGETS, probes: { probes: ["cyclictest", "timerlat"], durationSec: 3, load: "guest" } });
    t.is(loose.code, 0, loose.stdout + loose.stderr);
    let probes = (await stack.outputs()).probes as ProbesOutput;
    t.true(probes.pass);
    t.is(probes.checks.length, 3);
    t.true(probes.checks.every((c) => c.pass && c.measuredUs !== null && c.measuredUs > 0));

    t.regex(readFileSync(`${RESULTS}/probes.md`, "utf8"), /vnf: guest load: nfvkit-load keeps vCPU 0 busy while probing/);

    // Host readiness is reported: this CI VM is no PREEMPT_RT host with isolated CPUs.
    const outputs = await stack.outputs();
    t.regex((outputs.hostKernelArgs as Record<string, string>).local, /^isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1 irqaffinity=0 /);
    t.regex(readFileSync(`${RESULTS}/probes.md`, "utf8"), /host local not ready: PREEMPT_RT kernel: expected PREEMPT_RT, found /);
    // ...and gates when asked to, before any probe runs.
    const hostGated = await upWith(stack, { targets: LOOSE_TARGETS, probes: { probes: ["cyclictest", "timerlat"], durationSec: 3, hostGate: "enforce" } });
    t.not(hostGated.code, 0);
    t.regex(hostGated.stdout, /host readiness gate failed:\s+- host local not ready: PREEMPT_RT kernel/);

    // 3. Report mode at the unreachable targets: results, no failure.
    const reportFile = variant({ gate: "report", targets: UNREACHABLE_TARGETS });
    const reported = await stack.run(["up", "--yes", "--skip-preview", "--config-file", reportFile]);
    t.is(reported.code, 0, reported.stdout + reported.stderr);
    probes = (await stack.outputs()).probes as ProbesOutput;
    t.false(probes.pass);
    t.is(probes.gate, "report");
    t.true(probes.failures.some((f) => /^timer latency on vnf: max \d+(\.\d+)? µs > target 0\.001 µs$/.test(f)));

    // `npm run probe` re-runs what that up recorded (those targets, gate: report) against
    // the running pod without touching it: it reports the same misses, and the same gate lets it pass.
    const before = (await stack.outputs()).guests as Record<string, { domain: string }>;
    const rerun = spawnSync("tsx", ["tools/cli/probe.ts", "--stack", "probe-gate"], { encoding: "utf8", env: { ...process.env } });
    t.is(rerun.status, 0, rerun.stdout + rerun.stderr);
    t.regex(rerun.stdout, /missed: timer latency on vnf: max \d+(\.\d+)? µs > target 0\.001 µs/);
    t.regex(rerun.stdout, /reports: .*results\/probe-gate\/probes\.md/);
    const after = await stack.run(["preview", "--expect-no-changes", "--config-file", reportFile]);
    t.is(after.code, 0, `npm run probe changed nothing in the stack:\n${after.stdout}`);
    t.deepEqual((await stack.outputs()).guests, before);

    // 4. A run that measures nothing fails, even with loose targets: take the guest's
    // RT vCPU offline (a real mistake: both tools then exit 0 having measured nothing).
    const guests = (await stack.outputs()).guests as Record<string, { uri: string; domain: string }>;
    const offline = await guestShell(hostAccess(), guests.vnf.domain, "echo 0 > /sys/devices/system/cpu/cpu1/online");
    t.is(offline.exitCode, 0, offline.stderr);
    const empty = await upWith(stack, { targets: LOOSE_TARGETS, probes: { probes: ["cyclictest", "timerlat"], durationSec: 2 } });
    t.not(empty.code, 0, "no samples must never pass");
    t.regex(empty.stdout, /timer latency on vnf: no samples \(/);
    t.regex(empty.stdout, /interrupt latency on vnf: no samples \(/);
});
