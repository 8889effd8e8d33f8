/**
 * The preview's reading of the engine and its comment, on a real
 * `pulumi preview --json` captured from a pod change (tests/fixtures/preview/):
 * pin moves of a running guest, a replacement and the inputs that force it, a
 * new guest and link, hugepages. Also the parts no e2e run reaches cheaply: a
 * first preview (everything new), probes and targets, an engine failure, a
 * long problem list, and stack text that must not become markup.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { HostFacts } from "../../components/host/facts";
import { commentMarker, podChanges, readEnginePreview, renderPreviewComment, type EngineStep } from "../../components/preview";
import { readStackFile, validateStack } from "../../components/validate";

const fixtures = path.join(__dirname, "../fixtures/preview");
const hostFacts: Record<string, HostFacts> = {
    local: {
        topology: { numaNodes: [{ id: 0, cpus: [0, 1] }], smtSiblings: [] },
        accel: { accel: "tcg", reason: "TCG: given by the test" },
        memoryLocking: { supported: false, reason: "given by the test" },
    },
};

function planOf(text: string, namePrefix = "nfv-testpod-preview-dev") {
    const source = readStackFile(Buffer.from(text));
    const checked = validateStack({ config: source.config, secretKeys: source.secretKeys, hostFacts, namePrefix, kind: source.kind, lineOf: source.lineOf });
    if (!checked.plan) throw new Error(JSON.stringify(checked.problems));
    return checked;
}

const changedStack = readFileSync(path.join(fixtures, "pod-change.stack.yaml"), "utf8");
const engine = readEnginePreview(readFileSync(path.join(fixtures, "pod-change.preview.json"), "utf8"));

test("the engine's steps in guest terms: vnf's pins move live, peer is replaced for its memory and new link, tap and ring1 are new", (t) => {
    const checked = planOf(changedStack);
    const c = podChanges(engine.steps, checked.plan!);
    t.deepEqual(
        c.pinMoves.map((m) => [m.guest, m.thread, m.from, m.to, m.fifoFrom, m.fifoTo]),
        [
            ["vnf", "vCPU 0", "0", "1", undefined, undefined],
            ["vnf", "vCPU 1", "1", "0", "1", "1"],
            ["vnf", "emulator", "0", "1", undefined, undefined],
        ],
    );
    t.deepEqual(
        c.replaced.map((r) => [r.guest, r.reasons]),
        [["peer", ["memory 256 MiB → 512 MiB", "link ring1 added"]]],
    );
    t.deepEqual(c.newGuests, ["tap"]);
    t.deepEqual(c.removedGuests, []);
    t.deepEqual(c.linksAdded, [{ link: "ring1", members: ["peer", "tap"], sizeBytes: 2 * 1024 * 1024, reasons: [] }]);
    t.deepEqual(c.hugepages, [{ host: "local", node: 0, pageKiB: 2048, from: 256, to: 448 }]);
    t.deepEqual([c.hostReboots, c.vfChanges, c.other, c.otherUpdates], [[], [], [], []]);
    t.is(c.probes, undefined, "probes are off in this stack");
    t.deepEqual(engine.counts, { create: 4, replace: 1, same: 7, update: 2 });
});

test("the comment: marker, one summary line, the changes open and the placement folded", (t) => {
    const checked = planOf(changedStack);
    const md = renderPreviewComment({
        stack: "preview-dev",
        file: "stacks/Pulumi.preview-dev.yaml",
        problems: [],
        plan: checked.plan,
        probes: checked.probes,
        targets: checked.targets,
        gate: checked.gate,
        changes: podChanges(engine.steps, checked.plan!),
        counts: engine.counts,
    });
    const lines = md.split("\n");
    t.is(lines[0], commentMarker("preview-dev"));
    t.is(
        lines[1],
        "**nfvkit preview for stack preview-dev:** 3 guests (1 new), 1 replaced (peer: memory 256 MiB → 512 MiB, link ring1 added), 3 pin moves, 1 link added, 0 host reboots, probes off",
    );
    t.true(lines.includes("  - vnf vCPU 1: cpu 1 → 0 (FIFO 1)"));
    t.true(lines.includes("  - peer, because memory 256 MiB → 512 MiB; link ring1 added (its pins move with it: vCPU 0: cpu 0 → 1; emulator: cpu 0 → 1)"));
    t.true(lines.includes("<sub>Engine (`pulumi preview`): 4 to create, 2 to update, 1 to replace, 7 unchanged.</sub>"));
    const open = md.replace(/<details>[\s\S]*?<\/details>/g, "");
    t.false(open.includes("| Guest |"), "the placement table is folded");
    t.true(open.split("\n").length <= 40, `short enough for a phone:\n${open}`);
});

test("a first preview: every guest new; probes with their targets, the gate and when they run", (t) => {
    const stack = [
        "config:",
        "  nfv-testpod:gate: report",
        "  nfv-testpod:probes: {durationSec: 10}",
        "  nfv-testpod:pod:",
        "    hosts: [{name: local, housekeepingCpus: '0', isolatedCpus: '1', hugepages: [{node: 0, size: 2M, count: 256}]}]",
        "    guests:",
        "      - {name: vnf, host: local, vcpus: 2, rtVcpus: [1], memory: 256M, pageSize: 2M}",
        "      - {name: peer, host: local, vcpus: 1, rtVcpus: [], memory: 256M, pageSize: 2M}",
    ].join("\n");
    const checked = planOf(stack, "nfv-testpod-local");
    const created = (type: string, name: string, inputs: Record<string, unknown> = {}): EngineStep => ({
        op: "create",
        urn: `urn:pulumi:local::nfv-testpod::x$${type}::${name}`,
        type,
        name,
        newInputs: inputs,
        replaceReasons: [],
    });
    const steps = [
        created("nfvkit:pod:TestPod", "pod"),
        created("nfvkit:libvirt:Domain", "pod-vnf-domain"),
        created("nfvkit:libvirt:Domain", "pod-peer-domain"),
        created("nfvkit:probes:ProbeSuite", "pod-probes"),
    ];
    const md = renderPreviewComment({
        stack: "local",
        file: "stacks/Pulumi.local.yaml",
        problems: [],
        plan: checked.plan,
        probes: checked.probes,
        targets: checked.targets,
        gate: checked.gate,
        changes: podChanges(steps, checked.plan!),
    });
    t.is(md.split("\n")[1], "**nfvkit preview for stack local:** 2 guests (2 new), 0 replaced, 0 pin moves, 0 host reboots, gate report");
    t.true(md.includes("- **New guests**:\n  - vnf\n  - peer\n"), md);
    t.true(md.includes("- **Pin moves:** none"), md);
    t.regex(md, /\*\*Probes\*\* \(gate report, 10 s each, load none; they run after the guests are up\): cyclictest, timerlat, osnoise, oslat on vnf/);
    t.true(md.includes("| cyclictest | vnf (vCPU 1) | timer latency (max) | 15 µs |"), md);
    t.true(md.includes("| osnoise | vnf (vCPU 1) | cumulative preemption in 1 ms (max) | &lt; 20 µs |"), md);
});

test("an engine failure: the summary says so, the error is shown, nothing claims to change", (t) => {
    const checked = planOf(changedStack);
    const md = renderPreviewComment({
        stack: "ci",
        file: "stacks/Pulumi.ci.yaml",
        problems: [],
        plan: checked.plan,
        probes: checked.probes,
        targets: checked.targets,
        gate: checked.gate,
        engineErrors: ["error: could not reach lab-1 (10.0.0.7 port 22) over SSH", "second line"],
    });
    t.is(md.split("\n")[1], "**nfvkit preview for stack ci:** ❌ pulumi preview failed: error: could not reach lab-1 (10.0.0.7 port 22) over SSH");
    t.true(
        md.includes("**What changes:** unknown, `pulumi preview` failed:\n\n```\nerror: could not reach lab-1 (10.0.0.7 port 22) over SSH\nsecond line\n```"),
    );
    t.false(md.includes("### What changes"));
});

test("many problems: six open, the rest folded; stack text never becomes markup", (t) => {
    const problems = Array.from({ length: 9 }, (_, i) => ({
        path: `nfv-testpod:pod.guests[${i}].name`,
        value: `<img src=x onerror=alert(1)>|*${i}*`,
        reason: "is not a safe name",
        fix: "use letters, digits and -",
        line: 10 + i,
    }));
    const md = renderPreviewComment({ stack: "lab", file: "stacks/Pulumi.lab.yaml", problems });
    t.is(md.split("\n")[1], "**nfvkit preview for stack lab:** ❌ 9 problems in the stack config; nothing was previewed");
    t.true(
        md.includes(
            '- line 10, `nfv-testpod:pod.guests[0].name`: is not a safe name (got `"<img src=x onerror=alert(1)>|*0*"`). Fix: use letters, digits and -',
        ),
        md,
    );
    t.true(md.includes("<details><summary>3 more problems</summary>"), md);
    t.false(
        md
            .replace(/<\/?(details|summary)>/g, "")
            .replace(/<!--[^>]*-->/g, "")
            .replace(/`[^`]*`/g, "")
            .includes("<"),
        "no HTML outside code spans",
    );
});

test("engine URNs and pins read as the engine writes them", (t) => {
    const step = engine.steps.find((s) => s.name === "pod-vnf-domain")!;
    t.is(step.type, "nfvkit:libvirt:Domain");
    t.is(step.op, "update");
    t.deepEqual((step.oldInputs?.pinning as Record<string, string>)["vCPU 1"], "host CPU 1, FIFO 1");
    t.throws(() => readEnginePreview("warning: not JSON"), { message: /printed no JSON document/ });
});
