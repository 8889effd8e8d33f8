/**
 * The provider's operations reach a host only through its HostAccess. Here
 * the host is this machine seen through an sshd in its own network namespace
 * (same kernel and files, reached only over SSH with a pinned key), so the
 * real effects can be checked: hugepages reserved and given back, a shm file
 * made for QEMU's user, a guest booted, its console read and its RT vCPU's
 * FIFO priority changed, all over SSH, with the secret key in the engine's
 * secret envelope as the provider receives it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import * as hugepages from "../../components/host/hugepageOperations";
import { closeHostAccesses, type SshTarget } from "../../components/host/access";
import * as domainOps from "../../components/libvirt/domainOperations";
import type { DomainOutputs } from "../../components/libvirt/domainOperations";
import * as shm from "../../components/libvirt/shmOperations";
import { virsh } from "../../components/host/access/virsh";
import { ensureGuestImage } from "../../guest-images/build";
import { hugepages2M, hugepagesSettled, LOCAL_URI, removeDomainsWithPrefix } from "../helpers/host";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd } from "../helpers/sshd";
import { domainInputs, PROVIDER_TEST_PREFIX, vcpuThreadPriority } from "../helpers/domainInputs";

const test = realTest(sshdAvailable() && existsSync("/run/libvirt/libvirt-sock"), "an sshd for tests and a running libvirtd");

/** How the engine hands a secret input to a provider. */
const secret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });

test("hugepages, a shm file and a guest, created, changed and removed over SSH", async (t) => {
    const sshd = await startSshd(t);
    t.teardown(async () => {
        await removeDomainsWithPrefix(PROVIDER_TEST_PREFIX);
        await closeHostAccesses();
    });
    const access = {
        kind: "ssh",
        name: "lab-ssh",
        host: sshd.host,
        port: sshd.port,
        privateKey: secret(sshd.privateKey),
        knownHosts: sshd.knownHosts,
    } as unknown as SshTarget;
    const ctx = (name: string) => ({ urn: `urn:pulumi:ssh-test::nfv-testpod::nfvkit:host:HugepageReservation::${name}` });

    // Hugepages: reserved, counted in the host's ledger, given back.
    const before = await hugepagesSettled();
    const reservation = { uri: "qemu+ssh://lab-ssh/system", host: "lab-ssh", node: 0, sizeKiB: 2048, count: 64, access };
    const created = await hugepages.create(reservation, ctx("pages"));
    t.is(hugepages2M(), before + 64);
    const read = await hugepages.read(created.id, created.outs, ctx("pages"));
    t.is(read.props.count, 64, "refresh reads the reservation from the host's ledger");
    await hugepages.delete(created.id, created.outs, ctx("pages"));
    t.is(hugepages2M(), before);
    t.is((await hugepages.read(created.id, created.outs, ctx("pages"))).id, "", "gone from the ledger");

    // A hugepage-backed shm file, owned by QEMU's user.
    const path = `/dev/hugepages/${PROVIDER_TEST_PREFIX}-ssh-link`;
    const region = await shm.create({ uri: "qemu+ssh://lab-ssh/system", path, sizeBytes: 2 * 1024 * 1024, hugepages: true, access }, ctx("link"));
    t.is(statSync(path).uid, statSync("/var/lib/libvirt/qemu").uid);
    await shm.delete(region.id, region.outs, ctx("link"));
    t.false(existsSync(path));

    // A guest: defined and started through virsh over SSH, its console read over SSH, its FIFO priority set over SSH.
    const image = await ensureGuestImage();
    const first = { ...(await domainInputs(image, 0, "256M", { fifoPriority: 1 })), access };
    const guest = await domainOps.create(first, ctx("guest"));
    t.is((await virsh(LOCAL_URI, ["domstate", first.name])).trim(), "running");
    const raised = { ...(await domainInputs(image, 0, "256M", { fifoPriority: 4 })), access };
    await domainOps.update(guest.id, guest.outs as DomainOutputs, raised, ctx("guest"));
    t.deepEqual(vcpuThreadPriority(first.name, 1), { policy: "SCHED_FIFO", priority: 4 });
    await domainOps.delete(guest.id, guest.outs as DomainOutputs);
    t.is(execFileSync("virsh", ["-c", LOCAL_URI, "list", "--all", "--name"], { encoding: "utf8" }).includes(first.name), false);
    t.true(sshd.acceptedLogins() <= 2, `one shared connection (plus libvirt's own), not one login per command: ${sshd.acceptedLogins()}`);
});
