/**
 * Drift: what changes on the host behind the kit's back shows in `pulumi
 * refresh`, and the next `up` puts it back: a removed guest is created again,
 * a vCPU pin moved with virsh is set back live (the guest keeps running).
 */
import test from "ava";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { domainsWithPrefix, LOCAL_URI } from "../helpers/host";
import { useStack } from "../helpers/stack";

const PREFIX = "nfv-testpod-ci";
const uptime = async (domain: string) => Number((await guestShell(hostAccess(), domain, "cut -d' ' -f1 /proc/uptime")).stdout);

test.serial("refresh shows a guest removed and a pin moved out of band; up recreates the one and moves the other back live", async (t) => {
    const stack = useStack(t, "ci", PREFIX);
    await stack.up();
    const vnf = `${PREFIX}-vnf`;
    const peer = `${PREFIX}-peer`;

    // Someone removes vnf and moves peer's vCPU 0 from CPU 0 to CPU 1 with virsh.
    await virsh(LOCAL_URI, ["destroy", vnf]);
    await virsh(LOCAL_URI, ["undefine", vnf]);
    await virsh(LOCAL_URI, ["vcpupin", peer, "0", "1", "--live", "--config"]);
    const peerUptime = await uptime(peer);

    const refresh = await stack.run(["refresh", "--yes", "--skip-preview", "--diff"]);
    t.is(refresh.code, 0, refresh.stdout + refresh.stderr);
    t.regex(refresh.stdout, /-\s+nfvkit:libvirt:Domain: \(delete\)[\s\S]*pod-vnf-domain/, "refresh shows vnf's domain gone");
    t.regex(refresh.stdout, /~ pinning\s*: \{[\s\S]*~ vCPU 0\s*: "host CPU 0" => "host CPU 1"/, "refresh shows peer's moved pin in guest terms");

    const preview = await stack.run(["preview", "--diff"]);
    t.regex(preview.stdout, /\+ nfvkit:libvirt:Domain: \(create\)[\s\S]*pod-vnf-domain/, "the next up will create vnf again");
    t.regex(preview.stdout, /~ vCPU 0\s*: "host CPU 1" => "host CPU 0"/, "and move peer's pin back");
    t.notRegex(preview.stdout, /\+-\s*nfvkit:libvirt:Domain/, "without replacing peer");

    await stack.up();
    t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [peer, vnf]);
    t.regex(await virsh(LOCAL_URI, ["vcpupin", peer]), /^\s*0\s+0\s*$/m, "peer's vCPU 0 is back on CPU 0");
    t.true((await uptime(peer)) > peerUptime, "peer kept running: the pin was moved back live");

    const again = await stack.run(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    t.is(again.code, 0, `after the repair, up has nothing left to do:\n${again.stdout}`);
});
