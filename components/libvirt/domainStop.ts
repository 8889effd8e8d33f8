/**
 * A guest coming up, or not: the wait for its console's ready line (with the
 * console lines that mean a boot failed, and what to do about each), and why
 * a guest that should be running is not: libvirt's state reason and the last
 * words of its QEMU. A boot wait that polls a console or a guest agent
 * cannot tell a slow guest from a dead one, so it asks this, and a user gets
 * "QEMU crashed: <its assertion>" at once instead of a timeout minutes later.
 */
import { isNoDomain, type HostAccess } from "../host/access";
import { pauseBeforeNextAsk, pauseBeforeStateCheck } from "./waitCadence";

/**
 * A guest that did not come up while the kit waited for it, in its own words:
 * it `stopped` (libvirt's state and reason, QEMU's last lines), its console
 * showed a boot `failed` line (with the fix), or its console gave no ready
 * line in time (`timeout`, with the console's last lines).
 */
export class GuestBootError extends Error {
    private constructor(
        message: string,
        readonly domain: string,
        readonly why: "stopped" | "failed" | "timeout",
        /** `virsh domstate --reason`, e.g. "shut off (crashed)"; "" unless it stopped. */
        readonly state: string,
        /** QEMU's last lines from libvirt's log of the domain, or the console's; empty when unreadable. */
        readonly said: string[],
    ) {
        super(message);
        this.name = "GuestBootError";
    }

    /** The domain stopped while the kit waited for `waitingFor`. */
    static stopped(domain: string, state: string, qemuSaid: string[], waitingFor: string): GuestBootError {
        const message =
            `${domain} stopped while the kit waited for ${waitingFor}: libvirt says "${state}"` +
            (qemuSaid.length > 0 ? `; QEMU's log ends with:\n  ${qemuSaid.join("\n  ")}` : "");
        return new GuestBootError(message, domain, "stopped", state, qemuSaid);
    }

    /** Its console shows a line that means the boot failed. */
    static failed(domain: string, line: string, fix: string, consoleLog: string): GuestBootError {
        return new GuestBootError(`${domain} failed to boot: "${line}": ${fix}. Console log: ${consoleLog}`, domain, "failed", "", [line]);
    }

    /** Its console gave no `pattern` line within the time. */
    static timedOut(domain: string, pattern: string, consoleLog: string, timeoutMs: number, tail: string): GuestBootError {
        const message = `${domain}: no "${pattern}" line in ${consoleLog} within ${Math.round(timeoutMs / 1000)} s; the console's last lines:\n${tail}`;
        return new GuestBootError(message, domain, "timeout", "", tail.split("\n"));
    }

    /** QEMU itself died (an assertion, a signal), as opposed to a guest that powered off or was destroyed. */
    get qemuCrashed(): boolean {
        return this.why === "stopped" && /\(crashed\)/.test(this.state);
    }
}

/** "running", "shut off", "paused", ... as `virsh domstate` says it; with `reason`, followed by why, e.g. "shut off (crashed)". */
export async function domainState(host: HostAccess, name: string, opts: { reason?: boolean } = {}): Promise<string> {
    return (await host.virsh(["domstate", ...(opts.reason ? ["--reason"] : []), name])).trim();
}

/**
 * libvirt's state of `name` with its reason ("shut off (crashed)"), or
 * undefined while QEMU runs it (running, paused, in shutdown...) or when there
 * is no such domain (its own check reports that).
 */
export async function stoppedState(host: HostAccess, name: string): Promise<string | undefined> {
    try {
        const state = await domainState(host, name, { reason: true });
        return /^shut ?off|^crashed/.test(state) ? state : undefined;
    } catch (err) {
        if (isNoDomain(err)) return undefined;
        throw err;
    }
}

/**
 * What QEMU wrote about its last run in libvirt's per-domain log
 * (/var/log/libvirt/qemu/<name>.log on the host): the lines after its command
 * line, which name an assertion, an error or the signal that stopped it.
 */
export async function qemuLastWords(host: HostAccess, name: string, lines = 4): Promise<string[]> {
    const log = await host.tryReadFile(`/var/log/libvirt/qemu/${name}.log`).catch(() => undefined);
    if (!log) return [];
    const lastRun = log.slice(Math.max(0, log.lastIndexOf(": starting up ")));
    return lastRun
        .split("\n")
        .filter((line) => /qemu-system|assert|error|terminating|shutting down/i.test(line) && !/^(LC_ALL|PATH|HOME|XDG)|\\$/.test(line))
        .slice(-lines)
        .map((line) => line.trim());
}

/** Throws GuestBootError (stopped) when `name` is no longer run by QEMU; `waitingFor` says what the caller was waiting for. */
export async function throwIfStopped(host: HostAccess, name: string, waitingFor: string): Promise<void> {
    const state = await stoppedState(host, name);
    if (state !== undefined) throw GuestBootError.stopped(name, state, await qemuLastWords(host, name), waitingFor);
}

/** Console lines that mean the boot has failed, and what to do about each. */
export const BOOT_FAILURES: { line: RegExp; fix: string }[] = [
    {
        line: /Initramfs unpacking failed/,
        fix: "the guest's memory is too small to unpack the guest image: give it more memory (256M is enough for the default image)",
    },
    {
        line: /Kernel panic - not syncing: (System is deadlocked on memory|Out of memory)/,
        fix: "the guest ran out of memory while booting: give it more memory (256M is enough for the default image)",
    },
    { line: /Kernel panic - not syncing/, fix: "the guest kernel panicked: read the console log" },
];

export async function waitForConsoleLine(host: HostAccess, file: string, pattern: string, timeoutMs: number, domain: string): Promise<void> {
    const start = Date.now();
    const tailOf = (text: string) => text.split("\n").slice(-15).join("\n");
    let stateCheckedAt = start;
    while (Date.now() - start < timeoutMs) {
        const text = (await host.tryReadFile(file)) ?? "";
        if (text.includes(pattern)) return;
        for (const failure of BOOT_FAILURES) {
            const hit = failure.line.exec(text);
            if (hit) {
                const line = text.slice(text.lastIndexOf("\n", hit.index) + 1, text.indexOf("\n", hit.index)).trim();
                throw GuestBootError.failed(domain, line, failure.fix, file);
            }
        }
        // A dead QEMU writes no more: ask libvirt now and then rather than wait out the timeout.
        const now = Date.now();
        if (now - stateCheckedAt >= pauseBeforeStateCheck(now - start)) {
            await throwIfStopped(host, domain, `the "${pattern}" line on its console`);
            stateCheckedAt = Date.now();
        }
        await new Promise((r) => setTimeout(r, pauseBeforeNextAsk(Date.now() - start, 250)));
    }
    const tail = tailOf((await host.tryReadFile(file)) ?? "");
    throw GuestBootError.timedOut(domain, pattern, file, timeoutMs, tail);
}
