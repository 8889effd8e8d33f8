/**
 * The emulated lab VM host, for real: Debian bookworm booted by its own GRUB
 * under TCG with intel-iommu and an igb PF, as `npm run lab -- up --kind vm`
 * starts it. The kit reaches it over SSH (pinned host key). First the SriovPf
 * provider's operations on their own (drift and repair), then the lab-rt stack
 * as a person runs it: `npm run up -- --stack lab-rt` through the real engine
 * installs PREEMPT_RT and the boot args, reboots, makes the VFs and boots a
 * guest inside the VM (nested TCG) that takes VF 0; a second `up` changes
 * nothing; `npm run down` puts the host back.
 * The first run on a machine builds the image (about 5 minutes, cached by
 * recipe hash); each run boots the VM once and reboots it once into PREEMPT_RT.
 */
import test from "ava";
import * as fs from "node:fs";
import { hostAccess, closeHostAccesses, type HostAccess } from "../../components/host/access";
import { discoverPfs, readPf } from "../../components/host/sriov";
import * as sriov from "../../components/host/sriovOperations";
import { RT_FILES } from "../../components/host/rtTuning";
import type { ManagedHostSummary } from "../../components/pod/TestPod";
import { readKernelFacts } from "../../components/host/readiness";
import { rebootHost } from "../../components/host/reboot";
import { vmDown, vmState, vmUp, type RunningVm } from "../../tools/lab/vm/vm";
import { LAB_RT_CONFIG, vmLab } from "../../tools/lab/vm/cli";
import { runKitCommand } from "../helpers/engineRun";
import { runPulumi, stackOutputs } from "../../tools/cli/engine";
import { libvirtUri } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { guestExec } from "../../components/libvirt/guestAgent";
import { realTest } from "../helpers/realParts";
import * as yaml from "js-yaml";
import * as path from "node:path";
import { projectRoot } from "../../tools/cli/engine";

/** The lab-rt stack's hwlat settings for its one host, as the committed stack file writes them. */
function labRtHwlat(): { seconds: number; targetUs: number } {
    const file = yaml.load(fs.readFileSync(path.join(projectRoot, "stacks", "Pulumi.lab-rt.yaml"), "utf8")) as {
        config: { "nfv-testpod:pod": { hosts: { hwlat?: { seconds?: number; targetUs?: number } }[] } };
    };
    const hwlat = file.config["nfv-testpod:pod"].hosts[0].hwlat ?? {};
    return { seconds: hwlat.seconds ?? 10, targetUs: hwlat.targetUs ?? 10 };
}

const realParts = fs.existsSync("/usr/sbin/debootstrap") && fs.existsSync("/usr/bin/qemu-system-x86_64") && process.getuid?.() === 0;
const serial = realTest(realParts, "debootstrap, qemu-system-x86_64 and root (the lab VM host)");

let vm: RunningVm;
let host: HostAccess;
const ctx = { urn: "urn:pulumi:vmhost-test::nfv-testpod-kit::nfvkit:host:RtHost::lab-rt-1" };

test.before(async (t) => {
    if (!realParts) return;
    // A first run builds the image (about 5 min) and every run boots the VM (2-4 min under load): beyond ava's 10-minute default.
    t.timeout(30 * 60_000);
    // The lab VM the lab-rt stack names (127.0.0.1:22022), started as `npm run lab -- up --kind vm` does. One that already
    // runs is someone's lab, maybe rebooted into RT: the test needs a fresh one and never stops another's.
    if (vmState()) throw new Error("a lab VM host already runs (npm run lab -- status --kind vm); the test needs a fresh one: npm run lab -- down --kind vm");
    started = true;
    t.is(await vmLab("up"), 0);
    vm = await vmUp();
    host = hostAccess(vm.target);
});
let started = false;
test.after.always(async () => {
    await closeHostAccesses();
    if (started) await vmDown();
});

serial("the lab VM host boots through its own GRUB and has an igb PF with 7 VFs", async (t) => {
    t.log(`image built in ${vm.imageInfo.buildSeconds} s (${vm.imageInfo.built ? "this run" : "cached"}), booted in ${vm.bootSeconds} s`);
    const cmdline = (await host.readFile("/proc/cmdline")).trim();
    // GRUB puts BOOT_IMAGE= first; a direct kernel boot has none.
    t.regex(cmdline, /^BOOT_IMAGE=\/boot\/vmlinuz-6\.1\.\S+-amd64 root=UUID=/);
    t.true((await host.run(["grub-probe", "-t", "device", "/"])).stdout.startsWith("/dev/vda1"));
    const pfs = await discoverPfs(host);
    t.is(pfs.length, 1);
    t.like(pfs[0], { driver: "igb", totalVfs: 7, numVfs: 0, numaNode: 0 });
    t.regex(pfs[0].pciAddress, /^0000:[0-9a-f]{2}:[0-9a-f]{2}\.0$/);
});

