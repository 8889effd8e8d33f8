/**
 * RT host management and SR-IOV facts, the pure parts: the kit's GRUB file,
 * reboot reasons and the preview's words, and validation of `manage`,
 * `kernelPackage`, `allowHostReboot` and PFs against the host's facts, each
 * as the exact line `npm run validate` prints.
 */
import test from "ava";
import { formatProblemLine, readStackFile, validateStack } from "../../components/validate";
import type { HostFacts } from "../../components/host/facts";
import type { PfFacts } from "../../components/host/sriov";
import { rebootReasons } from "../../components/host/rtHostOperations";
import { hwlatCheck, hwlatScript, parseHwlat } from "../../components/host/hwlat";
import { grubFile, tuningUnit } from "../../components/host/rtTuning";
import { driftOf } from "../../components/host/sriovOperations";
import { rebootNotice } from "../../components/pod/hostResources";
import type { HostKernelFacts } from "../../components/host/readiness";

const stockKernel: HostKernelFacts = {
    release: "6.1.0-50-amd64",
    version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.164-1",
    realtime: false,
    cmdline: "BOOT_IMAGE=/boot/vmlinuz-6.1.0-50-amd64 root=UUID=x ro console=ttyS0,115200 skew_tick=1",
    tracers: ["nop"],
};
const args = [
    "isolcpus=managed_irq,domain,2-3",
    "nohz_full=2-3",
    "rcu_nocbs=2-3",
    "irqaffinity=0-1",
    "skew_tick=1",
    "nosoftlockup",
    "intel_iommu=on",
    "iommu=pt",
];

test("the kit's GRUB file adds to the host's own args and names the RT kernel's entry", (t) => {
    const text = grubFile({
        kernelArgs: args,
        kernelRelease: "6.1.0-50-rt-amd64",
        housekeepingCpus: "0-1",
        isolatedCpus: "2-3",
        owner: "nfv-testpod/lab-rt host lab-rt-1",
    });
    t.true(text.includes(`GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${args.join(" ")}"\n`));
    t.true(text.includes('GRUB_DEFAULT="${GRUB_DISTRIBUTOR:-Debian} GNU/Linux, with Linux 6.1.0-50-rt-amd64"\n'));
    t.true(text.includes("GRUB_DISABLE_SUBMENU=y\n"));
    t.true(
        tuningUnit({ kernelArgs: args, kernelRelease: "x", housekeepingCpus: "0-1", isolatedCpus: "2-3", owner: "o" }).includes(
            "ExecStart=/usr/local/sbin/nfvkit-rt-tuning 0-1\n",
        ),
    );
});

test("reboot reasons name the kernel change and each missing arg; none once booted as planned", (t) => {
    t.deepEqual(rebootReasons(stockKernel, "6.1.0-50-rt-amd64", args), [
        "kernel 6.1.0-50-amd64 → 6.1.0-50-rt-amd64",
        "kernel args change (+isolcpus=managed_irq,domain,2-3 +nohz_full=2-3 +rcu_nocbs=2-3 +irqaffinity=0-1 +nosoftlockup +intel_iommu=on +iommu=pt)",
    ]);
    const booted = { ...stockKernel, release: "6.1.0-50-rt-amd64", realtime: true, cmdline: `BOOT_IMAGE=/boot/vmlinuz-6.1.0-50-rt-amd64 ro ${args.join(" ")}` };
    t.deepEqual(rebootReasons(booted, "6.1.0-50-rt-amd64", args), []);
});

test("the preview says what a managed host needs, in plain words", (t) => {
    const host = { name: "lab-1", manage: { kernelPackage: "linux-image-rt-amd64" }, kernelArgs: ["nohz_full=2-3", "skew_tick=1"] } as never;
    t.is(
        rebootNotice(host, stockKernel),
        "host lab-1: kernel 6.1.0-50-amd64 → PREEMPT_RT (linux-image-rt-amd64), kernel args change (+nohz_full=2-3), reboot required",
    );
    t.is(rebootNotice({ ...(host as object), manage: undefined } as never, stockKernel), undefined);
});

