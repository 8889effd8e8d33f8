/**
 * virsh is never handed a libvirt URI that would make libvirt start its own
 * ssh with the user's setup (~/.ssh/config, known_hosts, keys) or reach a
 * host with no pinned access: a spec's qemu+ssh URI, qemu+tcp, qemu+libssh2,
 * qemu+ext, also as a migration's destination. Only this machine's daemon and
 * the qemu+ssh URIs an SSH HostAccess makes (the kit's wrapper, host-key
 * checking on) pass. The refusal comes before any process starts.
 */
import test from "ava";
import * as os from "node:os";
import * as path from "node:path";
import { libvirtSshUri, SSH_DIR_PREFIX, virsh } from "../../components/host/access";
import { unpinnedLibvirtUri, unpinnedVirshUri } from "../../components/host/access/libvirtUri";
import { formatProblem, ProblemListError } from "../../components/spec/problems";

const kitDir = path.join(os.tmpdir(), `${SSH_DIR_PREFIX}abc123`);
const pinned = libvirtSshUri(
    { name: "lab-1", host: "10.0.0.7", user: "root", port: 2222, privateKey: undefined, knownHostsLines: [], connectTimeoutSec: 10, controlPersistSec: 60 },
    { knownHostsFile: path.join(kitDir, "known_hosts"), sshWrapper: path.join(kitDir, "ssh") },
);

test("this machine's daemon and the kit's pinned qemu+ssh URIs pass", (t) => {
    for (const uri of ["qemu:///system", "test:///default", "test:///default/h0", pinned]) t.is(unpinnedLibvirtUri(uri), undefined, uri);
});

test("a remote URI the kit did not make is refused, whatever its transport", (t) => {
    const refused = [
        "qemu+ssh://root@lab-1/system",
        "qemu+ssh://root@lab-1:2222/system?known_hosts=/root/.ssh/known_hosts",
        // The kit's wrapper, but host-key checking turned off.
        pinned.replace("no_verify=0", "no_verify=1"),
        // A wrapper of the same name outside the kit's folders.
        pinned.replace(encodeURIComponent(kitDir), encodeURIComponent("/home/someone/bin")),
        "qemu+tcp://lab-1/system",
        "qemu+libssh2://root@lab-1/system",
        "qemu+ext://lab-1/system?command=/bin/sh",
        "qemu://lab-1/system",
    ];
    for (const uri of refused) t.not(unpinnedLibvirtUri(uri), undefined, uri);
    t.regex(unpinnedLibvirtUri("qemu+ssh://root@lab-1/system")!, /would read your ~\/\.ssh\/config, known_hosts and keys/);
});

test("a migration's destination is checked like the connection URI", (t) => {
    t.is(unpinnedVirshUri(pinned, ["migrate", "--live", "vnf", pinned]), undefined);
    t.deepEqual(unpinnedVirshUri(pinned, ["migrate", "--live", "vnf", "qemu+ssh://root@lab-2/system"])?.uri, "qemu+ssh://root@lab-2/system");
    t.is(
        unpinnedVirshUri("qemu:///system", ["migrate", "--live", "--xml", "/tmp/x.xml", "vnf", "tcp://10.0.0.8:49152"]),
        undefined,
        "QEMU's own stream URI is no libvirt connection",
    );
});

test("virsh refuses an unpinned URI with a problem, before any process starts", async (t) => {
    const err = await t.throwsAsync(virsh("qemu+ssh://root@lab-1/system", ["uri"], { host: "lab-1" }), { instanceOf: ProblemListError });
    t.deepEqual(err!.problems.map(formatProblem), [
        "libvirtUri: starts libvirt's own ssh, which would read your ~/.ssh/config, known_hosts and keys instead of the host's pinned access, so virsh was not started for host lab-1 (got \"qemu+ssh://root@lab-1/system\"). Fix: give the host ssh: access with pinned keys (privateKeySecret or agent: true, and knownHosts) and reach it through its HostAccess (libvirtUri())",
    ]);
    const dest = await t.throwsAsync(virsh("qemu:///system", ["migrate", "--live", "vnf", "qemu+tcp://lab-2/system"]), { instanceOf: ProblemListError });
    t.regex(dest!.message, /qemu\+tcp:\/\/lab-2\/system/);
});
