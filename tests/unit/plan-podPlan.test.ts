/**
 * planPod over the fixture pods: the plan components walk, in typed values.
 * One table per fixture (a 2-CPU local pod, a 2-NUMA SMT host); each row is
 * what a reviewer would check by hand against docs/pod-spec.md.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load } from "js-yaml";
import { planPod, tryPlanPod, type PodPlan } from "../../components/plan/podPlan";
import { checkPod } from "../../components/spec/check";
import { ProblemListError } from "../../components/spec/problems";
import { CpuSet, MacAddress, MemorySize, PciAddress } from "../../components/spec/units";
import { hostFactOptions } from "../../components/validate/validateStack";

const fixtures = path.join(__dirname, "..", "fixtures", "specs");
const hostFacts = {
    local: {
        accel: { accel: "tcg" as const, reason: "TCG: /dev/kvm is missing" },
        memoryLocking: { supported: false, reason: "memory locking off: no CAP_SYS_RESOURCE" },
    },
    "host-a": { accel: { accel: "kvm" as const, reason: "KVM: /dev/kvm runs guests" } },
};

function plan(file: string): PodPlan {
    // As validateStack does: host facts turn knobs off in the check (memory locking), and give the accelerator to the plan.
    const checked = checkPod(load(readFileSync(path.join(fixtures, file), "utf8")), { namePrefix: "lab", ...hostFactOptions(hostFacts) });
    if (checked.problems.length) throw new ProblemListError(checked.problems);
    return planPod(checked.pod, hostFacts, { namePrefix: "lab" });
}

/** A guest's pins as [vCPU, host CPU, role, FIFO priority or "-"]. */
const pins = (p: PodPlan, guest: string) => p.guests.find((g) => g.name === guest)!.pins.map((x) => [x.vcpu, x.hostCpu, x.role, x.fifo ?? "-"]);
const guest = (p: PodPlan, name: string) => p.guests.find((g) => g.name === name)!;

test("a guest boots quietly unless its kernelArgs say quiet: false; the spec's other args are unchanged", (t) => {
    const spec = load(readFileSync(path.join(fixtures, "local-one-guest.yaml"), "utf8")) as { guests: { kernelArgs?: object }[] };
    spec.guests[0].kernelArgs = { quiet: false, extra: ["nosoftlockup"] };
    const checked = checkPod(spec, { namePrefix: "lab", ...hostFactOptions(hostFacts) });
    t.deepEqual(checked.problems, []);
    const vnf = planPod(checked.pod, hostFacts, { namePrefix: "lab" }).guests[0];
    t.is(vnf.render.baseCmdline, "console=ttyS0 nfvkit.name=vnf");
    t.deepEqual(vnf.kernelArgs, ["nosoftlockup"]);
    spec.guests[0].kernelArgs = { quiet: "no" };
    const bad = checkPod(spec, { namePrefix: "lab" });
    t.deepEqual(
        bad.problems.map((p) => [p.path, p.value]),
        [["guests[0].kernelArgs.quiet", "no"]],
    );
});

