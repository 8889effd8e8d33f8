/**
 * Reboots a host and waits until it is back: a new boot id, read over a new
 * connection (the old shared SSH connection dies with the host).
 */
import { accessOf, type HostAccess, type HostTarget } from "./access";
import { HostCommandError } from "./access/errors";

/** Returns the seconds from the reboot command to the host answering again. */
export async function rebootHost(host: HostAccess, target: HostTarget | undefined, timeoutSec: number): Promise<number> {
    const bootId = (await host.readFile("/proc/sys/kernel/random/boot_id")).trim();
    const started = Date.now();
    // Detached and delayed a second, so the command returns before sshd goes away.
    await host.run(["sh", "-c", "(sleep 1; systemctl reboot) >/dev/null 2>&1 </dev/null &"], { nothrow: true, timeoutMs: 30_000 });
    await host.close();
    const deadline = started + timeoutSec * 1000;
    let last = "no answer yet";
    await new Promise((r) => setTimeout(r, 5000));
    while (Date.now() < deadline) {
        const again = accessOf(target);
        try {
            const now = (await again.readFile("/proc/sys/kernel/random/boot_id")).trim();
            if (now !== bootId) {
                // Boot-time units (the tuning) finish before the kit checks them.
                await again.run(["systemctl", "is-system-running", "--wait"], { nothrow: true, timeoutMs: 600_000 });
                return (Date.now() - started) / 1000;
            }
            last = "still the old boot";
            await again.close();
        } catch (err) {
            last = (err as Error).message.split("\n")[0];
            await again.close();
        }
        await new Promise((r) => setTimeout(r, 3000));
    }
    throw new HostCommandError(
        host.name,
        ["cat", "/proc/sys/kernel/random/boot_id"],
        null,
        "",
        last,
        "timeout",
        `did not come back within ${timeoutSec} s of its reboot`,
    );
}
