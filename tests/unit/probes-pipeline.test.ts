/**
 * The probe pipeline's shape: one registry of kinds in a fixed order, the
 * settings keys each kind owns, and a pipeline that runs the named kinds in
 * that order, stops at an enforced host gate, starts nothing after an
 * interruption, and writes one verdict with one section per kind that ran.
 * The kinds here are stand-ins that record what the pipeline asked of them;
 * the real kinds run in tests/unit/probes-longRuns.test.ts (latency through
 * the pipeline), tests/e2e and tests/lab (all of them on real guests).
 */
import test from "ava";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ProbeSuiteInputs } from "../../components/probes/inputs";
import { hostGate } from "../../components/probes/kinds/hostGate";
import type { AnyProbeKind } from "../../components/probes/kinds/kind";
import { PROBE_KINDS } from "../../components/probes/kinds/registry";
import { runProbePipeline } from "../../components/probes/pipeline";
import { checkProbeSuiteConfig, DEFAULT_PROBE_SUITE, type ProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { DEFAULT_TARGETS } from "../../components/probes/targets";
import { applyGate, formatNumber, formatTarget, GateError, type Check } from "../../components/probes/verdict";

test("one registry: host gate, latency, inter-VM, migration, in that order; each setting key belongs to one kind", (t) => {
    t.deepEqual(
        PROBE_KINDS.map((k) => k.name),
        ["hostGate", "latency", "interVm", "migration"],
    );
    const owners = new Map<string, string[]>();
    for (const kind of PROBE_KINDS) for (const key of Object.keys(kind.defaults)) owners.set(key, [...(owners.get(key) ?? []), kind.name]);
    t.deepEqual(
        [...owners].filter(([, kinds]) => kinds.length > 1),
        [],
        "no key is read by two kinds",
    );
    // The resolved settings are `enabled` and exactly the kinds' keys.
    t.deepEqual(Object.keys(DEFAULT_PROBE_SUITE).sort(), ["enabled", ...owners.keys()].sort());
    // A key no kind reads is refused, with the nearest one.
    t.deepEqual(
        checkProbeSuiteConfig({ migrations: [] }).problems.map((p) => [p.path, p.reason, p.fix]),
        [["nfv-testpod:probes.migrations", "is not a probe setting", 'did you mean "migration"?']],
    );
});

test("which kinds a stack names: the host gate always, the others when listed", (t) => {
    const named = (config: ProbeSuiteConfig) => PROBE_KINDS.filter((k) => k.named(config)).map((k) => k.name);
    t.deepEqual(named(DEFAULT_PROBE_SUITE), ["hostGate", "latency"]);
    const cfg = checkProbeSuiteConfig({
        probes: [],
        interVm: [{ link: "ring0", producer: "peer", consumer: "vnf" }],
        migration: [{ guest: "vnf", to: "lab-2" }],
    }).config!;
    t.deepEqual(named(cfg), ["hostGate", "interVm", "migration"]);
});

/** A stand-in kind: named or not, it records the order it ran in, and its checks and stop are what the test says. */
function standIn(name: string, calls: string[], opts: { named?: boolean; pass?: boolean; stop?: string; onRun?: () => void } = {}): AnyProbeKind {
    const check: Check = {
        guest: "vnf",
        probe: name,
        metric: `${name}.figure`,
        name: `${name} figure`,
        statistic: "max",
        measuredUs: 5,
        where: null,
        target: { value: 1, op: "<=", unit: "ms", source: "test" },
        pass: opts.pass ?? true,
        message: opts.pass === false ? `${name} figure of vnf: 5 ms > target 1 ms` : null,
    };
    return {
        name,
        defaults: {},
        check: () => ({ settings: {}, problems: [] }),
        named: () => opts.named ?? true,
        async run() {
            calls.push(name);
            opts.onRun?.();
            return { measured: name };
        },
        judge: () => ({ checks: [check], notes: [`${name} ran`], ...(opts.stop ? { stop: opts.stop } : {}) }),
        report: { markdown: () => `\n### ${name}\n`, json: (section) => ({ [name]: section }), charts: () => [{ fileName: `${name}.svg`, svg: "<svg/>" }] },
    };
}

function inputs(t: { teardown: (f: () => void) => void }): ProbeSuiteInputs {
    const dir = mkdtempSync(join(tmpdir(), "nfvkit-pipeline-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return {
        title: "pipeline test",
        guests: [],
        guestIds: [],
        config: DEFAULT_PROBE_SUITE,
        targets: DEFAULT_TARGETS,
        gate: "enforce",
        resultsDir: dir,
        notes: ["host local: TCG: no host facts given"],
        hosts: [],
        kinds: {},
    };
}

test("the pipeline runs the named kinds in the registry's order into one verdict, one section each, and one set of reports", async (t) => {
    const calls: string[] = [];
    const kinds = [standIn("first", calls), standIn("skipped", calls, { named: false }), standIn("second", calls, { pass: false }), standIn("third", calls)];
    const outcome = await runProbePipeline(inputs(t), { log: () => undefined, kinds });
    t.deepEqual(calls, ["first", "second", "third"]);
    t.deepEqual(outcome.ran, ["first", "second", "third"]);
    const { verdict } = outcome;
    t.deepEqual(
        verdict.checks.map((c) => c.probe),
        ["first", "second", "third"],
    );
    t.deepEqual(Object.keys(verdict.sections), ["first", "second", "third"]);
    t.false(verdict.pass);
    t.deepEqual(verdict.failures, ["second figure of vnf: 5 ms > target 1 ms"]);
    t.deepEqual(verdict.notes, ["first ran", "second ran", "third ran"]);
    // The gate is the same for every kind: the one missed figure fails it, with the shared message.
    const err = t.throws(() => applyGate(verdict), { instanceOf: GateError });
    t.regex(err!.message, /^probe gate failed: 1 of 3 checks missed their target\n {2}- second figure of vnf: 5 ms > target 1 ms\n/);
    // The reports hold every kind's part, in order, after the pod's notes.
    const doc = JSON.parse(readFileSync(outcome.files.json, "utf8"));
    t.deepEqual(doc.first, { measured: "first" });
    t.deepEqual(doc.notes, ["host local: TCG: no host facts given", "first ran", "second ran", "third ran"]);
    const md = readFileSync(outcome.files.markdown, "utf8");
    t.true(md.indexOf("### first") < md.indexOf("### second") && md.indexOf("### second") < md.indexOf("### third"), md);
    t.deepEqual(
        outcome.files.histograms.map((f) => f.split("/").pop()),
        ["first.svg", "second.svg", "third.svg"],
    );
});

test("a stop (an enforced host gate) ends the pipeline there: nothing after it runs, and the gate fails with its message", async (t) => {
    const calls: string[] = [];
    const stop =
        "host readiness gate failed:\n  - host lab-1 not ready: PREEMPT_RT kernel: expected PREEMPT_RT, found 6.1.0\nSet probes.hostGate: report to probe anyway.";
    const outcome = await runProbePipeline(inputs(t), { log: () => undefined, kinds: [standIn("gate", calls, { stop }), standIn("latency", calls)] });
    t.deepEqual(calls, ["gate"]);
    t.is(outcome.verdict.stopped, stop);
    t.false(outcome.verdict.pass);
    t.true(outcome.verdict.notes.includes("not run, the host gate stopped the pipeline: latency"));
    t.throws(
        () => applyGate({ ...outcome.verdict, gate: "report" }),
        { instanceOf: GateError, message: stop },
        "the host gate enforces whatever the probe gate says",
    );
});

test("an interruption keeps what the kind in flight measured and starts no later kind", async (t) => {
    const calls: string[] = [];
    const controller = new AbortController();
    const kinds = [standIn("latency", calls, { onRun: () => controller.abort("interrupted by SIGINT") }), standIn("migration", calls)];
    const outcome = await runProbePipeline(inputs(t), { log: () => undefined, kinds, signal: controller.signal });
    t.deepEqual(calls, ["latency"]);
    t.like(outcome.partial, { reason: "interrupted by SIGINT", cut: "latency", notRun: ["migration"] });
    t.regex(readFileSync(outcome.files.markdown, "utf8"), /^> \*\*PARTIAL RUN \(interrupted by SIGINT\)\*\*: .*never started: migration\./);
});

test("the host gate: report lists the unready rows; enforce stops before probing, naming each", (t) => {
    const section = {
        gate: "report" as const,
        hosts: [
            {
                host: "lab-1",
                checks: [
                    { name: "PREEMPT_RT kernel", expected: "PREEMPT_RT", found: "6.1.0 #1 SMP PREEMPT_DYNAMIC", pass: false },
                    { name: "boot arg isolcpus", expected: "isolcpus=managed_irq,domain,1", found: "isolcpus=managed_irq,domain,1", pass: true },
                ],
                notRead: null,
            },
            { host: "lab-9", checks: [], notRead: "the kit has no access to it (a remote host without ssh:)" },
        ],
    };
    const ctx = { targets: DEFAULT_TARGETS, gate: "enforce" as const, config: DEFAULT_PROBE_SUITE };
    const reported = hostGate.judge(section, ctx);
    t.deepEqual(reported, {
        checks: [],
        notes: [
            "host lab-1 not ready: PREEMPT_RT kernel: expected PREEMPT_RT, found 6.1.0 #1 SMP PREEMPT_DYNAMIC",
            "host lab-9: readiness not read: the kit has no access to it (a remote host without ssh:)",
        ],
    });
    t.is(
        hostGate.judge({ ...section, gate: "enforce" }, ctx).stop,
        "host readiness gate failed:\n  - host lab-1 not ready: PREEMPT_RT kernel: expected PREEMPT_RT, found 6.1.0 #1 SMP PREEMPT_DYNAMIC\nSet probes.hostGate: report to probe anyway.",
    );
    t.regex(hostGate.report.markdown(section, {} as never), /\| lab-1 \| PREEMPT_RT kernel \| PREEMPT_RT \| 6\.1\.0 #1 SMP PREEMPT_DYNAMIC \| ❌ \|/);
});

test("a preview's comment lists what each named kind will judge, migration included, from the kinds themselves", async (t) => {
    const { resolvePod } = await import("../../components/plan/resolvePod");
    const host = (name: string) => ({
        name,
        uri: `qemu+ssh://root@${name}/system`,
        topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
        housekeepingCpus: "0",
        isolatedCpus: "1-3",
        hugepages: [{ node: 0, size: "2M", count: 256 }],
    });
    const plan = resolvePod(
        { hosts: [host("lab-1"), host("lab-2")], guests: [{ name: "vnf", host: "lab-1", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" }] },
        { namePrefix: "p" },
    );
    const config = checkProbeSuiteConfig({ probes: ["cyclictest"], migration: [{ guest: "vnf", to: "lab-2", workload: "memory" }] }).config!;
    const parts = PROBE_KINDS.filter((k) => k.named(config) && k.preview).map((k) => k.preview!(config, DEFAULT_TARGETS, plan));
    t.deepEqual(
        parts.map((p) => p.summary),
        ["cyclictest on vnf", "migration of vnf to lab-2 and back"],
    );
    t.deepEqual(
        parts.flatMap((p) => p.rows).map((r) => `${r.probe} | ${r.where} | ${r.metric} | ${r.target}`),
        [
            "cyclictest | vnf (vCPU 1) | timer latency (avg) | 5 µs",
            "cyclictest | vnf (vCPU 1) | timer latency (max) | 15 µs",
            "migration | vnf: lab-1 → lab-2 → lab-1, 1 round trip(s), memory | total time, each move | < 2000 ms",
            "migration | vnf: lab-1 → lab-2 → lab-1, 1 round trip(s), memory | downtime (libvirt), each move | < 500 ms",
            "migration | vnf: lab-1 → lab-2 → lab-1, 1 round trip(s), memory | network downtime, each move | 25 ms",
            "migration | vnf: lab-1 → lab-2 → lab-1, 1 round trip(s), memory | vCPU pins off the plan on the destination | 0",
        ],
    );
});

test("a target below a hundredth reads as written, not as 0", (t) => {
    t.deepEqual([0.001, 0.0042, 1.234, 2, 0.5].map(formatNumber), ["0.001", "0.0042", "1.23", "2", "0.5"]);
    t.is(formatTarget({ value: 0.001, op: "<", unit: "ms" }), "< 0.001 ms");
});