test("2-CPU local pod: the one vCPU is RT on the isolated CPU; threads on the housekeeping CPU", (t) => {
    const p = plan("local-one-guest.yaml");
    const vnf = guest(p, "vnf");
    t.deepEqual(pins(p, "vnf"), [[0, 1, "rt", 1]]);
    t.true(vnf.emulatorCpus instanceof CpuSet);
    for (const [what, set, text] of [
        ["emulator", vnf.emulatorCpus, "0"],
        ["I/O threads", vnf.iothreadCpus, ""],
        ["probe RT vCPUs", vnf.probe.rtVcpus, "0"],
        ["probe housekeeping vCPUs", vnf.probe.housekeepingVcpus, ""],
        ["probe host housekeeping", vnf.probe.hostHousekeepingCpus, "0"],
    ] as const) {
        t.is(set.toString(), text, what);
    }
    t.deepEqual(vnf.kernelArgs, [], "a guest whose every vCPU is RT keeps its kernel's housekeeping: no isolation args");
    t.true(vnf.memory instanceof MemorySize);
    t.is(vnf.memory.toString(), "256M");
    t.is(vnf.pageSize.toString(), "2M");
    t.like(vnf, {
        host: "local",
        uri: "qemu:///system",
        accel: "tcg",
        domainName: "lab-vnf",
        consoleLog: "/var/log/libvirt/qemu/lab-vnf-console.log",
        numaNode: 0,
    });
    t.deepEqual(vnf.render, {
        virtType: "qemu",
        baseCmdline: "console=ttyS0 quiet nfvkit.name=vnf",
        consoleLogPath: "/var/log/libvirt/qemu/lab-vnf-console.log",
    });
    t.like(vnf.facts, { accel: "tcg", vcpus: "1", memory: "256 MiB", pageSize: "2048 KiB", rtVcpus: "0", "knobs.locked": "false" });
    t.false("image" in vnf.facts, "the image is known at deploy time");

    const [local] = p.hosts;
    t.deepEqual(local.kernelArgs, [
        "isolcpus=managed_irq,domain,1",
        "nohz_full=1",
        "rcu_nocbs=1",
        "irqaffinity=0",
        "skew_tick=1",
        "nosoftlockup",
        "default_hugepagesz=2M",
        "hugepagesz=2M",
        "hugepages=0:128",
    ]);
    t.deepEqual(
        local.hugepages.map((d) => [d.node, d.pageSize.toString(), d.pages]),
        [[0, "2M", 128]],
    );
    t.deepEqual(local.notes, ["TCG: /dev/kvm is missing", "memory locking off: no CAP_SYS_RESOURCE"]);
    t.deepEqual(p.links, []);
    t.deepEqual(
        p.placement.map((r) => [r.guest, r.vcpu, r.hostCpu, r.role]),
        [
            ["vnf", 0, 1, "rt"],
            ["vnf", "emulator", 0, "emulator"],
        ],
    );
});

test("2-NUMA SMT host: pins per guest, RT vCPUs on separate cores of the guest's node", (t) => {
    const p = plan("two-node-smt.yaml");
    for (const [name, expected, node, emulator, iothreads] of [
        [
            "vnf-fast",
            [
                [0, 4, "housekeeping", "-"],
                [1, 5, "rt", 10],
                [2, 6, "rt", 10],
            ],
            1,
            "4,12",
            "",
        ],
        [
            "vnf-wide",
            [
                [0, 0, "housekeeping", "-"],
                [1, 1, "rt", 1],
                [2, 2, "rt", 1],
                [3, 8, "housekeeping", "-"],
            ],
            0,
            "0,8",
            "0,8",
        ],
    ] as const) {
        const g = guest(p, name);
        t.deepEqual(pins(p, name), expected, name);
        t.is(g.numaNode, node, name);
        t.is(g.emulatorCpus.toString(), emulator, name);
        t.is(g.iothreadCpus.toString(), iothreads, name);
    }
});

test("2-NUMA SMT host: guest kernel args, probe views and the links each guest maps", (t) => {
    const p = plan("two-node-smt.yaml");
    for (const [name, kernelArgs, rt, housekeeping] of [
        ["vnf-fast", ["isolcpus=managed_irq,domain,1-2", "nohz_full=1-2", "rcu_nocbs=1-2", "irqaffinity=0"], "1-2", "0"],
        ["vnf-wide", ["isolcpus=managed_irq,domain,1-2", "nohz_full=1-2", "rcu_nocbs=1-2", "irqaffinity=0,3", "nosoftlockup", "tsc=reliable"], "1-2", "0,3"],
    ] as const) {
        const g = guest(p, name);
        t.deepEqual(g.kernelArgs, kernelArgs, name);
        t.is(g.probe.rtVcpus.toString(), rt, name);
        t.is(g.probe.housekeepingVcpus.toString(), housekeeping, name);
        t.is(g.probe.hostHousekeepingCpus.toString(), "0,4,8,12", name);
        t.deepEqual(
            g.shmem.map((s) => [s.name, s.path, s.size.toString(), s.hugepages]),
            [
                ["lab-fastpath", "/dev/hugepages/lab-fastpath", "16M", true],
                ["lab-control", "/dev/shm/lab-control", "4M", false],
            ],
            name,
        );
    }
    t.like(guest(p, "vnf-fast"), { accel: "kvm", render: { virtType: "kvm" } });
});

