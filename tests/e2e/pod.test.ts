/**
 * End to end with the real engine, real libvirt and real QEMU guests: the CI
 * stack's pod comes up, its guests share memory through the ivshmem link, a
 * second `up` changes nothing, and `destroy` leaves nothing behind.
 */
import test from "ava";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { domainsWithPrefix, expectedAccel, hugepages2M, hugepagesSettled, LOCAL_URI, shmFilesWithPrefix, vcpuThreadAccels } from "../helpers/host";
import { assertSharedMemory } from "../helpers/ivshmem";
import { useStack } from "../helpers/stack";

const PREFIX = "nfv-testpod-ci";

interface GuestOut {
    domain: string;
    accel: string;
    uri: string;
    consoleLog: string;
    bootSeconds: number;
    vcpuPins: Record<string, string>;
}

/** `virsh vcpupin <domain>`'s table as vCPU -> host CPU list. */
function vcpupins(out: string): Record<string, string> {
    return Object.fromEntries([...out.matchAll(/^\s*(\d+)\s+(\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
}

test.serial("pulumi up brings up the CI pod; guests share memory over ivshmem; a second up changes nothing; destroy removes everything", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const stack = useStack(t, "ci", PREFIX);

    await stack.up();
    // What a user checks: the stack outputs, and libvirt agreeing with them.
    const outputs = await stack.outputs();
    const guests = outputs.guests as Record<string, GuestOut>;
    t.deepEqual(Object.keys(guests).sort(), ["peer", "vnf"]);
    t.deepEqual(
        (await domainsWithPrefix(PREFIX)).sort(),
        Object.values(guests)
            .map((g) => g.domain)
            .sort(),
        "the domains libvirt runs are the ones the outputs name",
    );
    const placement = String(outputs.placement).split("\n");
    t.true(
        placement.some((l) => /^local\s+vnf\s+vcpu1\s+1\s+0\s+rt$/.test(l)),
        `the placement output puts vnf's RT vCPU 1 on CPU 1:\n${outputs.placement}`,
    );

    // The accelerator follows the host's /dev/kvm (KVM when it runs stock kernels, else TCG), said with its reason,
    // and it is what QEMU really runs: the domain type and the vCPU threads' names.
    const accel = expectedAccel();
    const accelReason = String((outputs.accel as Record<string, string>).local);
    if (accel === "kvm") t.regex(accelReason, /^KVM: /);
    else t.regex(accelReason, existsSync("/dev/kvm") ? /^TCG: \/dev\/kvm is PVM \(kvm_pvm\)/ : /^TCG: \/dev\/kvm is missing/);

    // What libvirt holds is what the spec asked for.
    for (const [name, g] of Object.entries(guests)) {
        t.true(g.domain.startsWith(PREFIX), `${name}'s domain carries the stack prefix`);
        t.is(g.accel, accel, `${name}'s accelerator in the outputs`);
        const xml = await virsh(LOCAL_URI, ["dumpxml", g.domain]);
        t.regex(xml, accel === "kvm" ? /^<domain type='kvm'/ : /^<domain type='qemu'/, `${name} is defined for ${accel}`);
        t.deepEqual(vcpuThreadAccels(g.domain), [accel.toUpperCase()], `${name}'s vCPU threads run ${accel}`);
        // The pins libvirt reports for the running guest are the ones the outputs give.
        t.deepEqual(vcpupins(await virsh(LOCAL_URI, ["vcpupin", g.domain])), g.vcpuPins, `virsh vcpupin ${g.domain}`);
        t.regex(await virsh(LOCAL_URI, ["emulatorpin", g.domain]), /^\s*(\*:\s*)?0\s*$/m, `${name}'s emulator threads on housekeeping CPU 0`);
        t.regex(xml, /<hugepages>[\s\S]*<page size='2048' unit='KiB'/, `${name} is backed by 2 MiB hugepages`);
        t.regex(xml, /<shmem name='[^']*ring0[^']*'>\s*<model type='ivshmem-plain'\/>/, `${name} carries the ivshmem link`);
        const log = readFileSync(g.consoleLog, "utf8");
        t.regex(log, /Linux version \S+-rt-amd64/, `${name}'s console shows the RT kernel banner`);
        t.regex(log, new RegExp(`NFVKIT-READY name=${name} `), `${name}'s console shows the init's ready line`);
    }
    t.deepEqual(guests.vnf.vcpuPins, { "0": "0", "1": "1" }, "vnf's RT vCPU 1 sits on the isolated CPU 1, its housekeeping vCPU 0 on CPU 0");
    t.deepEqual(guests.peer.vcpuPins, { "0": "0" }, "peer's one housekeeping vCPU on CPU 0");
    t.is(hugepages2M(), hugepagesBefore + 256, "the pod reserved 2 x 256 MiB of 2 MiB pages");
    t.is(shmFilesWithPrefix(PREFIX).length, 1, "one shm file backs the link");

    // Both guests see the ivshmem PCI device, and a value one writes the other reads.
    await assertSharedMemory(t, guests.vnf, guests.peer);

    // Idempotence: nothing to do the second time.
    const again = await stack.run(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    t.is(again.code, 0, `second pulumi up reported changes:\n${again.stdout}\n${again.stderr}`);

    // Swapping the host's housekeeping and isolated CPUs moves every pin: the preview
    // says update (not replace) in guest terms, and the guests keep running.
    const swapped = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-e2e-")), "Pulumi.ci.yaml");
    writeFileSync(
        swapped,
        readFileSync("stacks/Pulumi.ci.yaml", "utf8")
            .replace(/housekeepingCpus: "0"/, 'housekeepingCpus: "1"')
            .replace(/isolatedCpus: "1"/, 'isolatedCpus: "0"'),
    );
    const preview = await stack.run(["preview", "--diff", "--config-file", swapped]);
    t.is(preview.code, 0, preview.stderr);
    t.regex(preview.stdout, /~ nfvkit:libvirt:Domain: \(update\)[\s\S]*\[urn=[^\]]*pod-vnf-domain\]/);
    t.regex(
        preview.stdout,
        /~ pinning\s*: \{\s*~ emulator: "host CPU 0" => "host CPU 1"\s*~ vCPU 0\s*: "host CPU 0" => "host CPU 1"\s*~ vCPU 1\s*: "host CPU 1, FIFO 1" => "host CPU 0, FIFO 1"/,
    );
    t.notRegex(preview.stdout, /\+-nfvkit:libvirt:Domain/, "no guest is replaced");
    const uptime = async (g: GuestOut) => Number((await guestShell(hostAccess(), g.domain, "cut -d' ' -f1 /proc/uptime")).stdout);
    const uptimeBefore = await uptime(guests.vnf);
    const moved = await stack.run(["up", "--yes", "--skip-preview", "--config-file", swapped]);
    t.is(moved.code, 0, moved.stdout + moved.stderr);
    t.true((await uptime(guests.vnf)) > uptimeBefore, "vnf kept running through the pinning change");
    t.regex(await virsh(LOCAL_URI, ["vcpupin", guests.vnf.domain]), /^\s*1\s+0\s*$/m, "libvirt reports vnf's RT vCPU 1 on CPU 0");
    t.regex(await virsh(LOCAL_URI, ["emulatorpin", guests.vnf.domain]), /^\s*(\*:\s*)?1\s*$/m, "emulator threads moved to CPU 1");

    // Destroy leaves nothing: no domain, no shm file, hugepages given back.
    const destroy = await stack.run(["destroy", "--yes", "--skip-preview"]);
    t.is(destroy.code, 0, destroy.stderr);
    t.deepEqual(await domainsWithPrefix(PREFIX), []);
    t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    t.is(hugepages2M(), hugepagesBefore);
});
