/**
 * The plan travels: validateStack makes the PodPlan once, TestPod walks it
 * and never checks or plans again, and each guest's pins reach its Domain as
 * typed values (cputune), the same values its XML's <cputune> is written
 * from. The provider compares those values, not XML text.
 */
import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { image, spec } from "../helpers/podFixtures";
import { recordResources, settle } from "../helpers/mockedPulumi";

const recorded = recordResources("nfv-testpod");

test("the XML's <cputune> and the typed cputune are the same values, for every guest of every stack", async (t) => {
    const { resolvePod } = await import("../../components/plan/resolvePod");
    const { renderDomainXml } = await import("../../components/render/domainXml");
    const { cputuneOf } = await import("../../components/render/cputune");
    const { parseCputune } = await import("../../components/libvirt/cputune");
    const machine = { numaNodes: [{ id: 0, cpus: [0, 1] }], smtSiblings: [] };
    let guests = 0;
    for (const file of readdirSync("stacks").filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
        const config = (yaml.load(readFileSync(path.join("stacks", file), "utf8")) as { config: Record<string, unknown> }).config;
        const pod = resolvePod(config["nfv-testpod:pod"], { namePrefix: "t", discovered: { local: machine } });
        for (const guest of pod.guests) {
            const env = { virtType: "qemu" as const, kernelPath: "/k", initrdPath: "/i", baseCmdline: "", consoleLogPath: "/c" };
            t.deepEqual(cputuneOf(guest), parseCputune(renderDomainXml(guest, env)), `${file} ${guest.name}`);
            guests++;
        }
    }
    t.true(guests >= 8, `${guests} guests`);
});

test("pins compare as values: one CPU set however it is written; only what differs is applied", async (t) => {
    const { cputuneChanges, sameCputune } = await import("../../components/render/cputune");
    const planned = { vcpuPins: { "0": "0", "1": "2-3" }, emulatorPin: "0", iothreadPins: { "1": "0" }, fifo: { "1": 1 } };
    const libvirtSays = { vcpuPins: { "1": "2,3", "0": "0" }, emulatorPin: "0", iothreadPins: { "1": "0" }, fifo: { "1": 1 } };
    t.true(sameCputune(planned, libvirtSays));
    const moved = { ...planned, vcpuPins: { "0": "1", "1": "2-3" }, fifo: { "1": 5 } };
    t.false(sameCputune(planned, moved));
    t.deepEqual(cputuneChanges(planned, moved), { vcpuPins: [["0", "1"]], emulatorPin: undefined, iothreadPins: [], fifo: [["1", 5]] });
    // State written before pins were recorded as values: every pin is set again.
    t.deepEqual(cputuneChanges(undefined, planned), {
        vcpuPins: [
            ["0", "0"],
            ["1", "2-3"],
        ],
        emulatorPin: "0",
        iothreadPins: [["1", "0"]],
        fifo: [["1", 1]],
    });
});

test("the Domain provider's diff compares the pins as values: a rewritten CPU set is no change, a moved pin an update", async (t) => {
    const ops = await import("../../components/libvirt/domainOperations");
    const { cputuneOf } = await import("../../components/render/cputune");
    const { resolvePod } = await import("../../components/plan/resolvePod");
    const guest = resolvePod(spec, { namePrefix: "t" }).guests[0];
    const cputune = cputuneOf(guest);
    const inputs = {
        uri: "qemu:///system",
        name: "t-vnf",
        xml: "<domain/>",
        cputune,
        pinning: {},
        facts: {},
        consoleLog: "",
        readyPattern: "",
        bootTimeoutSec: 1,
    };
    const olds = { ...inputs, cputune: { ...cputune, emulatorPin: "0,0" }, uuid: "u", bootSeconds: 1, observedVcpuPins: {}, runState: "running" };
    t.deepEqual(await ops.diff("u", olds, inputs), { changes: false, replaces: [], deleteBeforeReplace: true });
    const moved = { ...inputs, cputune: { ...cputune, vcpuPins: { ...cputune.vcpuPins, "0": "3" } } };
    t.deepEqual(await ops.diff("u", olds, moved), { changes: true, replaces: [], deleteBeforeReplace: true });
});

test("TestPod walks the plan it is given: the plan's names, pins and placement, no second check", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const { validatePodSpec } = await import("../../components/validate");
    const { cputuneOf } = await import("../../components/render/cputune");
    const { describePinning } = await import("../../components/libvirt/cputune");
    const plan = validatePodSpec(spec, { namePrefix: "planned-once" });
    // A spec that could not be planned rides along: TestPod must not look at it when it has a plan.
    const pod = new TestPod("walk", { plan, spec: { hosts: "not a list" }, image });
    t.is(pod.plan, plan);
    await settle(pod.guestSummaries);
    const domain = recorded.find((r) => r.name === "walk-vnf-domain")!;
    const vnf = plan.guests.find((g) => g.name === "vnf")!;
    t.is(domain.inputs.name, "planned-once-vnf");
    t.deepEqual(domain.inputs.cputune, cputuneOf(vnf));
    t.deepEqual(domain.inputs.pinning, describePinning(cputuneOf(vnf)));
});

test("a plan with a remote host needs access to it: TestPod refuses it before registering anything", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const { validatePodSpec } = await import("../../components/validate");
    const remote = {
        ...spec,
        hosts: [{ ...spec.hosts[0], uri: "qemu+ssh://root@lab-1/system", ssh: { privateKeySecret: "k", knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" } }],
    };
    const plan = validatePodSpec(remote, { namePrefix: "remote" });
    const before = recorded.length;
    const err = t.throws(() => new TestPod("far", { plan, image }));
    t.is(
        err!.message,
        'TestPod arguments has 1 problem:\nhostAccess.local: is needed: host local is remote (qemu+ssh://root@lab-1/system) and has guests, so the kit copies the guest image there and works on its files over SSH; the kit never reaches a remote host through this machine (got nothing). Fix: give hostAccess.local: { kind: "ssh", host, privateKey (a secret), knownHosts }',
    );
    t.is(recorded.length, before);
});

test("a migration's destination with no guests needs access too: TestPod asks for it as the stack's validation does", async (t) => {
    const { TestPod } = await import("../../components/pod/TestPod");
    const { validatePodSpec } = await import("../../components/validate");
    const { DEFAULT_PROBE_SUITE, DEFAULT_TARGETS } = await import("../../components/probes");
    const { checkMigrationSettings } = await import("../../components/probes/kinds/migration/config");
    const far = {
        ...spec.hosts[0],
        name: "far",
        uri: "qemu+ssh://root@lab-2/system",
        ssh: { privateKeySecret: "k", knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" },
    };
    const plan = validatePodSpec({ ...spec, hosts: [spec.hosts[0], far] }, { namePrefix: "dest" });
    const migration = checkMigrationSettings([{ guest: "vnf", to: "far" }], "probes.migration").settings;
    const probes = { config: { ...DEFAULT_PROBE_SUITE, migration }, targets: DEFAULT_TARGETS, gate: "enforce" as const, resultsDir: "results/t" };
    const before = recorded.length;
    const err = t.throws(() => new TestPod("moves", { plan, image, probes }));
    t.regex(
        err!.message,
        /^TestPod arguments has 1 problem:\nhostAccess\.far: is needed: host far is remote \(qemu\+ssh:\/\/root@lab-2\/system\) and is a migration destination/,
    );
    t.is(recorded.length, before, "nothing registered");
});