test("2-NUMA SMT host: host kernel args, hugepage demand per node and size, links", (t) => {
    const p = plan("two-node-smt.yaml");
    const [host] = p.hosts;
    t.is(host.uri, "qemu+ssh://root@host-a/system");
    t.is(host.isolatedCpus.toString(), "1-3,5-7,9-11,13-15");
    t.deepEqual(host.kernelArgs, [
        "isolcpus=managed_irq,domain,1-3,5-7,9-11,13-15",
        "nohz_full=1-3,5-7,9-11,13-15",
        "rcu_nocbs=1-3,5-7,9-11,13-15",
        "irqaffinity=0,4,8,12",
        "skew_tick=1",
        "nosoftlockup",
        "default_hugepagesz=1G",
        "hugepagesz=2M",
        "hugepages=0:1024,1:16",
        "hugepagesz=1G",
        "hugepages=1:4",
        "intel_iommu=on",
        "iommu=pt",
    ]);
    // vnf-fast: 2G of 1G pages on node 1; vnf-wide: 1G of 2M pages on node 0; the 16M hugepage link: 8 2M pages where vnf-fast is.
    t.deepEqual(
        host.hugepages.map((d) => [d.node, d.pageSize.toString(), d.pages]),
        [
            [1, "1G", 2],
            [0, "2M", 512],
            [1, "2M", 8],
        ],
    );
    t.deepEqual(
        p.links.map((l) => [l.name, l.host, l.shmName, l.path, l.size.toString(), l.members.join(",")]),
        [
            ["fastpath", "host-a", "lab-fastpath", "/dev/hugepages/lab-fastpath", "16M", "vnf-fast,vnf-wide"],
            ["control", "host-a", "lab-control", "/dev/shm/lab-control", "4M", "vnf-fast,vnf-wide"],
        ],
    );
});

test("2-NUMA SMT host: VF actions per PF, typed", (t) => {
    const p = plan("two-node-smt.yaml");
    const [host] = p.hosts;
    t.deepEqual(
        host.pfs.map((pf) => [pf.name, pf.vfs.length]),
        [
            ["enp1s0", 1],
            ["enp2s0", 0],
        ],
    );
    const [action] = host.pfs[0].vfs;
    t.true(action.pciAddress instanceof PciAddress);
    t.true(action.mac instanceof MacAddress);
    t.deepEqual(
        { ...action, pciAddress: action.pciAddress.toString(), mac: action.mac?.toString() },
        { vf: 2, guest: "vnf-fast", pciAddress: "0000:01:10.4", mac: "52:54:00:aa:00:01", vlan: 100, trust: true, spoofchk: false },
    );
});

test("the same checked pod gives the same plan", (t) => {
    t.deepEqual(plan("two-node-smt.yaml"), plan("two-node-smt.yaml"));
});

test("placement problems of a valid spec are validation problems, with path, value, reason and fix", (t) => {
    const spec = load(readFileSync(path.join(fixtures, "local-one-guest.yaml"), "utf8")) as { guests: object[] };
    spec.guests.push({ name: "peer", vcpus: 1, memory: "64M", pageSize: "4K" });
    const checked = checkPod(spec, { namePrefix: "lab" });
    t.deepEqual(checked.problems, [], "the spec itself is fine");
    const planned = tryPlanPod(checked, {}, { namePrefix: "lab" });
    t.is(planned.plan, undefined);
    t.deepEqual(planned.problems, [
        {
            path: "guests[1].rtVcpus",
            value: [0],
            reason: "host local has no NUMA node with 1 free isolated CPUs (node 0: 0), guest peer needs 1",
            fix: "isolate more CPUs on host local, move another guest off it, or give guest peer fewer RT vCPUs",
        },
    ]);
    const err = t.throws(() => planPod(checked.pod, {}, { namePrefix: "lab" }), { instanceOf: ProblemListError });
    t.deepEqual(err!.problems, planned.problems);
});
