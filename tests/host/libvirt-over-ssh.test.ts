/**
 * virsh through the SSH seam: libvirtUri() gives a qemu+ssh URI whose ssh is
 * ours (pinned keys, the shared connection), and virsh's errors keep the URI.
 * Read-only libvirt calls only; no domain is started.
 */
import { execFileSync } from "node:child_process";
import { SshHostAccess } from "../../components/host/access";
import { HostCommandError, isNoDomain, virsh } from "../../components/host/access";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd } from "../helpers/sshd";

function libvirtAnswers(): boolean {
    try {
        execFileSync("virsh", ["-c", "qemu:///system", "uri"], { stdio: "ignore", timeout: 20_000 });
        return true;
    } catch {
        return false;
    }
}

const test = realTest(sshdAvailable() && libvirtAnswers(), "an sshd for tests (root, openssh-server, iproute2) and a libvirtd answering on qemu:///system");

test("virsh reaches libvirt over the host's pinned, shared SSH connection", async (t) => {
    const sshd = await startSshd(t);
    const a = new SshHostAccess({ kind: "ssh", name: "lab-v", host: sshd.host, port: sshd.port, privateKey: sshd.privateKey, knownHosts: sshd.knownHosts });
    t.teardown(() => a.close());
    await a.run(["true"]);
    const uri = await a.libvirtUri();
    // No keyfile: there is no key file; the wrapper's config names the kit's ssh-agent.
    t.regex(uri, /^qemu\+ssh:\/\/root@10\.213\.\d+\.2:2222\/system\?command=[^&]*&known_hosts=[^&]*&no_verify=0&no_tty=1$/);
    t.is((await virsh(uri, ["uri"])).trim(), uri);
    t.is(sshd.acceptedLogins(), 1, "virsh rode on the connection the HostAccess opened");
});

test("virsh over SSH refuses a host whose key is not the pinned one", async (t) => {
    const sshd = await startSshd(t);
    const a = new SshHostAccess({ kind: "ssh", host: sshd.host, port: sshd.port, privateKey: sshd.privateKey, knownHosts: sshd.otherHostKey });
    t.teardown(() => a.close());
    const uri = await a.libvirtUri();
    const err = await t.throwsAsync(virsh(uri, ["uri"], { timeoutMs: 30_000 }), { instanceOf: HostCommandError });
    t.is(err!.uri, uri);
    t.regex(err!.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    t.is(sshd.acceptedLogins(), 0);
});

test("a local virsh failure is a HostCommandError with the URI and libvirt's words", async (t) => {
    const err = await t.throwsAsync(virsh("qemu:///system", ["dominfo", "nfvkit-no-such-domain"]), { instanceOf: HostCommandError });
    t.true(isNoDomain(err));
    t.is(err!.message, "virsh -c qemu:///system dominfo nfvkit-no-such-domain failed with exit code 1: error: failed to get domain 'nfvkit-no-such-domain'");
    t.is(err!.host, "local");
});
