/**
 * The runner's decisions, with the guest agent replaced by a recorder that
 * answers with real captured tool output: what runs where, what is skipped and
 * why, and that a failing or stale run never counts as measured. The real
 * agent path runs in tests/e2e/probeGate.test.ts.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { GuestExecResult } from "../../components/libvirt/guestAgent";
import { runProbeSuite, type ProbeGuest } from "../../components/probes/kinds/latency/run";
import { DEFAULT_PROBE_SUITE } from "../../components/probes/suiteConfig";
import { DEFAULT_TARGETS } from "../../components/probes/targets";

const fixture = (name: string) => readFileSync(`tests/fixtures/probes/${name}`, "utf8");

const vnf: ProbeGuest = { guest: "vnf", uri: "qemu:///system", domain: "d-vnf", rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0] };
const solo: ProbeGuest = { ...vnf, guest: "solo", domain: "d-solo", rtVcpus: [0], housekeepingVcpus: [] };
const peer: ProbeGuest = { ...vnf, guest: "peer", domain: "d-peer", rtVcpus: [], housekeepingVcpus: [0] };

/** Answers like the guest would, from captured output; records every script. */
function recorder(exitCode = 0) {
    const scripts: { guest: string; script: string }[] = [];
    const shell = async (g: ProbeGuest, script: string): Promise<GuestExecResult> => {
        scripts.push({ guest: g.guest, script });
        const reply = (stdout: string, code = exitCode): GuestExecResult => ({ exitCode: code, stdout, stderr: "", truncated: false });
        if (script.includes("--help") || script.includes("oslat -v")) return reply("cyclictest V 2.40\noslat V 2.40\nrtla version 6.1\n", 0);
        if (script.includes("rtla timerlat")) return reply(fixture("rtla-6.1-guest-tcg-timerlat-hist.txt"));
        if (script.includes("cyclictest"))
            return reply(`${fixture("cyclictest-2.4-1thread.hist.txt")}@@nfvkit-json@@\n${fixture("cyclictest-2.4-1thread.json")}`);
        return reply("");
    };
    return { scripts, shell };
}

const config = { ...DEFAULT_PROBE_SUITE, probes: ["cyclictest", "timerlat", "oslat"] as const, durationSec: 5 };

test("only RT vCPUs are measured; guests without any are listed as not probed", async (t) => {
    const { scripts, shell } = recorder();
    const run = await runProbeSuite([vnf, peer], { ...config, probes: ["cyclictest", "timerlat"] }, DEFAULT_TARGETS, shell);
    t.deepEqual([...new Set(scripts.map((s) => s.guest))], ["vnf"]);
    t.true(run.notes.includes("peer has no real-time vCPU: not probed"));
    const ct = scripts.find((s) => s.script.includes("cyclictest -m"))!.script;
    t.regex(
        ct,
        /^rm -f \/tmp\/nfvkit-cyclictest\.json; cyclictest .* -a 1 -t 1 .* --mainaffinity=0 2>&1/,
        "a stale JSON is removed first; the tool reports from the housekeeping vCPU",
    );
    t.deepEqual(
        run.results.map((r) => [r.guest, r.result.probe, r.result.noSamples]),
        [
            ["vnf", "cyclictest", null],
            ["vnf", "timerlat", null],
        ],
    );
});

test("oslat is skipped on a guest without a housekeeping vCPU, with the reason", async (t) => {
    const { scripts, shell } = recorder();
    const run = await runProbeSuite([solo], { ...config, probes: ["oslat"] }, DEFAULT_TARGETS, shell);
    t.false(scripts.some((s) => s.script.includes("oslat -c")));
    t.deepEqual(run.notes, ["solo: oslat skipped, the guest has no housekeeping vCPU to keep its agent alive"]);
});

test("guest load runs the image's nfvkit-load on the housekeeping vCPUs around each probe, and says so", async (t) => {
    const { scripts, shell } = recorder();
    const run = await runProbeSuite([vnf], { ...config, probes: ["cyclictest"], load: "guest" }, DEFAULT_TARGETS, shell);
    const ct = scripts.find((s) => s.script.includes("cyclictest -m"))!.script;
    t.regex(ct, /nfvkit-load 0 10 >\/dev\/null 2>&1 & load=\$!; cyclictest .*; kill \$load/);
    t.true(run.notes.includes("vnf: guest load: nfvkit-load keeps vCPU 0 busy while probing"));
});

test("a tool that exits non-zero measured nothing, whatever it printed", async (t) => {
    const { shell } = recorder(1);
    const run = await runProbeSuite([vnf], { ...config, probes: ["cyclictest"] }, DEFAULT_TARGETS, shell);
    t.regex(run.results[0].result.noSamples ?? "", /^cyclictest exited 1: /);
    t.deepEqual(run.results[0].result.series, []);
});

test("host load runs on this machine while the guests are probed and is stopped after", async (t) => {
    const stressNg = /^stress-ng --cpu 1 --taskset 0 --timeout 125s$/m;
    const psArgs = () => execFileSync("ps", ["-eo", "args"], { encoding: "utf8" });
    const { shell } = recorder();
    let during = "";
    const watching = async (g: ProbeGuest, script: string, ms: number): Promise<GuestExecResult> => {
        // The load starts before the first probe; give stress-ng a moment to be exec'd.
        for (let i = 0; i < 50 && !stressNg.test(during); i++) {
            during = psArgs();
            if (!stressNg.test(during)) await new Promise((r) => setTimeout(r, 20));
        }
        return shell(g, script);
    };
    const run = await runProbeSuite([vnf], { ...config, probes: ["cyclictest"], load: "host" }, DEFAULT_TARGETS, watching);
    t.regex(during, stressNg);
    t.true(run.notes.includes("host load: stress-ng on host local CPUs 0 while probing"), run.notes.join("; "));
    t.notRegex(psArgs(), stressNg, "the load does not outlive the suite");
});
