/**
 * The lab VM's boot wait (tools/lab/vm/vm.ts): a QEMU that exits while the VM
 * boots is said at once, with the console's last lines, instead of after the
 * whole SSH timeout (6 minutes, then 10 for the retry) of a VM that can never
 * answer.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { HostCommandError } from "../../components/host/access";
import { waitForSsh } from "../../tools/lab/vm/vm";

test("a QEMU that is gone fails the wait at once, naming its pid and showing the console's last lines", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-vmwait-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const console = path.join(dir, "console.log");
    writeFileSync(console, "Loading Linux 6.1.0-50-amd64 ...\n[    1.829943] pci 0000:00:02.0: BAR 1 [mem 0xfebd5000-0xfebd5fff]\n");
    // A pid that was a process and is gone: a child that has exited and been reaped.
    const gone = spawnSync("true").pid;
    const started = Date.now();
    // Port 9 on loopback: nothing answers there; the wait must not get as far as trying it for long.
    const target = { kind: "ssh" as const, name: "lab-rt-1", host: "127.0.0.1", port: 9, user: "root", knownHosts: ["127.0.0.1 ssh-ed25519 AAAA"] };
    const err = await t.throwsAsync(waitForSsh(target, 300, started, { pid: gone, console }), { instanceOf: HostCommandError });
    t.true(Date.now() - started < 5_000, "said at once, not after the 300 s timeout");
    t.regex(err!.message, new RegExp(`QEMU \\(pid ${gone}\\) exited \\d+ s into the boot, before SSH answered; its console's last lines:`));
    t.regex(err!.message, /pci 0000:00:02\.0: BAR 1/);
});
