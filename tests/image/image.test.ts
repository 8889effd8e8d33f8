/**
 * Boots the real guest image under TCG (no libvirt) and checks what a user of
 * the kit relies on: the RT kernel boots, the ready line names the guest, the
 * guest agent runs commands, and the probe tools are there and work.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ensureGuestImage } from "../../guest-images/build";
import { hasPvhNote } from "../../guest-images/pvh";
import { bootGuest } from "../helpers/qemuBoot";

const BOOT_TIMEOUT_MS = 120_000;

/** Debian version without epoch and revision, e.g. 1:7.2+dfsg-7 -> 7.2 ("+dfsg" dropped too). */
function upstream(debianVersion: string): string {
    return debianVersion
        .replace(/^\d+:/, "")
        .replace(/-[^-]*$/, "")
        .replace(/\+.*$/, "");
}

test("guest image boots under TCG, prints its ready line and runs commands through the guest agent", async (t) => {
    const image = await ensureGuestImage({ log: (l) => t.log(l) });
    // Debian's RT kernel has a PVH entry, so the image ships it uncompressed and QEMU starts it there (no decompression).
    t.is(path.basename(image.kernel), "vmlinux");
    t.true(hasPvhNote(readFileSync(image.kernel)), "the image's kernel is an ELF with a PVH entry");
    const guest = bootGuest(t, { kernel: image.kernel, initrd: image.initrd, name: "t1" });

    await guest.waitForConsole(new RegExp(`Linux version ${image.kernelVersion.replace(/[.+]/g, "\\$&")} `), BOOT_TIMEOUT_MS);
    const bannerMs = guest.elapsedMs();
    const ready = await guest.waitForConsole(/^NFVKIT-READY [^\r\n]*\r?\n/m, BOOT_TIMEOUT_MS);
    const readyMs = guest.elapsedMs();
    t.log(`kernel banner after ${bannerMs} ms, ready line after ${readyMs} ms (TCG)`);
    t.is(ready[0].trim(), `NFVKIT-READY name=t1 kernel=${image.kernelVersion} preempt=rt`);
    t.is(guest.console().match(/^NFVKIT-READY/gm)?.length, 1, "exactly one ready line");
    t.notRegex(guest.console(), /nfvkit-init: .*failed/);

    await guest.agent.sync();
    const basic = await guest.agent.sh("cyclictest --help >/dev/null 2>&1; echo ok; uname -r; hostname; cat /sys/kernel/realtime");
    t.is(basic.exitCode, 0, basic.stderr);
    t.is(basic.stdout, `ok\n${image.kernelVersion}\nt1\n1\n`);

    // Each probe tool starts and reports the version of the package it came from.
    const probes: Array<{ cmd: string; exitCodes: number[]; expect: RegExp }> = [
        { cmd: "cyclictest --help", exitCodes: [0], expect: /^cyclictest V \d+\.\d+/m },
        { cmd: "oslat --version", exitCodes: [0], expect: /^oslat V \d+\.\d+/m },
        // rtla prints its usage for --help, and exits 1 at bookworm's version (6.1), 0 at backports' (6.12), which a host
        // gets when apt had to take its tools from there (tools/setup-host.sh); the version is the kernel's tools version.
        { cmd: "rtla --help", exitCodes: [0, 1], expect: new RegExp(`^rtla version ${upstream(image.tools.rtla).split(".").slice(0, 2).join("\\.")}`, "m") },
        { cmd: "timerlat --help", exitCodes: [0, 1], expect: /^timerlat version /m },
        { cmd: "qemu-ga --version", exitCodes: [0], expect: new RegExp(`^QEMU Guest Agent ${upstream(image.tools["qemu-ga"]).replace(/\./g, "\\.")}`, "m") },
    ];
    for (const p of probes) {
        const r = await guest.agent.sh(`${p.cmd} 2>&1`);
        t.true(r.exitCode !== null && p.exitCodes.includes(r.exitCode), `${p.cmd} exited ${r.exitCode}, not ${p.exitCodes.join(" or ")}: ${r.stdout}`);
        t.regex(r.stdout, p.expect, p.cmd);
    }

    // cyclictest really measures: one thread, 1 s, summary line with a max latency.
    const cyc = await guest.agent.sh("cyclictest -q -m -t 1 -i 1000 -D 1 2>&1");
    t.is(cyc.exitCode, 0, cyc.stdout);
    t.regex(cyc.stdout, /^T: 0 \(\s*\d+\) P:\s*\d+ I:1000 C:\s*\d+ Min:\s*\d+ Act:\s*\d+ Avg:\s*\d+ Max:\s*\d+/m);

    // The guest load (`load: guest`): nfvkit-load keeps the vCPUs it is given busy for the time it is given, then exits.
    // What a user would check: the vCPU's busy time in /proc/stat (user, nice, system; 100 per second) grows by about
    // the 2 s, where the idle guest's would not, and the tool exits 0. This guest has one vCPU.
    const busy = "awk '/^cpu0 /{print $2+$3+$4}' /proc/stat";
    const loaded = await guest.agent.sh(`a=$(${busy}); nfvkit-load 0 2; rc=$?; b=$(${busy}); echo "$rc $((b - a))"`);
    const [rc, jiffies] = loaded.stdout.trim().split(" ").map(Number);
    t.is(rc, 0, loaded.stdout);
    t.true(jiffies >= 150, `vCPU 0 busy for ${jiffies / 100} s of nfvkit-load's 2 s`);
    const refused = await guest.agent.sh("nfvkit-load 0 0 2>&1");
    t.is(refused.exitCode, 2);
    t.regex(refused.stdout, /^nfvkit-load: SECONDS must be a whole number above 0$/m);

    // The latency probes need these tracers in the RT kernel.
    const tracers = await guest.agent.sh("cat /sys/kernel/tracing/available_tracers");
    t.is(tracers.exitCode, 0, tracers.stderr);
    t.log(`available tracers: ${tracers.stdout.trim()}`);
    const names = tracers.stdout.trim().split(/\s+/);
    t.true(names.includes("osnoise"), "osnoise tracer");
    t.true(names.includes("timerlat"), "timerlat tracer");

    const mounts = await guest.agent.sh("cat /proc/mounts");
    t.regex(mounts.stdout, /^tracefs \/sys\/kernel\/tracing tracefs /m);
    t.regex(mounts.stdout, /^hugetlbfs \/dev\/hugepages hugetlbfs /m);

    // libvirt's `virsh shutdown --mode agent` sends guest-shutdown; the guest must power off.
    await guest.agent.send("guest-shutdown", { mode: "powerdown" });
    t.regex(await guest.waitForExit(60_000), /^QEMU exited \(code 0/);
});
