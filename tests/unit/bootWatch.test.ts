/**
 * The lab VM's boot watch (tools/lab/vm/bootWatch.ts): a boot whose console
 * reports a starved RCU kthread before its login prompt is power-cycled, once
 * per stalled boot, at most maxCycles times; a stall report after the login
 * prompt is left alone. The power cycle (tools/lab/vm/vm.ts) runs on a real
 * QEMU (paused, no disk): the old one quits through its monitor, a new one
 * starts with the same arguments, and the console keeps what it had.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bootState, watchBoots } from "../../tools/lab/vm/bootWatch";
import { qmp } from "../../tools/lab/vm/qmp";
import { powerCycle, VMLAB_STATE_DIR, type VmState } from "../../tools/lab/vm/vm";
import { waitFor } from "../helpers/engineRun";

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a stalled boot is power-cycled once, a boot that reached its prompt never, and the watch gives up after maxCycles", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-bootwatch-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const console = path.join(dir, "console.log");
    const cycled: string[] = [];
    const said: string[] = [];
    writeFileSync(console, bootStart("6.1.0-50-amd64") + someBoot);
    const watch = watchBoots({ console, onStall: async (line) => void cycled.push(line), log: (l) => said.push(l), intervalMs: 100, maxCycles: 2 });
    t.teardown(() => watch.stop());
    await sleep(500);
    t.deepEqual(cycled, [], "a boot that goes on is left alone");

    appendFileSync(console, stallReport(2502));
    await waitFor("a power cycle", () => cycled.length === 1, 10_000, 50);
    t.regex(cycled[0], /rcu_preempt kthread timer wakeup didn't happen for 2502 jiffies/);
    t.is(watch.cycles.length, 1);
    t.regex(said[0], /the boot stalled .*; power-cycling the VM \(1 of at most 2\)/);
    // The same stalled boot keeps reporting until the next boot starts: still one power cycle.
    appendFileSync(console, stallReport(5000));
    await sleep(500);
    t.is(cycled.length, 1, "one power cycle per stalled boot");

    // The next boot reaches its prompt; a stall after that is the host's to report.
    appendFileSync(console, bootStart("6.1.0-50-amd64") + someBoot + loginPrompt + stallReport(2502));
    await sleep(500);
    t.is(cycled.length, 1, "a boot that reached its login prompt is never power-cycled");

    // A reboot that stalls, then again: two power cycles in all, then the watch leaves the VM to the wait's timeout.
    appendFileSync(console, "\n" + bootStart("6.1.0-50-rt-amd64") + stallReport(2502));
    await waitFor("the second power cycle", () => cycled.length === 2, 10_000, 50);
    appendFileSync(console, bootStart("6.1.0-50-rt-amd64") + stallReport(2502));
    await sleep(500);
    t.is(cycled.length, 2, "no more than maxCycles");
});

test("a QEMU that is gone while the VM should run is powered on again, once it is gone at two checks in a row", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-bootwatch-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const console = path.join(dir, "console.log");
    writeFileSync(console, bootStart("6.1.0-50-amd64") + someBoot);
    let gone = false;
    const cycled: string[] = [];
    const watch = watchBoots({
        console,
        onStall: async (line) => {
            cycled.push(line);
            gone = false;
        },
        qemuGone: () => gone,
        log: () => undefined,
        intervalMs: 100,
    });
    t.teardown(() => watch.stop());
    await sleep(500);
    t.deepEqual(cycled, [], "a running QEMU is left alone");
    gone = true;
    await waitFor("the power-on", () => cycled.length === 1, 10_000, 50);
    t.deepEqual(cycled, ["QEMU exited"]);
    await sleep(500);
    t.is(cycled.length, 1, "once: the new QEMU runs");
});

test("a power cycle quits QEMU through its monitor and starts it again with the same arguments; the console keeps its lines", async (t) => {
    // A VM of the lab's state folder under a name of this test's own: QEMU paused before its first instruction, no disk.
    const name = `nfvkit-vmlab-unittest-${process.pid}`;
    const dir = path.join(VMLAB_STATE_DIR, name);
    mkdirSync(dir, { recursive: true });
    const [console, pidFile, qmpSocket] = ["console.log", "qemu.pid", "qmp.sock"].map((f) => path.join(dir, f));
    const args = [
        ...["-name", name, "-machine", "q35", "-accel", "tcg", "-S", "-nodefaults", "-display", "none"],
        ...["-chardev", `file,id=console,path=${console},append=on`, "-serial", "chardev:console"],
        ...["-daemonize", "-pidfile", pidFile, "-qmp", `unix:${qmpSocket},server=on,wait=off`],
    ];
    const pidNow = () => Number(readFileSync(pidFile, "utf8").trim());
    t.teardown(() => {
        try {
            process.kill(pidNow(), "SIGKILL");
        } catch {
            // already gone
        }
        rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(console, "the stalled boot's lines\n");
    t.is(spawnSync("qemu-system-x86_64", args, { stdio: "ignore" }).status, 0, "QEMU starts");
    const first = pidNow();
    const state: VmState = { name, dir, pid: first, sshPort: 0, console, qmpSocket, args, image: "", bootSeconds: 0 };
    writeFileSync(path.join(dir, "state.json"), JSON.stringify(state));

    const second = await powerCycle(name);
    t.not(second, first, "another QEMU");
    t.throws(() => process.kill(first, 0), undefined, "the first one is gone");
    t.notThrows(() => process.kill(second, 0), "the second one runs");
    t.is((JSON.parse(readFileSync(path.join(dir, "state.json"), "utf8")) as VmState).pid, second, "the state names it");
    t.is(readFileSync(console, "utf8"), "the stalled boot's lines\n", "the console was appended to, not emptied");
    await t.notThrowsAsync(qmp(qmpSocket, "query-status"), "its monitor answers");

    // A QEMU that exited by itself (one did, during a boot after a reset) is started again.
    process.kill(second, "SIGKILL");
    await waitFor(
        "the second QEMU to go",
        () => {
            try {
                process.kill(second, 0);
                return false;
            } catch {
                return true;
            }
        },
        10_000,
        50,
    );
    const third = await powerCycle(name);
    t.notThrows(() => process.kill(third, 0), "a third one runs");
});
