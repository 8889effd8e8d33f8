/**
 * The lab VM's boot watch (tools/lab/vm/bootWatch.ts): a boot whose console
 * reports a starved RCU kthread before its login prompt is reset through
 * QEMU's monitor, once per stalled boot, at most maxResets times; a stall
 * report after the login prompt is left alone. The reset goes to a real QEMU
 * (paused, no disk), whose second monitor shows the RESET event.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bootState, watchBoots } from "../../tools/lab/vm/bootWatch";

// As the lab VM's serial console has it: the kernel's lines start and end with a carriage return.
const bootStart = (kernel: string) => `\r[    0.000000] Linux version ${kernel} (debian-kernel@lists.debian.org) (gcc-12) #1 SMP PREEMPT_DYNAMIC Debian\r\n`;
const stallReport = (jiffies: number) =>
    `[   44.120311] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n` +
    `[   44.121002] rcu: rcu_preempt kthread timer wakeup didn't happen for ${jiffies} jiffies! g2345 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402\n` +
    `[   44.121907] rcu: \tPossible timer handling issue on cpu=1 timer-softirq=812\n` +
    `[   44.122530] rcu: rcu_preempt kthread starved for ${jiffies + 3} jiffies! g2345 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x402 ->cpu=1\n`;
const loginPrompt = "\r\nDebian GNU/Linux 12 nfvkit-lab ttyS0\r\n\r\nnfvkit-lab login: ";
const someBoot = "[    1.829943] pci 0000:00:02.0: BAR 1 [mem 0xfebd5000-0xfebd5fff]\n[    9.100201] systemd[1]: Started systemd-journald.service\n";

test("the boot under way: booting, stalled before its login prompt, up after it; only the last boot counts", (t) => {
    t.is(bootState(""), "booting");
    t.is(bootState(bootStart("6.1.0-50-amd64") + someBoot), "booting");
    t.is(bootState(bootStart("6.1.0-50-amd64") + someBoot + stallReport(2502)), "stalled");
    // Only the starved kthread: a CPU that was slow to report a quiescent state may still come back.
    t.is(bootState(bootStart("6.1.0-50-amd64") + "[   44.120311] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:\n"), "booting");
    t.is(bootState(bootStart("6.1.0-50-amd64") + someBoot + loginPrompt), "up");
    // After the prompt, a stall is the host's own to report (a nested guest's load on an RT host), not a stalled boot.
    t.is(bootState(bootStart("6.1.0-50-amd64") + someBoot + loginPrompt + stallReport(3000)), "up");
    // The stalled boot, then the next one: that one is judged alone.
    t.is(bootState(bootStart("6.1.0-50-amd64") + stallReport(2502) + bootStart("6.1.0-50-amd64") + someBoot), "booting");
    t.is(bootState(bootStart("6.1.0-50-amd64") + stallReport(2502) + bootStart("6.1.0-50-amd64") + someBoot + loginPrompt), "up");
    const reboot = "\r\n[  OK  ] Reached target reboot.target - System Reboot.\r\n[  312.440021] reboot: Restarting system\n";
    t.is(bootState(bootStart("6.1.0-50-amd64") + loginPrompt + reboot + bootStart("6.1.0-50-rt-amd64") + stallReport(2502)), "stalled");
});

/** A QMP client that counts QEMU's RESET events. */
async function resetEvents(socket: string): Promise<{ count: () => number; close: () => void }> {
    let count = 0;
    let buffered = "";
    const conn = net.createConnection(socket);
    await new Promise<void>((resolve, reject) => {
        conn.once("error", reject);
        conn.on("data", (chunk) => {
            buffered += chunk.toString("utf8");
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const message = JSON.parse(buffered.slice(0, newline)) as { QMP?: unknown; return?: unknown; event?: string };
                buffered = buffered.slice(newline + 1);
                if (message.QMP !== undefined) conn.write('{"execute":"qmp_capabilities"}\n');
                if (message.return !== undefined) resolve();
                if (message.event === "RESET") count++;
            }
        });
    });
    return { count: () => count, close: () => conn.destroy() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
    }
}

test("a stalled boot is reset through QEMU's monitor once, a boot that reached its prompt never, and the watch gives up after maxResets", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-bootwatch-"));
    const [watched, listened, console] = ["watch.sock", "events.sock", "console.log"].map((f) => path.join(dir, f));
    // A real QEMU, paused before its first instruction: system_reset still resets the machine and says so.
    const qemu = spawn(
        "qemu-system-x86_64",
        [
            "-machine",
            "q35",
            "-accel",
            "tcg",
            "-S",
            "-nodefaults",
            "-display",
            "none",
            "-qmp",
            `unix:${watched},server=on,wait=off`,
            "-qmp",
            `unix:${listened},server=on,wait=off`,
        ],
        { stdio: "ignore" },
    );
    t.teardown(() => {
        qemu.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
    });
    await until("QEMU's monitors", () => existsSync(watched) && existsSync(listened));
    const events = await resetEvents(listened);
    t.teardown(() => events.close());

    const said: string[] = [];
    writeFileSync(console, bootStart("6.1.0-50-amd64") + someBoot);
    const watch = watchBoots({ console, qmpSocket: watched, log: (l) => said.push(l), intervalMs: 100, maxResets: 2 });
    t.teardown(() => watch.stop());
    await sleep(500);
    t.is(events.count(), 0, "a boot that goes on is left alone");

    appendFileSync(console, stallReport(2502));
    await until("a RESET event", () => events.count() === 1);
    t.is(watch.resets.length, 1);
    t.regex(watch.resets[0].line, /rcu_preempt kthread timer wakeup didn't happen for 2502 jiffies/);
    t.regex(said[0], /the boot stalled .*; resetting the VM through QEMU's monitor \(1 of at most 2\)/);
    // The same stalled boot keeps reporting until the reset's boot starts: still one reset.
    appendFileSync(console, stallReport(5000));
    await sleep(500);
    t.is(events.count(), 1, "one reset per stalled boot");

    // The next boot reaches its prompt; a stall after that is the host's to report.
    appendFileSync(console, bootStart("6.1.0-50-amd64") + someBoot + loginPrompt + stallReport(2502));
    await sleep(500);
    t.is(events.count(), 1, "a boot that reached its login prompt is never reset");

    // A reboot that stalls again, then again: two resets in all, then the watch leaves the VM to the wait's timeout.
    appendFileSync(console, bootStart("6.1.0-50-rt-amd64") + stallReport(2502));
    await until("the second RESET event", () => events.count() === 2);
    appendFileSync(console, bootStart("6.1.0-50-rt-amd64") + stallReport(2502));
    await sleep(500);
    t.is(events.count(), 2, "no more than maxResets");
    t.is(watch.resets.length, 2);
});
