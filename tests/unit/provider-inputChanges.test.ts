/**
 * The rule at the provider's diff (components/provider/provider.ts): a change
 * of any one input alone is either a replacement or an update the provider can
 * carry out (the kind's own `update`, or the stored-only update that touches
 * nothing on the host); never the "cannot be updated in place" path. Walks
 * every input of every kind the provider's table serves, through the provider
 * as the engine calls it. Each kind's table below is typed by its inputs with
 * every key required, so a new input does not compile until it is listed here.
 */
import test from "ava";
import type { GuestImageInputs } from "../../components/host/guestImageOperations";
import type { HugepageReservationInputs } from "../../components/host/hugepageOperations";
import type { RtHostInputs } from "../../components/host/rtHostOperations";
import type { SriovPfInputs } from "../../components/host/sriovOperations";
import type { HostTarget } from "../../components/host/access";
import type { DomainInputs } from "../../components/libvirt/domainOperations";
import type { ShmRegionInputs } from "../../components/libvirt/shmOperations";
import type { ProbeSuiteInputs } from "../../components/probes/suiteOperations";
import type { Targets } from "../../components/probes/targets";
import type { ProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { makeNfvkitProvider, operationsOf, servedTypes, updateRoute } from "../../components/provider/provider";
import { tokens } from "../../components/tokens";

/** Each input's value in the state, and a changed one as a person's edit of the pod spec or stack config would make it. */
type Changes<T> = { [K in keyof Required<T>]: [Required<T>[K], Required<T>[K]] };

// Local hosts: the stored-only update's login check for a new access then runs `true` on this machine.
const here: [HostTarget, HostTarget] = [{ kind: "local" }, { kind: "local", name: "renamed", libvirtUri: "test:///default" }];

const cputune = { vcpuPins: { "0": "0", "1": "1" }, emulatorPin: "0", iothreadPins: {}, fifo: { "1": 1 } };

const domain: Changes<DomainInputs> = {
    uri: ["qemu:///system", "test:///default"],
    name: ["nfv-testpod-lab-g1", "nfv-testpod-lab-g2"],
    xml: [
        "<domain type='qemu'><memory unit='KiB'>262144</memory><cputune/></domain>",
        "<domain type='qemu'><memory unit='KiB'>524288</memory><cputune/></domain>",
    ],
    cputune: [cputune, { ...cputune, vcpuPins: { "0": "0", "1": "2" } }],
    pinning: [{ "vCPU 1": "host CPU 1, FIFO 1" }, { "vCPU 1": "host CPU 2, FIFO 1" }],
    facts: [{ memory: "256 MiB" }, { memory: "512 MiB" }],
    consoleLog: ["/var/log/nfvkit/g1.log", "/var/log/nfvkit/g1-new.log"],
    readyPattern: ["nfvkit-guest-ready", "guest-up"],
    bootTimeoutSec: [300, 600],
    access: here,
    lineage: ["6f1c3a9e-0000-4000-8000-000000000001", "6f1c3a9e-0000-4000-8000-000000000002"],
};

const shmRegion: Changes<ShmRegionInputs> = {
    uri: ["qemu:///system", "test:///default"],
    path: ["/dev/shm/nfv-testpod-lab-ring0", "/dev/shm/nfv-testpod-lab-ring1"],
    sizeBytes: [2097152, 4194304],
    hugepages: [false, true],
    access: here,
    lineage: ["6f1c3a9e-0000-4000-8000-000000000001", "6f1c3a9e-0000-4000-8000-000000000002"],
};

const hugepageReservation: Changes<HugepageReservationInputs> = {
    uri: ["qemu:///system", "test:///default"],
    host: ["lab-1", "edge-1"],
    node: [0, 1],
    sizeKiB: [2048, 1048576],
    count: [128, 256],
    access: here,
    lineage: ["6f1c3a9e-0000-4000-8000-000000000001", "6f1c3a9e-0000-4000-8000-000000000002"],
};

const guestImage: Changes<GuestImageInputs> = {
    host: ["lab-1", "edge-1"],
    hash: ["abc123", "def456"],
    files: [["/nonexistent/nfvkit-test/abc123/vmlinuz"], ["/nonexistent/nfvkit-test/abc123/vmlinuz", "/nonexistent/nfvkit-test/abc123/initrd"]],
    access: here,
};

const sriovPf: Changes<SriovPfInputs> = {
    host: ["lab-1", "edge-1"],
    pf: ["ens1f0", "ens1f1"],
    numVfs: [2, 4],
    vfs: [[{ index: 0 }], [{ index: 0, vlan: 10 }]],
    access: here,
    lineage: ["6f1c3a9e-0000-4000-8000-000000000001", "6f1c3a9e-0000-4000-8000-000000000002"],
};

const rtHost: Changes<RtHostInputs> = {
    host: ["lab-1", "edge-1"],
    access: here,
    kernelPackage: ["linux-image-rt-amd64", "linux-image-6.1.0-rt-amd64"],
    kernelArgs: [["isolcpus=2-3"], ["isolcpus=2-5"]],
    housekeepingCpus: ["0-1", "0"],
    isolatedCpus: ["2-3", "1-3"],
    allowReboot: [false, true],
    rebootTimeoutSec: [900, 1800],
    hwlat: [
        { seconds: 10, targetUs: 10 },
        { seconds: 30, targetUs: 20 },
    ],
    lineage: ["6f1c3a9e-0000-4000-8000-000000000001", "6f1c3a9e-0000-4000-8000-000000000002"],
};

const guest = { guest: "g1", host: "lab-1", uri: "qemu:///system", domain: "d", rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0] };
const probeHost = { name: "lab-1", uri: "qemu:///system", kernelArgs: [] };
const probeSuite: Changes<ProbeSuiteInputs> = {
    title: ["nfv-testpod/lab", "nfv-testpod/edge"],
    guests: [[guest], [{ ...guest, rtVcpus: [1, 2] }]],
    guestIds: [["u1"], ["u2"]],
    config: [{} as ProbeSuiteConfig, { durationSec: 60 } as unknown as ProbeSuiteConfig],
    targets: [{} as Targets, { timer: { maxUs: 50 } } as unknown as Targets],
    gate: ["report", "enforce"],
    resultsDir: ["results/lab", "results/edge"],
    notes: [[], ["TCG: figures are not a real host's"]],
    hosts: [[probeHost], [{ ...probeHost, kernelArgs: ["isolcpus=1"] }]],
    kinds: [{}, { timer: {} } as unknown as ProbeSuiteInputs["kinds"]],
};

