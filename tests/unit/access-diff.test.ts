/**
 * A host's access is a real input (issue 20, finding 1): through the provider
 * as the engine calls it, a new key, pin, user, port or address is an update
 * of every resource kind on that host, never a replacement; an access-only
 * update touches nothing but a login and stores the new access as it came
 * (its key still in the secret envelope); and read and delete take the
 * stack's current access from the environment the kit's commands set.
 */
import test from "ava";
import { CURRENT_ACCESS_ENV, currentAccessEnv, newestAccess, type SshTarget } from "../../components/host/access";
import { makeNfvkitProvider } from "../../components/provider/provider";
import { tokens } from "../../components/tokens";

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const secret = (value: string) => ({ [SIG_KEY]: SECRET, value });

const urn = (type: string, name: string, stack = "lab") => `urn:pulumi:${stack}::nfv-testpod::nfvkit:pod:TestPod$${type}::${name}`;

/** The access the last up stored: key A, the host's first pin. */
const keyA: SshTarget = {
    kind: "ssh",
    name: "lab-1",
    host: "10.77.0.2",
    user: "root",
    port: 22,
    privateKey: secret("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n") as unknown as string,
    knownHosts: ["10.77.0.2 ssh-ed25519 AAAAC3first"],
};

/** Each way the access can change, as a person edits the stack's ssh: block. */
const changes: [string, SshTarget][] = [
    ["a new key", { ...keyA, privateKey: secret("-----BEGIN OPENSSH PRIVATE KEY-----\nBBBB\n-----END OPENSSH PRIVATE KEY-----\n") as unknown as string }],
    ["a re-pinned host key", { ...keyA, knownHosts: ["10.77.0.2 ssh-ed25519 AAAAC3reinstalled"] }],
    ["another user", { ...keyA, user: "nfv" }],
    ["another port", { ...keyA, port: 2222 }],
    ["another address", { ...keyA, host: "10.77.0.9" }],
    ["the user's agent instead of a key", { ...keyA, privateKey: undefined, agent: true }],
];

const cputune = { vcpuPins: { "0": "0", "1": "1" }, emulatorPin: "0", iothreadPins: {}, fifo: { "1": 1 } };

/** One resource of each kind on host lab-1, as its state holds it. */
const kinds: [string, Record<string, unknown>][] = [
    [
        tokens.domain,
        {
            uri: "qemu+ssh://root@10.77.0.2/system",
            name: "nfv-testpod-lab-g1",
            xml: "<domain type='qemu'><name>nfv-testpod-lab-g1</name><cputune><vcpupin vcpu='0' cpuset='0'/></cputune></domain>",
            cputune,
            pinning: { "vCPU 0": "host CPU 0" },
            facts: { memory: "256 MiB", vcpus: "2" },
            consoleLog: "/var/log/nfvkit/g1.log",
            readyPattern: "nfvkit-guest-ready",
            bootTimeoutSec: 300,
            uuid: "6f1c3a9e-0000-4000-8000-000000000001",
            runState: "running",
        },
    ],
    [tokens.shmRegion, { uri: "qemu+ssh://root@10.77.0.2/system", path: "/dev/shm/nfv-testpod-lab-ring0", sizeBytes: 2097152, hugepages: false }],
    [tokens.hugepageReservation, { uri: "qemu+ssh://root@10.77.0.2/system", host: "lab-1", node: 0, sizeKiB: 2048, count: 128, poolAfter: 128 }],
    [tokens.guestImage, { host: "lab-1", hash: "abc123", files: ["/var/lib/nfvkit/images/abc123/vmlinuz"], copied: "copied" }],
    [tokens.sriovPf, { host: "lab-1", pf: "ens1f0", numVfs: 2, vfs: [{ index: 0 }, { index: 1 }], pciAddress: "0000:3b:00.0" }],
    [
        tokens.rtHost,
        {
            host: "lab-1",
            kernelPackage: "linux-image-rt-amd64",
            kernelArgs: ["isolcpus=2-3"],
            housekeepingCpus: "0-1",
            isolatedCpus: "2-3",
            allowReboot: false,
            checks: [{ name: "cmdline", pass: true }],
        },
    ],
];

for (const [type, props] of kinds) {
    for (const [what, access] of changes) {
        test(`${type.split(":").pop()}: ${what} is an update, not a replacement`, async (t) => {
            const diff = await makeNfvkitProvider().diff!("id", urn(type, "r"), { ...props, access: keyA }, { ...props, access });
            t.deepEqual({ changes: diff.changes, replaces: diff.replaces ?? [] }, { changes: true, replaces: [] });
        });
    }
    test(`${type.split(":").pop()}: the same access is no change`, async (t) => {
        // The key compared by its value: the state's envelope and a freshly wrapped one are the same key.
        const again = { ...keyA, privateKey: secret((keyA.privateKey as unknown as { value: string }).value) as unknown as string };
        const diff = await makeNfvkitProvider().diff!("id", urn(type, "r"), { ...props, access: keyA }, { ...props, access: again });
        t.false(diff.changes);
    });
}

