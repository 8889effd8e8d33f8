/**
 * Reaches one host the way every kit command does, through its pinned
 * HostAccess: a command over the kit's ssh, and virsh over libvirt's own
 * qemu+ssh transport (libvirtUri()); then hands virsh the host's libvirt URI
 * as a spec writes it, which the kit must refuse. Run as a child process, so
 * a test can give it a HOME (and a /root) of its own. The target, private key
 * included, comes on stdin and never touches a file; prints one JSON line.
 */
import { closeHostAccesses, hostAccess, virsh, type SshTarget } from "../../components/host/access";

async function main(): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const { target, rawUri, withLibvirt } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { target: SshTarget; rawUri: string; withLibvirt: boolean };
    const out: { ran?: string; libvirtUri?: string; virshUri?: string; refused?: string } = {};
    try {
        const access = hostAccess(target);
        out.ran = (await access.run(["echo", "reached"])).stdout.trim();
        if (withLibvirt) {
            out.libvirtUri = await access.libvirtUri();
            out.virshUri = (await access.virsh(["uri"])).trim();
        }
        try {
            await virsh(rawUri, ["uri"], { host: target.name, timeoutMs: 20_000 });
        } catch (err) {
            out.refused = (err as Error).message;
        }
    } finally {
        await closeHostAccesses();
    }
    console.log(JSON.stringify(out));
}

main().catch((err: Error) => {
    console.error(err.stack ?? String(err));
    process.exit(1);
});
