/**
 * The lab VM's power button, pressed for it when a boot stalls for good.
 *
 * Under TCG on a loaded machine, a boot of the lab VM now and then stalls
 * early: the guest kernel's timer stops firing, its console repeats RCU stall
 * reports ("rcu_preempt kthread timer wakeup didn't happen", "kthread starved
 * for N jiffies") and SSH never answers. Such a boot has not come back in any
 * run seen (docs/rt-hosts.md); a real host does not do this, and an operator
 * would power-cycle it. The watch reads the VM's console as it grows and, when
 * the boot under way reports a starved RCU kthread before its login prompt,
 * resets the VM through QEMU's monitor (QMP `system_reset`), so the kit's and
 * the tests' waits for SSH see a second boot instead of their timeout.
 *
 * Only boots are watched: once the login prompt is on the console, a stall
 * report belongs to what runs on the host, which is the host's to report, not
 * the lab's to hide.
 */
import * as fs from "node:fs";
import * as net from "node:net";

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

/** Sends one QMP command to the monitor at `socket`; resolves once QEMU answered it. */
export async function qmp(socket: string, command: string, timeoutMs = 10_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        const conn = net.createConnection(socket);
        const timer = setTimeout(() => {
            conn.destroy();
            reject(new Error(`QEMU's monitor at ${socket} did not answer ${command} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        let buffered = "";
        let step = 0;
        conn.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`QEMU's monitor at ${socket}: ${err.message}`));
        });
        conn.on("data", (chunk) => {
            buffered += chunk.toString("utf8");
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const message = JSON.parse(buffered.slice(0, newline)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
                buffered = buffered.slice(newline + 1);
                if (message.error) {
                    clearTimeout(timer);
                    conn.destroy();
                    reject(new Error(`QEMU refused ${step === 1 ? "qmp_capabilities" : command}: ${message.error.desc}`));
                    return;
                }
                // The greeting, then the answer to qmp_capabilities, then the command's; events in between are skipped.
                if (message.QMP !== undefined && step === 0) {
                    step = 1;
                    conn.write('{"execute":"qmp_capabilities"}\n');
                } else if (message.return !== undefined && step === 1) {
                    step = 2;
                    conn.write(`${JSON.stringify({ execute: command })}\n`);
                } else if (message.return !== undefined && step === 2) {
                    clearTimeout(timer);
                    conn.end();
                    resolve();
                }
            }
        });
    });
}

export interface BootWatchOptions {
    /** The VM's serial console log, as QEMU writes it. */
    console: string;
    /** QEMU's QMP socket. */
    qmpSocket: string;
    /** Where each reset is said. */
    log: (line: string) => void;
    /** @default 5000 */
    intervalMs?: number;
    /** Resets after which the watch gives up, so a VM that stalls on every boot fails the wait that follows. @default 3 */
    maxResets?: number;
}

export interface BootWatch {
    /** When each reset was sent (ms since the epoch), and the stall line that caused it. */
    readonly resets: { at: number; line: string }[];
    stop(): void;
}

/**
 * Watches the VM's boots until stopped, in this process: its timer does not
 * keep the process alive, so a command that started the VM still exits, and
 * a test that holds the VM has the watch for as long as it runs.
 */
export function watchBoots(o: BootWatchOptions): BootWatch {
    const resets: { at: number; line: string }[] = [];
    const maxResets = o.maxResets ?? 3;
    // The console after the last reset: QEMU keeps writing to the same file, and the stalled boot's text stays in it.
    let from = 0;
    let busy = false;
    const check = async () => {
        if (busy || resets.length >= maxResets) return;
        busy = true;
        try {
            let text: string;
            try {
                text = fs.readFileSync(o.console, "utf8").slice(from);
            } catch {
                return; // no console yet, or the VM is gone
            }
            // After a reset, what the stalled boot wrote before the reset took hold is not a boot of its own.
            if (resets.length > 0 && !BOOT_START.test(text)) return;
            if (bootState(text) !== "stalled") return;
            const line = STARVED.exec(text)?.[0] ?? "";
            o.log(`the boot stalled (console: "${line}"); resetting the VM through QEMU's monitor (${resets.length + 1} of at most ${maxResets})`);
            from += text.length;
            resets.push({ at: Date.now(), line });
            await qmp(o.qmpSocket, "system_reset").catch((err: Error) => o.log(`the reset failed: ${err.message}`));
        } finally {
            busy = false;
        }
    };
    const timer = setInterval(() => void check(), o.intervalMs ?? 5_000);
    timer.unref();
    return {
        resets,
        stop: () => clearInterval(timer),
    };
}