serial("a SriovPf creates the VFs with MAC, VLAN, trust and spoofchk, binds them, repairs drift and puts the PF back", async (t) => {
    const pf = (await discoverPfs(host))[0].name;
    const inputs: sriov.SriovPfInputs = {
        host: "lab-rt-1",
        pf,
        numVfs: 2,
        access: vm.target,
        vfs: [
            { index: 0, mac: "02:6e:66:00:00:10", vlan: 100, trust: true, spoofchk: false, bind: "vfio-pci" },
            { index: 1, mac: "02:6e:66:00:00:11", bind: "default" },
        ],
    };
    const checked = await sriov.check(undefined, inputs);
    t.deepEqual(checked.failures, []);
    const made = await sriov.create(checked.inputs as sriov.SriovPfInputs, ctx);
    const outs = made.outs as sriov.SriovPfOutputs;
    t.deepEqual(outs.before, { numVfs: 0, up: false });

    // What an administrator checks: ip link on the PF, and the VFs' drivers.
    const shown = (await host.run(["ip", "link", "show", "dev", pf])).stdout;
    t.log(shown);
    t.regex(shown, /vf 0\s+link\/ether 02:6e:66:00:00:10 .*vlan 100, spoof checking off, link-state auto, trust on/);
    t.regex(shown, /vf 1\s+link\/ether 02:6e:66:00:00:11 .*spoof checking on, link-state auto, trust off/);
    t.is((await host.readFile(`/sys/class/net/${pf}/device/sriov_numvfs`)).trim(), "2");
    t.is(outs.state[0].driver, "vfio-pci");
    t.is(outs.state[1].driver, "igbvf");
    const vf0 = outs.state[0].pciAddress;
    t.is((await host.run(["cat", `/sys/bus/pci/devices/${vf0}/vendor`, `/sys/bus/pci/devices/${vf0}/device`])).stdout, "0x8086\n0x10ca\n");

    // Drift behind the kit's back: read reports it in VF words, update repairs it.
    await host.run(["ip", "link", "set", "dev", pf, "vf", "1", "mac", "02:6e:66:00:00:99"]);
    const read = await sriov.read(made.id, outs);
    t.deepEqual(sriov.driftOf((read.props as sriov.SriovPfOutputs).state, inputs), ["VF 1: mac 02:6e:66:00:00:99 → 02:6e:66:00:00:11"]);
    t.true((await sriov.diff(made.id, read.props as sriov.SriovPfOutputs, inputs)).changes);
    const repaired = (await sriov.update(made.id, read.props as sriov.SriovPfOutputs, inputs)).outs as sriov.SriovPfOutputs;
    t.is(repaired.state[1].mac, "02:6e:66:00:00:11");
    t.false((await sriov.diff(made.id, repaired, inputs)).changes);

    // Destroy: VFs gone, PF down again, as it was.
    await sriov.delete(made.id, repaired);
    const after = await readPf(host, pf);
    t.like(after, { numVfs: 0, up: false, vfs: [] });
});