test("VF drift is said in VF words", (t) => {
    const state = [{ index: 0, pciAddress: "0000:00:13.0", driver: "igbvf", mac: "02:00:00:00:00:01", vlan: 0, trust: false, spoofchk: true }];
    t.deepEqual(driftOf(state, { numVfs: 1, vfs: [{ index: 0, mac: "02:00:00:00:00:02", vlan: 100, trust: true, spoofchk: false }] }), [
        "VF 0: mac 02:00:00:00:00:01 → 02:00:00:00:00:02",
        "VF 0: vlan 0 → 100",
        "VF 0: trust off → on",
        "VF 0: spoofchk on → off",
        "VF 0: driver igbvf → vfio-pci",
    ]);
});

const stack = (host: string, extra = "") => `config:
  nfv-testpod:gate: report${extra}
  nfv-testpod:pod:
    hosts:
      - name: lab-1
        topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }
        housekeepingCpus: "0-1"
${host}
    guests:
      - name: vnf
        vcpus: 2
        memory: 256M
        pageSize: 4K
`;

function lines(text: string, hostFacts?: Record<string, HostFacts>): string[] {
    const source = readStackFile(Buffer.from(text));
    const checked = validateStack({
        config: source.config,
        secretKeys: source.secretKeys,
        namePrefix: "t",
        kind: source.kind,
        lineOf: source.lineOf,
        hostFacts,
    });
    return checked.problems.map((p) => formatProblemLine(p, "Pulumi.t.yaml"));
}

test("manage, kernelPackage and allowHostReboot are checked with line, path, value, reason and fix", (t) => {
    t.deepEqual(lines(stack("        manage: true\n        kernelPackage: linux-image-rt-amd64")), []);
    t.deepEqual(lines(stack("        manage: yes please")), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].manage: must be true or false (got "yes please"). Fix: write true or false (without quotes)',
    ]);
    t.deepEqual(lines(stack("        manage: true\n        kernelPackage: Linux RT")), [
        'Pulumi.t.yaml:9: nfv-testpod:pod.hosts[0].kernelPackage: is not a Debian package name (got "Linux RT"). Fix: write the package as apt knows it, e.g. linux-image-rt-amd64',
    ]);
    t.deepEqual(lines(stack("        kernelPackage: linux-image-rt-amd64")), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].kernelPackage: has no effect: the kit installs kernels only on hosts it manages (got "linux-image-rt-amd64"). Fix: add manage: true, or remove kernelPackage',
    ]);
    t.deepEqual(lines(stack("        manage: true", "\n  nfv-testpod:allowHostReboot: sometimes")), [
        'Pulumi.t.yaml:3: nfv-testpod:allowHostReboot: must be true or false (got "sometimes"). Fix: write true to let the kit reboot managed hosts when their kernel or boot args change, or false (the default)',
    ]);
});

