/**
 * A process of its own that opens an SSH host the way the kit's commands do,
 * for tests of what it leaves on this machine. Run as
 * `node --import=tsx tests/helpers/sshClient.ts <mode>` (one process, so a
 * SIGKILL reaches the process that owns the files) with the target as JSON on
 * stdin. It prints "ready <its ssh directory>" once its first command has run.
 *
 * - exit: runs one command and lets the process end by itself (no close()).
 * - hold: also starts `sleep 300` on the host (a connection in use), then
 *   waits to be killed.
 */
import * as path from "node:path";
import { hostAccess, type SshTarget } from "../../components/host/access";
import type { SshHostAccess } from "../../components/host/access/ssh";

async function main(): Promise<void> {
    const mode = process.argv[2];
    let input = "";
    for await (const chunk of process.stdin) input += chunk;
    const target = JSON.parse(input) as SshTarget;
    const a = hostAccess(target) as SshHostAccess;
    await a.run(["true"]);
    const dir = path.dirname(await a.controlSocket());
    if (mode === "hold") {
        a.start(["sleep", "300"]);
        // The remote command is running once the host lists it.
        for (let i = 0; i < 100; i++) {
            const r = await a.run(["sh", "-c", "ps -eo args | grep -c '^sleep 300$' || true"]);
            if (r.stdout.trim() !== "0") break;
            await new Promise((r) => setTimeout(r, 100));
        }
        setInterval(() => undefined, 1000);
    }
    process.stdout.write(`ready ${dir}\n`);
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
});
