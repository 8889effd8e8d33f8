/**
 * The shape of the `hostReadiness` stack output: one line per host (how many
 * checks pass, the misses by name), while the TestPod keeps every check with
 * what was expected and found for the reports and library programs.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { assessHostReadiness, summarizeReadiness, type HostKernelFacts } from "../../components/host/readiness";
import { buildHostKernelArgs } from "../../components/plan/hostCmdline";
import { recordResources } from "../helpers/mockedPulumi";
import { image, spec } from "../helpers/podFixtures";

recordResources("nfv-testpod");

const [, cmdline, release, version] = readFileSync("tests/fixtures/libvirt/host-kernel-ci-vm.txt", "utf8").split("\n");
/** This CI machine's kernel: no PREEMPT_RT, no hwlat tracer, none of the isolation args. */
const ciVm: HostKernelFacts = { release, version, realtime: false, cmdline, tracers: ["blk", "function", "nop"] };
const localPodArgs = buildHostKernelArgs({ isolatedCpus: [1], housekeepingCpus: [0], hugepages: [{ node: 0, sizeKiB: 2048, count: 256 }], iommu: false });

test("a host that passes everything reads as one short line", (t) => {
    const rt: HostKernelFacts = {
        release: "6.1.0-28-rt-amd64",
        version: "#1 SMP PREEMPT_RT Debian",
        realtime: true,
        cmdline: `BOOT_IMAGE=/vmlinuz ro ${localPodArgs.join(" ")}`,
        tracers: ["hwlat", "nop"],
    };
    t.is(summarizeReadiness(assessHostReadiness(rt, localPodArgs)), "all 11 checks pass");
});

test("misses are named as a person says them: PREEMPT_RT kernel, hwlat tracer, the boot arg's key", (t) => {
    t.is(
        summarizeReadiness(assessHostReadiness(ciVm, localPodArgs)),
        "0 of 11 checks pass; misses: PREEMPT_RT kernel, hwlat tracer, isolcpus, nohz_full, rcu_nocbs, irqaffinity, skew_tick, nosoftlockup, default_hugepagesz, hugepagesz, hugepages",
    );
    // Half-prepared: an RT kernel booted with the isolation args only.
    const half = { ...ciVm, realtime: true, tracers: ["hwlat"], cmdline: "ro isolcpus=managed_irq,domain,1 nohz_full=1 rcu_nocbs=1" };
    t.is(
        summarizeReadiness(assessHostReadiness(half, localPodArgs)),
        "5 of 11 checks pass; misses: irqaffinity, skew_tick, nosoftlockup, default_hugepagesz, hugepagesz, hugepages",
    );
});

test("TestPod: the one-line summary per host for the stack outputs, every check kept for the reports", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const pod = new TestPod("pod", {
        spec,
        image,
        namePrefix: "nfv-testpod-unit",
        hostFacts: { local: { accel: { accel: "tcg", reason: "TCG: forced" }, kernel: ciVm } },
    });
    t.deepEqual(Object.keys(pod.hostReadinessSummary), ["local"]);
    const line = pod.hostReadinessSummary.local;
    t.regex(line, /^0 of 11 checks pass; misses: PREEMPT_RT kernel, hwlat tracer, isolcpus, /);
    t.false(line.includes("\n"), "one line");
    // Every row, with what was expected and found, is still there for the reports and library programs.
    t.is(pod.hostReadiness.local.length, 11);
    t.like(
        pod.hostReadiness.local.find((c) => c.name === "boot arg isolcpus"),
        { expected: "isolcpus=managed_irq,domain,1-3", found: "absent", pass: false },
    );
});
