/**
 * End to end with the real engine, real libvirt and real QEMU guests: the CI
 * stack's pod comes up, its guests share memory through the ivshmem link, a
 * second `up` changes nothing, and `destroy` leaves nothing behind.
 */
import test from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, LOCAL_URI, shmFilesWithPrefix } from "../helpers/host";
import { assertSharedMemory } from "../helpers/ivshmem";
import { useStack } from "../helpers/stack";

const PREFIX = "nfv-testpod-ci";

interface GuestOut {
    domain: string;
    uri: string;
    consoleLog: string;
    bootSeconds: number;
    vcpuPins: Record<string, string>;
}

test.serial("pulumi up brings up the CI pod; guests share memory over ivshmem; a second up changes nothing; destroy removes everything", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const stack = useStack(t, "ci", PREFIX);

    const up = await stack.up();
    t.regex(up.stdout, /created/);
    const outputs = await stack.outputs();
    const guests = outputs.guests as Record<string, GuestOut>;
    t.deepEqual(Object.keys(guests).sort(), ["peer", "vnf"]);
    t.regex(String((outputs.accel as Record<string, string>).local), /^(KVM|TCG)/, "the accelerator and its reason are stack outputs");

    // What libvirt holds is what the spec asked for.
    for (const [name, g] of Object.entries(guests)) {
        t.true(g.domain.startsWith(PREFIX), `${name}'s domain carries the stack prefix`);
        const xml = await virsh(LOCAL_URI, ["dumpxml", g.domain]);
        t.regex(xml, /<vcpupin vcpu='0' cpuset='\d+'\/>/, `${name} has its vCPU pinned`);
        t.regex(xml, /<emulatorpin cpuset='\d+'\/>/, `${name} has its emulator threads pinned`);
        t.regex(xml, /<hugepages>[\s\S]*<page size='2048' unit='KiB'/, `${name} is backed by 2 MiB hugepages`);
        t.regex(xml, /<shmem name='[^']*ring0[^']*'>\s*<model type='ivshmem-plain'\/>/, `${name} carries the ivshmem link`);
        const log = readFileSync(g.consoleLog, "utf8");
        t.regex(log, /Linux version \S+-rt-amd64/, `${name}'s console shows the RT kernel banner`);
        t.regex(log, new RegExp(`NFVKIT-READY name=${name} `), `${name}'s console shows the init's ready line`);
    }
    t.deepEqual(guests.vnf.vcpuPins, { "0": "0", "1": "1" }, "vnf's RT vCPU 1 sits on the isolated CPU 1, its housekeeping vCPU 0 on CPU 0");
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