test("ProbeSuite: a host's new key is an update that runs no probe, and a guest change still measures again", async (t) => {
    const suite = {
        title: "nfv-testpod/lab",
        guests: [
            {
                guest: "g1",
                host: "lab-1",
                uri: "qemu+ssh://root@10.77.0.2/system",
                domain: "d",
                rtVcpus: [1],
                housekeepingVcpus: [0],
                hostHousekeepingCpus: [0],
                access: keyA,
            },
        ],
        guestIds: ["u1"],
        config: {},
        targets: {},
        gate: "report",
        resultsDir: "results/lab",
        notes: [],
        hosts: [{ name: "lab-1", uri: "qemu+ssh://root@10.77.0.2/system", kernelArgs: [], access: keyA }],
        kinds: {},
        pass: true,
    };
    const [, newKey] = changes[0];
    const rotated = { ...suite, guests: suite.guests.map((g) => ({ ...g, access: newKey })), hosts: suite.hosts.map((h) => ({ ...h, access: newKey })) };
    const p = makeNfvkitProvider();
    const diff = await p.diff!("id", urn(tokens.probeSuite, "probes"), suite, rotated);
    t.deepEqual({ changes: diff.changes, replaces: diff.replaces }, { changes: true, replaces: [] });
    const updated = await p.update!("id", urn(tokens.probeSuite, "probes"), suite, rotated);
    // The verdict of the last run is kept; the access is the new one, its key still wrapped as a secret.
    t.is(updated.outs.pass, true);
    t.deepEqual(updated.outs.hosts[0].access, newKey);
    t.deepEqual(updated.outs.guests[0].access.privateKey, newKey.privateKey);
    const moved = { ...rotated, guestIds: ["u2"] };
    t.deepEqual((await p.diff!("id", urn(tokens.probeSuite, "probes"), suite, moved)).replaces, ["guestIds"]);
});

test("ProbeSuite: lists the state holds as one secret as a whole (they carry a key) are compared opened: a target change measures again, an unchanged suite is no change", async (t) => {
    const host = { name: "lab-1", uri: "qemu+ssh://root@10.77.0.2/system", kernelArgs: [], access: keyA };
    const guest = { guest: "g1", host: "lab-1", uri: host.uri, domain: "d", rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0], access: keyA };
    const base = { title: "nfv-testpod/lab", guestIds: ["u1"], config: {}, targets: {}, gate: "report", resultsDir: "results/lab", notes: [], kinds: {} };
    const stored = { ...base, guests: secret([guest] as never), hosts: secret([host] as never), pass: true };
    const given = { ...base, guests: [guest], hosts: [host] };
    const p = makeNfvkitProvider();
    const same = await p.diff!("id", urn(tokens.probeSuite, "probes"), stored, given);
    t.deepEqual({ changes: same.changes, replaces: same.replaces }, { changes: false, replaces: [] });
    const stricter = await p.diff!("id", urn(tokens.probeSuite, "probes"), stored, { ...given, gate: "enforce" });
    t.deepEqual({ changes: stricter.changes, replaces: stricter.replaces }, { changes: true, replaces: ["gate"] });
});

test("the access as the state holds it (one secret as a whole) against a new key: an update", async (t) => {
    const [type, props] = kinds[0];
    const diff = await makeNfvkitProvider().diff!("id", urn(type, "g1"), { ...props, access: secret(keyA as never) }, { ...props, access: changes[0][1] });
    t.deepEqual({ changes: diff.changes, replaces: diff.replaces }, { changes: true, replaces: [] });
});

test("a domain whose memory and key both change is replaced for the memory, not the key", async (t) => {
    const [, props] = kinds[0];
    const news = { ...props, facts: { memory: "512 MiB", vcpus: "2" }, access: changes[0][1] };
    const diff = await makeNfvkitProvider().diff!("id", urn(tokens.domain, "g1"), { ...props, access: keyA }, news);
    t.deepEqual(diff.replaces, ["facts"]);
});

test("an access-only update logs in with the new access, touches nothing else and stores it", async (t) => {
    // This machine as the new access: the login is a real `true` run here; the outputs keep every observed value.
    const [, props] = kinds[2];
    const here = { kind: "local" as const, name: "lab-1" };
    const updated = await makeNfvkitProvider().update!("id", urn(tokens.hugepageReservation, "pages"), { ...props, access: keyA }, { ...props, access: here });
    t.deepEqual(updated.outs, { ...props, access: here });
});

test("read and delete take the stack's current access for the same host, its key wrapped as a secret", (t) => {
    const current: SshTarget = {
        ...keyA,
        privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nBBBB\n-----END OPENSSH PRIVATE KEY-----\n",
        knownHosts: ["new pin"],
    };
    const env = currentAccessEnv("lab", { "lab-1": current });
    t.deepEqual(Object.keys(env), [CURRENT_ACCESS_ENV]);
    t.deepEqual(newestAccess(keyA, "lab", env), { ...current, privateKey: secret(current.privateKey!) as unknown as string });
    // As the state holds it: the whole access one secret, since the program gives it as an Output holding a secret.
    t.deepEqual(newestAccess(secret(keyA as never) as unknown as SshTarget, "lab", env), {
        ...current,
        privateKey: secret(current.privateKey!) as unknown as string,
    });
    // Another stack's access, another host, a local host and no environment: the stored access stays.
    t.is(newestAccess(keyA, "ci", env), keyA);
    const otherHost = { ...keyA, name: "lab-2" };
    t.is(newestAccess(otherHost, "lab", env), otherHost);
    t.deepEqual(newestAccess({ kind: "local" }, "lab", env), { kind: "local" });
    t.is(newestAccess(keyA, "lab", {}), keyA);
    t.deepEqual(currentAccessEnv("lab", {}), {});
});