test("a managed host's hwlat run is checked, defaults to hwlatdetect's settings and reaches the plan", (t) => {
    t.deepEqual(lines(stack("        manage: true\n        hwlat: { seconds: 5, targetUs: 250000 }")), []);
    t.deepEqual(lines(stack("        manage: true\n        hwlat: { seconds: 0, targetUs: 2.5, gap: 1 }")), [
        "Pulumi.t.yaml:9: nfv-testpod:pod.hosts[0].hwlat.gap: is not a known field (got 1). Fix: remove it; known fields are seconds, targetUs",
        "Pulumi.t.yaml:9: nfv-testpod:pod.hosts[0].hwlat.seconds: is out of range 1-600 (got 0). Fix: write a number from 1 to 600",
        "Pulumi.t.yaml:9: nfv-testpod:pod.hosts[0].hwlat.targetUs: must be a whole number (got 2.5). Fix: write a number from 1 to 1000000",
    ]);
    t.deepEqual(lines(stack("        hwlat: { targetUs: 100 }")), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].hwlat: has no effect: the kit measures hardware latency only on hosts it manages (got {"targetUs":100}). Fix: add manage: true, or remove hwlat',
    ]);
    const manageOf = (host: string) => {
        const source = readStackFile(Buffer.from(stack(host)));
        const checked = validateStack({ config: source.config, secretKeys: source.secretKeys, namePrefix: "t", kind: source.kind, lineOf: source.lineOf });
        return checked.plan?.hosts[0].manage;
    };
    t.deepEqual(manageOf("        manage: true\n        hwlat: { targetUs: 250000 }"), {
        kernelPackage: "linux-image-rt-amd64",
        hwlat: { seconds: 10, targetUs: 250000 },
    });
    // Without it the RtHost gets no hwlat input at all, and runs with DEFAULT_HWLAT (10 s, 10 µs).
    t.deepEqual(manageOf("        manage: true"), { kernelPackage: "linux-image-rt-amd64" });
});

const igb: PfFacts = { name: "eth0", pciAddress: "0000:00:03.0", driver: "igb", numaNode: 0, totalVfs: 7, numVfs: 0, up: false, vfs: [] };
const facts = (pfs: PfFacts[]): Record<string, HostFacts> => ({ "lab-1": { accel: { accel: "tcg", reason: "test" }, pfs } as HostFacts });

test("PFs are checked against the PFs the host has", (t) => {
    t.deepEqual(lines(stack("        pfs: [{ name: eth0, vfCount: 2, numaNode: 0 }]"), facts([igb])), []);
    t.deepEqual(lines(stack("        pfs: [{ name: enp1s0, vfCount: 2 }]"), facts([igb])), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].pfs[0].name: is not an SR-IOV PF of host lab-1 (its PFs: eth0 (igb, 0000:00:03.0, 7 VFs, node 0)) (got "enp1s0"). Fix: use one of eth0',
    ]);
    t.deepEqual(lines(stack("        pfs: [{ name: eth0, vfCount: 8, numaNode: 0 }]"), facts([{ ...igb, numaNode: 1 }])), [
        "Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].pfs[0].vfCount: is more than the 7 VFs PF eth0 of host lab-1 offers (sriov_totalvfs) (got 8). Fix: ask for at most 7",
        "Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].pfs[0].numaNode: is not the node of PF eth0 (0000:00:03.0), which host lab-1 reports on node 1 (got 0). Fix: write numaNode: 1, or leave it out",
    ]);
});

test("the hwlat run reads the tracer's max and count, and a gap above the threshold fails the host's row in plain words", (t) => {
    const settings = { seconds: 10, targetUs: 10 };
    // What the script prints on the TCG lab VM: the vCPU is descheduled by the machine below for milliseconds.
    const slow = parseHwlat("max 41873\nsamples 7\n", settings);
    t.deepEqual(slow, { seconds: 10, thresholdUs: 10, maxUs: 41873, samples: 7 });
    t.deepEqual(hwlatCheck(slow!), {
        name: "hwlat: hardware latency (10 s with the hwlat tracer)",
        expected: "no gap above 10 µs",
        found: "7 gaps above 10 µs, max 41873 µs",
        pass: false,
    });
    t.true(hwlatCheck(parseHwlat("max 0\nsamples 0\n", settings)!).pass);
    t.is(parseHwlat("sh: 1: cannot create /sys/kernel/tracing/tracing_thresh: Permission denied\n", settings), undefined);
    // The script puts the tracer back as it found it, even when cut short.
    const script = hwlatScript(settings);
    t.regex(script, /trap restore EXIT/);
    t.regex(script, /echo 10 > \$T\/tracing_thresh/);
    t.regex(script, /sleep 10\n/);
});
