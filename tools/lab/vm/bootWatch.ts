/**
 * The lab VM's power button, pressed for it when a boot stalls for good.
 *
 * Under TCG on a loaded machine, a boot of the lab VM now and then stalls
 * early: the guest kernel's timer stops firing on one CPU, its console
 * repeats RCU stall reports ("rcu_preempt kthread timer wakeup didn't
 * happen", "kthread starved for N jiffies") and SSH never answers. Such a
 * boot has not come back in any run seen (docs/rt-hosts.md); a real host does
 * not do this, and an operator would power-cycle it. The watch reads the VM's
 * console as it grows and, when the boot under way reports a starved RCU
 * kthread before its login prompt, calls `onStall`, which power-cycles the VM
 * (vm.ts). The stall is not tied to one boot: in a CI run (2026-12-07 14:34)
 * the boots after two `system_reset`s stalled at the same point, QEMU exited
 * during a third, a cold start stalled too, and the boot after that came up.
 * A power cycle (QEMU quits and starts again) also recovers a QEMU that
 * exited, which a reset cannot.
 *
 * Only boots are watched: once the login prompt is on the console, a stall
 * report belongs to what runs on the host, which is the host's to report, not
 * the lab's to hide.
 */
import * as fs from "node:fs";

/**
 * Each boot's kernel log starts with this line (the lab VM's kernel logs to its serial console, without `quiet`);
 * on the serial console its lines start and end with a carriage return.
 */
const BOOT_START = /^\r*\[\s*0\.000000\] Linux version /m;
/** getty on the serial console (its lines may start with a carriage return): the boot is over. */
const LOGIN_PROMPT = /^\r*\S+ login: /m;
/** The kernel's report of an RCU grace-period kthread that did not run: its timer never fired, or it never got a CPU. */
const STARVED = /rcu: rcu_\w+ kthread (?:timer wakeup didn't happen|starved) for \d+ jiffies/;

/** What the console shows of the boot under way. */
export type BootState = "booting" | "stalled" | "up";

/**
 * The state of the last boot in `console` (the whole console text so far):
 * "up" once its login prompt is there, "stalled" when it reported a starved
 * RCU kthread before that, "booting" otherwise (also before the first boot).
 */
export function bootState(console: string): BootState {
    const starts = [...console.matchAll(new RegExp(BOOT_START.source, "gm"))];
    const boot = starts.length === 0 ? console : console.slice(starts[starts.length - 1].index);
    const login = LOGIN_PROMPT.exec(boot);
    const stall = STARVED.exec(boot);
    if (stall && (!login || stall.index < login.index)) return "stalled";
    return login ? "up" : "booting";
}

export interface BootWatchOptions {
    /** The VM's serial console log, as QEMU appends to it. */
    console: string;
    /** What brings the VM back: a power cycle (vm.ts). The watch waits for it before it looks again. */
    onStall: (line: string) => Promise<void>;
    /**
     * Whether the VM's QEMU is gone while the VM should run (its state is still there). QEMU itself has
     * exited during a reset's boot (CI, 2026-12-07 14:34): gone at two checks in a row, it is powered on again.
     */
    qemuGone?: () => boolean;
    /** Where each power cycle is said. */
    log: (line: string) => void;
    /** @default 5000 */
    intervalMs?: number;
    /**
     * Power cycles after which the watch gives up, so a VM that stalls on every boot fails the wait that follows.
     * @default 8: in one CI run the stall came back in four boots in a row (two after a reset, one after a cold
     * start), and QEMU exited in another, before a boot came up; each try costs about a minute
     */
    maxCycles?: number;
}

export interface BootWatch {
    /** When each power cycle was started (ms since the epoch), and the stall line that caused it. */
    readonly cycles: { at: number; line: string }[];
    stop(): void;
}

/**
 * Watches the VM's boots until stopped, in this process: its timer does not
 * keep the process alive, so a command that started the VM still exits, and
 * a test that holds the VM has the watch for as long as it runs.
 */
export function watchBoots(o: BootWatchOptions): BootWatch {
    const cycles: { at: number; line: string }[] = [];
    const maxCycles = o.maxCycles ?? 8;
    let goneBefore = false;
    // The console after the last power cycle: the stalled boot's text stays in the file, before the next boot's.
    let from = 0;
    let busy = false;
    /** Says why, notes the cycle, moves past the console's `seen` characters, and waits for the power cycle. */
    const cycle = async (why: string, line: string, seen: number) => {
        o.log(`${why}; power-cycling the VM (${cycles.length + 1} of at most ${maxCycles})`);
        from += seen;
        cycles.push({ at: Date.now(), line });
        await o.onStall(line).catch((err: Error) => o.log(`the power cycle failed: ${err.message}`));
    };
    const check = async () => {
        if (busy || cycles.length >= maxCycles) return;
        busy = true;
        try {
            let text = "";
            try {
                text = fs.readFileSync(o.console, "utf8").slice(from);
            } catch {
                // no console yet, or the VM is gone
            }
            const gone = o.qemuGone?.() ?? false;
            if (gone && goneBefore) {
                goneBefore = false;
                await cycle("QEMU is gone while the VM should run", "QEMU exited", text.length);
                return;
            }
            goneBefore = gone;
            // After a power cycle, what the stalled boot wrote before it went is not a boot of its own.
            if (cycles.length > 0 && !BOOT_START.test(text)) return;
            if (bootState(text) !== "stalled") return;
            const line = STARVED.exec(text)?.[0] ?? "";
            await cycle(`the boot stalled (console: "${line}")`, line, text.length);
        } finally {
            busy = false;
        }
    };
    const timer = setInterval(() => void check(), o.intervalMs ?? 5_000);
    timer.unref();
    return {
        cycles,
        stop: () => clearInterval(timer),
    };
}
