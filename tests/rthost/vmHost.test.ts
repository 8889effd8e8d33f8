/**
 * The emulated lab VM host, for real: Debian bookworm booted by its own GRUB
 * under TCG with intel-iommu and an igb PF. The kit reaches it over SSH
 * (pinned host key) and manages its SR-IOV VFs and its RT kernel, boot args
 * and tuning through the provider's operations, as `up` would.
 * The first run on a machine builds the image (about 5 minutes, cached by
 * recipe hash); each run boots the VM once (about 1-2 minutes) and reboots it
 * once into PREEMPT_RT.
 */
import test from "ava";
import * as fs from "node:fs";
import { hostAccess, closeHostAccesses, type HostAccess } from "../../components/host/access";
import { discoverPfs, readPf } from "../../components/host/sriov";
import * as sriov from "../../components/host/sriovOperations";
import * as rtHost from "../../components/host/rtHostOperations";
import { RT_FILES } from "../../components/host/rtTuning";
import { readKernelFacts } from "../../components/host/readiness";
import { vmDown, vmState, vmUp, type RunningVm } from "../../tools/lab/vm/vm";
import { realTest } from "../helpers/realParts";

const realParts = fs.existsSync("/usr/sbin/debootstrap") && fs.existsSync("/usr/bin/qemu-system-x86_64") && process.getuid?.() === 0;
const serial = realTest(realParts, "debootstrap, qemu-system-x86_64 and root (the lab VM host)");

let vm: RunningVm;
/** A VM of the test's own (name and port), never the one `npm run lab -- up --kind vm` runs: the test reboots it into PREEMPT_RT and expects the stock kernel first. */
const VM = { name: "nfvkit-vmlab-test", sshPort: 22023 };
let host: HostAccess;
const ctx = { urn: "urn:pulumi:vmhost-test::nfv-testpod-kit::nfvkit:host:RtHost::lab-rt-1" };

test.before(async (t) => {
    if (!realParts) return;
    // A first run builds the image (about 5 min) and every run boots the VM (2-4 min under load): beyond ava's 10-minute default.
    t.timeout(30 * 60_000);
    // A VM left by a killed run is stale (maybe rebooted into RT): start from the image again.
    if (vmState(VM.name)) await vmDown(VM.name);
    vm = await vmUp(VM);
    host = hostAccess(vm.target);
});
test.after.always(async () => {
    await closeHostAccesses();
    if (realParts) await vmDown(VM.name);
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
    "an RtHost installs the RT kernel and boot args, reboots only when allowed, then a second run changes nothing; destroy removes the kit's files",
    async (t) => {
        // Two boots of a TCG VM on a shared 2-core machine (the RT one measured 6 min here), beyond ava's 10-minute default.
        t.timeout(40 * 60_000);
        const inputs: rtHost.RtHostInputs = {
            host: "lab-rt-1",
            access: vm.target,
            kernelArgs: [
                "isolcpus=managed_irq,domain,2-3",
                "nohz_full=2-3",
                "rcu_nocbs=2-3",
                "irqaffinity=0-1",
                "skew_tick=1",
                "nosoftlockup",
                "intel_iommu=on",
                "iommu=pt",
            ],
            housekeepingCpus: "0-1",
            isolatedCpus: "2-3",
            allowReboot: false,
            rebootTimeoutSec: 900,
        };
        const before = await readKernelFacts(host);
        t.false(/PREEMPT_RT/.test(before.version));

        // Without permission: stops and says what the host needs.
        const refused = await t.throwsAsync(rtHost.create(inputs, ctx));
        t.regex(
            refused!.message,
            /^host lab-rt-1 needs a reboot: kernel 6\.1\.\S+-amd64 → 6\.1\.\S+-rt-amd64; kernel args change \(\+isolcpus=managed_irq,domain,2-3 \+nohz_full=2-3 /,
        );
        t.regex(refused!.message, /set nfv-testpod:allowHostReboot: true/);
        t.regex(await host.readFile(RT_FILES.grub), /GRUB_CMDLINE_LINUX="\$GRUB_CMDLINE_LINUX isolcpus=managed_irq,domain,2-3 nohz_full=2-3/);

        const started = Date.now();
        const made = await rtHost.create({ ...inputs, allowReboot: true }, ctx);
        const outs = made.outs as rtHost.RtHostOutputs;
        t.log(`up with reboot: ${((Date.now() - started) / 1000).toFixed(0)} s, of which the reboot ${outs.rebootSeconds.toFixed(0)} s`);
        t.log(outs.checks.map((c) => `${c.pass ? "✅" : "❌"} ${c.name}: expected ${c.expected}, found ${c.found}`).join("\n"));
        t.true(outs.rebooted);
        const kernel = await readKernelFacts(hostAccess(vm.target));
        t.regex(kernel.version, /PREEMPT_RT/);
        for (const arg of inputs.kernelArgs) t.true(kernel.cmdline.split(" ").includes(arg), arg);
        t.deepEqual(
            outs.checks.filter((c) => !c.pass).map((c) => c.name),
            [],
        );

        // A second up: nothing to change, no reboot.
        t.false((await rtHost.diff(made.id, outs, { ...inputs, allowReboot: true })).changes);
        const again = (await rtHost.update(made.id, outs, { ...inputs, allowReboot: true }, ctx)).outs as rtHost.RtHostOutputs;
        t.false(again.rebooted);

        await rtHost.delete(made.id, again);
        const access = hostAccess(vm.target);
        for (const f of Object.values(RT_FILES)) t.false(await access.exists(f), f);
        t.is((await access.readFile("/proc/sys/kernel/sched_rt_runtime_us")).trim(), outs.before.schedRtRuntimeUs);
        t.notRegex(await access.readFile("/boot/grub/grub.cfg"), /nohz_full/);
    },
);