serial(
    "the lab-rt stack through the real engine: the preview says a reboot is needed; up refuses without permission; up installs PREEMPT_RT and the args, reboots, makes the VFs and a nested guest takes VF 0; a second up changes nothing; down puts the host back",
    async (t) => {
        // Two boots of a TCG VM, a nested TCG guest and three engine runs on a shared 2-core machine.
        t.timeout(45 * 60_000);
        let stackUp = false;
        t.teardown(async () => {
            if (stackUp) await runKitCommand("down", ["--stack", "lab-rt"]);
        });
        const config = ["--stack", "lab-rt", "--config-file", LAB_RT_CONFIG];
        const before = await readKernelFacts(host);
        const cmdlineBefore = (await host.readFile("/proc/cmdline")).trim();
        t.false(/PREEMPT_RT/.test(before.version));
        const pf = "enp0s3";
        const pfBefore = (await readPf(host, pf))!;
        t.truthy(pfBefore, `PF ${pf} is there`);

        // What a pull request's reviewer reads: the preview names the reboot and why.
        const preview = await runPulumi(["preview", ...config], {});
        t.is(preview.code, 0, preview.stderr);
        t.regex(
            preview.stdout,
            /host lab-rt-1: kernel 6\.1\.\S+-amd64 → PREEMPT_RT \(linux-image-rt-amd64\), kernel args change \(\+isolcpus=managed_irq,domain,2-3 \+nohz_full=2-3 [^)]*\+intel_iommu=on \+iommu=pt[^)]*\), reboot required/,
        );

        // Without permission: up stops and says what the host needs.
        const deny = await runPulumi(["config", "set", "nfv-testpod:allowHostReboot", "false", ...config], {});
        t.is(deny.code, 0, deny.stderr);
        const refused = await runKitCommand("up", ["--stack", "lab-rt"]);
        stackUp = true;
        t.not(refused.code, 0);
        t.regex(
            refused.output,
            /host lab-rt-1 needs a reboot: kernel 6\.1\.\S+-amd64 → 6\.1\.\S+-rt-amd64; kernel args change \(\+isolcpus=managed_irq,domain,2-3 /,
        );
        t.regex(refused.output, /set nfv-testpod:allowHostReboot: true/);
        t.is((await readKernelFacts(host)).release, before.release, "no reboot without permission");

        // With it: the README's command.
        const allow = await runPulumi(["config", "set", "nfv-testpod:allowHostReboot", "true", ...config], {});
        t.is(allow.code, 0, allow.stderr);
        const up = await runKitCommand("up", ["--stack", "lab-rt"]);
        t.log(`npm run up -- --stack lab-rt (installs the kernel, reboots, VFs, nested guest, probes): ${up.seconds.toFixed(0)} s`);
        t.is(up.code, 0, up.output.slice(-6000));
        t.regex(up.output, /stack lab-rt: using the lab VM host's generated config \/var\/lib\/nfvkit-vmlab\/Pulumi\.lab-rt\.yaml/);
        t.regex(up.output, /host lab-rt-1: boots 6\.1\.\S+-rt-amd64, rebooted by this up in \d+ s; readiness \d+ of \d+ checks pass/);
        // `pulumi stack output` takes no --config-file: outputs live in the state, not the config.
        const outputs = (await stackOutputs("lab-rt")) as { managedHosts: Record<string, ManagedHostSummary>; guests: Record<string, { consoleLog: string }> };
        const managed = outputs.managedHosts["lab-rt-1"];
        t.log(
            `reboot: ${managed.rebootSeconds.toFixed(0)} s; readiness after:\n${managed.checks.map((c) => `${c.pass ? "✅" : "❌"} ${c.name}: expected ${c.expected}, found ${c.found}`).join("\n")}`,
        );
        t.true(managed.rebooted);
        // Every check passes, the hardware latency run included: the stack's hwlat target is one the lab VM holds on
        // TCG as on KVM, and the row says the run used it, so a run that fell back to 10 µs, or did not run, fails here.
        t.deepEqual(
            managed.checks.filter((c) => !c.pass).map((c) => `${c.name}: expected ${c.expected}, found ${c.found}`),
            [],
        );
        const { targetUs, seconds } = labRtHwlat();
        t.deepEqual(
            managed.checks.find((c) => c.name.startsWith("hwlat:")),
            {
                name: `hwlat: hardware latency (${seconds} s with the hwlat tracer)`,
                expected: `no gap above ${targetUs} µs`,
                found: `none above ${targetUs} µs`,
                pass: true,
            },
        );

        // What an administrator checks on the host.
        const access = hostAccess(vm.target);
        const kernel = await readKernelFacts(access);
        t.regex(kernel.version, /PREEMPT_RT/);
        for (const arg of ["isolcpus=managed_irq,domain,2-3", "nohz_full=2-3", "rcu_nocbs=2-3", "irqaffinity=0-1", "intel_iommu=on", "iommu=pt"]) {
            t.true(kernel.cmdline.split(" ").includes(arg), arg);
        }
        const shown = (await access.run(["ip", "link", "show", "dev", pf])).stdout;
        t.log(shown);
        t.regex(shown, /vf 0\s+link\/ether 02:6e:66:00:00:10 .*vlan 100, spoof checking off, link-state auto, trust on/);
        t.is((await access.readFile(`/sys/class/net/${pf}/device/sriov_numvfs`)).trim(), "2");

        // The guest inside the lab host has VF 0: libvirt handed it over through VFIO, and the guest's igbvf driver reads the MAC libvirt set.
        const uri = await libvirtUri(vm.target);
        const domain = "nfv-testpod-lab-rt-vnf";
        t.is((await virsh(uri, ["domstate", domain])).trim(), "running");
        t.regex(await virsh(uri, ["domiflist", domain]), /hostdev\s+.*02:6e:66:00:00:10/);
        const seen = await guestExec(
            hostAccess(vm.target),
            domain,
            "/bin/sh",
            [
                "-c",
                'for d in /sys/bus/pci/devices/*; do echo "pci $(cat $d/vendor):$(cat $d/device) $(basename $(readlink $d/driver) 2>/dev/null)"; done; for n in /sys/class/net/*; do echo "net $(basename $n) $(cat $n/address)"; done',
            ],
            120_000,
        );
        t.log(seen.stdout);
        t.regex(seen.stdout, /^pci 0x8086:0x10ca igbvf$/m);
        // The MAC: libvirt set it on VF 0 (ip link above). The guest's igbvf asks the PF for it through the NIC's mailbox
        // when it probes; on QEMU's emulated igb that request timed out in every run here ("PF still in reset state"),
        // for the lab host's own igbvf on VF 1 as well, and the driver then picks a random MAC. So the guest shows the
        // configured MAC, or the console shows that known limit of the emulation (docs/rt-hosts.md); nothing else passes.
        const guestMac = /^net (?!lo )\S+ ([0-9a-f:]{17})$/m.exec(seen.stdout)?.[1];
        if (guestMac !== "02:6e:66:00:00:10") {
            const consoleLog = outputs.guests.vnf.consoleLog;
            const console = await access.readFile(consoleLog);
            t.log(
                `the guest's VF MAC is ${guestMac}, not 02:6e:66:00:00:10: ${console
                    .split("\n")
                    .filter((l) => /igbvf/.test(l))
                    .join(" | ")}`,
            );
            t.regex(console, /igbvf 0000:\S+: PF still in reset state\. Is the PF interface up\?/);
        }
        const bootId = (await access.readFile("/proc/sys/kernel/random/boot_id")).trim();

        // A second up: nothing to change on the host, no reboot.
        const again = await runKitCommand("up", ["--stack", "lab-rt"]);
        t.is(again.code, 0, again.output.slice(-4000));
        t.log(`second up: ${again.seconds.toFixed(0)} s`);
        t.notRegex(again.output, /rebooted by this up/);
        t.regex(again.output, /host lab-rt-1: boots 6\.1\.\S+-rt-amd64; readiness/);
        t.notRegex(again.output, /nfvkit:host:(RtHost|SriovPf)\s.*(updat|creat|replac)/);
        t.is((await hostAccess(vm.target).readFile("/proc/sys/kernel/random/boot_id")).trim(), bootId);

        // Down: guest gone, VFs and the PF as they were, the kit's files gone (the RT kernel stays installed; GRUB's default goes back).
        const down = await runKitCommand("down", ["--stack", "lab-rt"]);
        t.is(down.code, 0, down.output.slice(-4000));
        stackUp = false;
        t.log(`npm run down -- --stack lab-rt: ${down.seconds.toFixed(0)} s`);
        const after = hostAccess(vm.target);
        t.like(await readPf(after, pf), { numVfs: pfBefore.numVfs, up: pfBefore.up, vfs: [] });
        for (const f of Object.values(RT_FILES)) t.false(await after.exists(f), f);
        t.notRegex(await after.readFile("/boot/grub/grub.cfg"), /nohz_full/);
        t.notRegex(await virsh(uri, ["list", "--all", "--name"]), /nfv-testpod-lab-rt/);

        // What an operator checks after handing the host back: a reboot brings up the host's own kernel with its own
        // boot args (GRUB's default is the stock kernel again, though the RT package stays installed).
        const rebootSeconds = await rebootHost(after, vm.target, 15 * 60);
        t.log(`reboot after down: ${rebootSeconds.toFixed(0)} s`);
        const stock = hostAccess(vm.target);
        t.is((await readKernelFacts(stock)).release, before.release, "the stock kernel boots after down");
        t.is((await stock.readFile("/proc/cmdline")).trim(), cmdlineBefore, "the host's own boot args, none of the kit's");
    },
);
