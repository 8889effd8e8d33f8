/**
 * The host kernel command line the kit computes for a pod, and the readiness
 * check of a running host against it, on this CI machine's real /proc/cmdline.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { buildHostKernelArgs } from "../../components/plan/hostCmdline";
import { assessHostReadiness, describeUnready } from "../../components/host/readiness";

const args = buildHostKernelArgs({
    isolatedCpus: [2, 3, 4, 5, 10, 11],
    housekeepingCpus: [0, 1, 8, 9],
    hugepages: [
        { node: 0, sizeKiB: 1048576, count: 8 },
        { node: 1, sizeKiB: 1048576, count: 4 },
        { node: 0, sizeKiB: 2048, count: 512 },
    ],
    iommu: true,
});

test("host boot args: isolation of the isolated CPUs, per-node hugepage pools, IOMMU for VFs", (t) => {
    t.deepEqual(args, [
        "isolcpus=managed_irq,domain,2-5,10-11",
        "nohz_full=2-5,10-11",
        "rcu_nocbs=2-5,10-11",
        "irqaffinity=0-1,8-9",
        "skew_tick=1",
        "nosoftlockup",
        "default_hugepagesz=1G",
        "hugepagesz=2M",
        "hugepages=0:512",
        "hugepagesz=1G",
        "hugepages=0:8,1:4",
        "intel_iommu=on",
        "iommu=pt",
    ]);
});

test("a host booted with exactly those args on a PREEMPT_RT kernel is ready", (t) => {
    const checks = assessHostReadiness(
        {
            release: "6.1.0-28-rt-amd64",
            version: "#1 SMP PREEMPT_RT Debian",
            realtime: true,
            cmdline: `BOOT_IMAGE=/vmlinuz ro ${args.join(" ")} quiet`,
            tracers: ["hwlat", "osnoise", "nop"],
        },
        args,
    );
    t.true(
        checks.every((c) => c.pass),
        JSON.stringify(checks.filter((c) => !c.pass)),
    );
});

test("this CI machine (a VM without PREEMPT_RT or isolation) is reported not ready, arg by arg", (t) => {
    const [, cmdline, release, version] = readFileSync("tests/fixtures/libvirt/host-kernel-ci-vm.txt", "utf8").split("\n");
    const wanted = buildHostKernelArgs({ isolatedCpus: [1], housekeepingCpus: [0], hugepages: [{ node: 0, sizeKiB: 2048, count: 256 }], iommu: false });
    const checks = assessHostReadiness({ release, version, realtime: false, cmdline, tracers: ["blk", "function", "nop"] }, wanted);
    t.deepEqual(describeUnready("local", checks).slice(0, 4), [
        `host local not ready: PREEMPT_RT kernel: expected PREEMPT_RT, found ${release} ${version}`,
        "host local not ready: hwlat tracer (hardware latency detection): expected hwlat, found absent (tracers: blk function nop)",
        "host local not ready: boot arg isolcpus: expected isolcpus=managed_irq,domain,1, found absent",
        "host local not ready: boot arg nohz_full: expected nohz_full=1, found absent",
    ]);
    t.false(checks.find((c) => c.name === "boot arg hugepages")!.pass);
    t.true(checks.some((c) => c.pass === false && c.name === "boot arg skew_tick"));
});

test("arguments after -- belong to init and do not count", (t) => {
    const checks = assessHostReadiness({ release: "r", version: "PREEMPT_RT", realtime: false, cmdline: "ro -- nohz_full=1", tracers: null }, ["nohz_full=1"]);
    t.is(checks.find((c) => c.name === "boot arg nohz_full")!.found, "absent");
});