/** The StackLineage takes no input: it is made once and never changes. */
const stackLineage: Changes<Record<never, never>> = {};

const byType: Record<string, Record<string, [unknown, unknown]>> = {
    [tokens.domain]: domain,
    [tokens.shmRegion]: shmRegion,
    [tokens.hugepageReservation]: hugepageReservation,
    [tokens.guestImage]: guestImage,
    [tokens.sriovPf]: sriovPf,
    [tokens.rtHost]: rtHost,
    [tokens.probeSuite]: probeSuite,
    [tokens.stackLineage]: stackLineage,
};

const urn = (type: string) => `urn:pulumi:lab::nfv-testpod::nfvkit:pod:TestPod$${type}::r`;
const short = (type: string) => type.split(":").pop();
const stateOf = (changes: Record<string, [unknown, unknown]>) => Object.fromEntries(Object.entries(changes).map(([k, [old]]) => [k, old]));

// The finding: a GuestImage whose `host` (the pod spec's host name, a word for messages) alone changed was a change
// that no operation handled, and `up` failed with "cannot be updated in place".
test("GuestImage: a new host name alone is an update that stores it, and touches no file", async (t) => {
    const provider = makeNfvkitProvider();
    // Files that do not exist here: an update that read or copied them would fail.
    const olds = { host: "lab-1", hash: "abc123", files: ["/nonexistent/nfvkit-test/abc123/vmlinuz"], copied: "copied" };
    const news = { host: "edge-1", hash: "abc123", files: olds.files };
    const diff = await provider.diff!("lab-1/abc123", urn(tokens.guestImage), olds, news);
    t.deepEqual({ changes: diff.changes, replaces: diff.replaces ?? [] }, { changes: true, replaces: [] });
    const { outs } = await provider.update!("lab-1/abc123", urn(tokens.guestImage), olds, news);
    t.deepEqual(outs, { ...olds, host: "edge-1" });
});

test("the walk covers every kind the provider serves", (t) => {
    t.deepEqual(Object.keys(byType).sort(), servedTypes().sort());
});

for (const [type, changes] of Object.entries(byType)) {
    test(`${short(type)}: its inputs unchanged are no change`, async (t) => {
        const olds = stateOf(changes);
        t.false((await makeNfvkitProvider().diff!("id", urn(type), olds, { ...olds })).changes);
    });

    for (const [key, [, changed]] of Object.entries(changes)) {
        test(`${short(type)}: a change of ${key} alone is a replacement or an update the kind carries out`, async (t) => {
            const provider = makeNfvkitProvider();
            const olds = stateOf(changes);
            const news = { ...olds, [key]: changed };
            const diff = await provider.diff!("id", urn(type), olds, news);
            t.true(diff.changes, `a new ${key} must not be left out of the diff: the state would keep the old value`);
            if ((diff.replaces ?? []).length > 0) return;
            const ops = await operationsOf(type);
            const how = await updateRoute(ops, "id", urn(type), olds, news);
            t.not(how, "none", `${short(type)} has no update for a new ${key}: it must be a replacement, or stored (storedOnly)`);
            if (how === "kind") {
                t.is(typeof ops.update, "function");
                return;
            }
            // Stored: the update touches nothing on the host, so it is run here for real, and stores the new value alone.
            const { outs } = await provider.update!("id", urn(type), olds, news);
            t.deepEqual(outs, news);
        });
    }
}
