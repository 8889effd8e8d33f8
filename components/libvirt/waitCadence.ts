/**
 * How often a wait for a guest asks its host: the console's ready line, the
 * guest agent, whether QEMU still runs. Each question costs the host a
 * process, and on a remote host an SSH session with it: measured on the lab
 * VM under TCG, one console read over SSH took 230 ms of the VM's CPU and one
 * `virsh` 800 ms, so asking every quarter of a second during a nested guest's
 * ten-minute boot took about a third of a core from the very boot it waited
 * for (docs/rt-hosts.md, with the boot times before and after). A boot that
 * has already taken a minute is asked less often: the pause grows with the
 * time waited so far, so the answer comes at most 2.5 % later than it would
 * with constant asking, and a fast boot (a few seconds on KVM, 8 s under TCG
 * here) is asked as often as before.
 */

/** The pause before the next question, `waitedMs` into a wait: `floorMs` at first, then 1/40 of the time waited, at most 5 s. */
export function pauseBeforeNextAsk(waitedMs: number, floorMs: number): number {
    return Math.min(5_000, Math.max(floorMs, waitedMs / 40));
}

/** Time between two checks that QEMU still runs, `waitedMs` into a wait: every 2 s at first, a quarter of the time waited, at most 15 s. */
export function pauseBeforeStateCheck(waitedMs: number): number {
    return Math.min(15_000, Math.max(2_000, waitedMs / 4));
}
