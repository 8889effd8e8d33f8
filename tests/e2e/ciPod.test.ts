/**
 * End to end with the real engine, real libvirt and real QEMU guests, on one
 * ci pod brought up once: booting the same two guests for every scenario
 * cost a minute or more each time under TCG, and proved nothing more. The
 * scenarios run in order, each on the pod the one before left:
 *
 * 1. `up` brings the pod up as the spec asks, on the accelerator the host's
 *    facts call for; the guests share memory over ivshmem; a second `up`
 *    changes nothing.
 * 2. A pull request's change, previewed from another checkout, is told in
 *    guest terms in the comment, and creates nothing.
 * 3. Drift: a guest removed and a pin moved behind the kit's back show in
 *    `refresh`; `up` puts both back, the pin live.
 * 4. Another checkout with the same backend sees the pod as it is.
 * 5. A live pinning change from there (the host's housekeeping and isolated
 *    CPUs swapped): previewed as updates in guest terms, applied without a
 *    guest stopping.
 * 6. `destroy` from there leaves the host clean: no domain, shm file, ledger
 *    entry, extra hugepage or ssh folder, and an empty state.
 *
 * A step that fails leaves the pod in a state the next ones cannot start
 * from: they fail at once naming it, and the last step and the file's
 * `after.always` hook still destroy everything.
 */
import test, { type ExecutionContext } from "ava";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { guestShell } from "../../components/libvirt/guestAgent";
import { readSpans } from "../../components/timing";
import { hostAccess } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { projectRoot, pulumiEnv } from "../../tools/cli/engine";
import { copyCheckout, runPreview } from "../helpers/checkout";
import { exportedState, runPulumiIn } from "../helpers/engineRun";
import {
    domainsWithPrefix,
    hugepages2M,
    hugepagesSettled,
    ledgerEntries,
    LOCAL_URI,
    shmFilesWithPrefix,
    sshDirsOfThisCheckout,
    vcpuThreadAccels,
} from "../helpers/host";
import { assertSharedMemory } from "../helpers/ivshmem";
import { scratchFolder } from "../helpers/scratch";
import { openStack, type OpenStack } from "../helpers/stack";

const STACK = "ci";
const PREFIX = "nfv-testpod-ci";
const VNF = `${PREFIX}-vnf`;
const PEER = `${PREFIX}-peer`;

interface GuestOut {
    domain: string;
    accel: string;
    uri: string;
    consoleLog: string;
    bootSeconds: number;
    vcpuPins: Record<string, string>;
}

let stack: OpenStack | undefined;
/** The other checkout: a copy of the project in its own folder, with the same state backend. */
let other: string | undefined;
let hugepagesBefore = 0;
let sshDirsBefore: string[] = [];
/** The first step whose failure left the pod in a state the later steps cannot start from. */
let brokenBy: string | undefined;

/** `virsh vcpupin <domain>`'s table as vCPU -> host CPU list. */
const vcpupins = (out: string): Record<string, string> => Object.fromEntries([...out.matchAll(/^\s*(\d+)\s+(\S+)\s*$/gm)].map((m) => [m[1], m[2]]));
const uptime = async (domain: string) => Number((await guestShell(hostAccess(), domain, "cut -d' ' -f1 /proc/uptime")).stdout);
const domuuid = async (domain: string) => (await virsh(LOCAL_URI, ["domuuid", domain])).trim();
/** `pulumi <args> --stack ci` run in the other checkout. */
const inOther = (args: string[]) => runPulumiIn(other!, [...args, "--stack", STACK]);
const otherStackFile = () => path.join(other!, "stacks", `Pulumi.${STACK}.yaml`);
const ciStackFile = () => readFileSync(path.join(projectRoot, "stacks", `Pulumi.${STACK}.yaml`), "utf8");
/** The ci stack file with the host's housekeeping and isolated CPUs swapped: every pin moves, nothing is replaced. */
const cpusSwapped = (file: string) => file.replace('housekeepingCpus: "0"', 'housekeepingCpus: "1"').replace('isolatedCpus: "1"', 'isolatedCpus: "0"');

/**
 * The accelerator and the reason the kit must give for it, from this host's own facts (read here, not by the
 * kit's code): /dev/kvm, the PVM module, and whether libvirt offers the kvm domain type. Holds on KVM and TCG.
 */
function expectedAccelChoice(): { accel: "kvm" | "tcg"; reason: string } {
    if (!existsSync("/dev/kvm")) return { accel: "tcg", reason: "TCG: /dev/kvm is missing on this host, so guests run under software emulation" };
    if (existsSync("/sys/module/kvm_pvm")) {
        return { accel: "tcg", reason: "TCG: /dev/kvm is PVM (kvm_pvm), which cannot run stock guest kernels; latency figures are not hardware figures" };
    }
    try {
        execFileSync("virsh", ["-c", LOCAL_URI, "domcapabilities", "--virttype", "kvm"], { stdio: "ignore" });
        return { accel: "kvm", reason: "KVM: libvirt offers the kvm domain type on this host" };
    } catch {
        return { accel: "tcg", reason: "TCG: libvirt offers no kvm domain type on this host" };
    }
}

/**
 * One scenario on the shared pod, run in file order. `changesPod`: its failure may leave the pod changed, so the
 * later steps do not run on it (they fail naming this one); a step that only reads may fail alone.
 */
function step(title: string, changesPod: boolean, body: (t: ExecutionContext) => Promise<void>): void {
    test.serial(title, async (t) => {
        if (brokenBy !== undefined) {
            t.fail(`not run: the step "${brokenBy}" failed and left the pod in a state this step cannot start from`);
            return;
        }
        let ok = false;
        try {
            await body(t);
            ok = t.passed;
        } finally {
            if (!ok && changesPod) brokenBy = title;
        }
    });
}

test.before(async () => {
    // The host as it was, once no earlier test's engine is still at work: the last step compares against it.
    hugepagesBefore = await hugepagesSettled();
    sshDirsBefore = sshDirsOfThisCheckout();
    stack = openStack(STACK, PREFIX);
    other = copyCheckout();
});

test.after.always(async () => {
    // Whatever happened above, nothing of the pod outlives the file; the last step asserts it when it runs.
    const failures = stack ? await stack.destroyAll() : [];
    if (other) rmSync(other, { recursive: true, force: true });
    if (failures.length > 0) throw new Error(`teardown: ${failures.join("\n")}`);
});

step(
    "up brings up the ci pod as the spec asks, on the host's accelerator; the guests share memory over ivshmem; a second up changes nothing",
    true,
    async (t) => {
        const up = await stack!.run(["up", "--yes", "--skip-preview"]);
        t.is(up.code, 0, `pulumi up --stack ${STACK} failed:\n${up.stdout}\n${up.stderr}`);
        if (up.code !== 0) return;

        // What a user checks: the stack outputs, and libvirt agreeing with them.
        const outputs = await stack!.outputs();
        const guests = outputs.guests as Record<string, GuestOut>;
        t.deepEqual(Object.keys(guests).sort(), ["peer", "vnf"]);
        t.deepEqual(
            (await domainsWithPrefix(PREFIX)).sort(),
            Object.values(guests)
                .map((g) => g.domain)
                .sort(),
            "the domains libvirt runs are the ones the outputs name",
        );
        const placement = String(outputs.placement).split("\n");
        t.true(
            placement.some((l) => /^local\s+vnf\s+vcpu1\s+1\s+0\s+rt$/.test(l)),
            `the placement output puts vnf's RT vCPU 1 on CPU 1:\n${outputs.placement}`,
        );

        // The accelerator follows the host's facts, said with the reason they give, and it is what QEMU really runs:
        // the domain type and the vCPU threads' names.
        const { accel, reason } = expectedAccelChoice();
        t.deepEqual(outputs.accel, { local: reason }, "the accel output gives the host's accelerator and why, from its facts");

        // What libvirt holds is what the spec asked for.
        for (const [name, g] of Object.entries(guests)) {
            t.true(g.domain.startsWith(PREFIX), `${name}'s domain carries the stack prefix`);
            t.is(g.accel, accel, `${name}'s accelerator in the outputs`);
            const xml = await virsh(LOCAL_URI, ["dumpxml", g.domain]);
            t.regex(xml, accel === "kvm" ? /^<domain type='kvm'/ : /^<domain type='qemu'/, `${name} is defined for ${accel}`);
            t.deepEqual(vcpuThreadAccels(g.domain), [accel.toUpperCase()], `${name}'s vCPU threads run ${accel}`);
            // The pins libvirt reports for the running guest are the ones the outputs give.
            t.deepEqual(vcpupins(await virsh(LOCAL_URI, ["vcpupin", g.domain])), g.vcpuPins, `virsh vcpupin ${g.domain}`);
            t.regex(await virsh(LOCAL_URI, ["emulatorpin", g.domain]), /^\s*(\*:\s*)?0\s*$/m, `${name}'s emulator threads on housekeeping CPU 0`);
            t.regex(xml, /<hugepages>[\s\S]*<page size='2048' unit='KiB'/, `${name} is backed by 2 MiB hugepages`);
            t.regex(xml, /<shmem name='[^']*ring0[^']*'>\s*<model type='ivshmem-plain'\/>/, `${name} carries the ivshmem link`);
            const log = readFileSync(g.consoleLog, "utf8");
            // Booted quietly (kernelArgs.quiet's default): no boot log on the console, and the init's ready line names the RT kernel.
            t.notRegex(log, /Linux version/, `${name} boots quietly`);
            t.regex(
                log,
                new RegExp(`NFVKIT-READY name=${name} kernel=\\S+-rt-amd64 preempt=rt\\r?$`, "m"),
                `${name}'s console shows the init's ready line with the RT kernel`,
            );
        }
        t.deepEqual(guests.vnf.vcpuPins, { "0": "0", "1": "1" }, "vnf's RT vCPU 1 sits on the isolated CPU 1, its housekeeping vCPU 0 on CPU 0");
        t.deepEqual(guests.peer.vcpuPins, { "0": "0" }, "peer's one housekeeping vCPU on CPU 0");
        t.is(hugepages2M(), hugepagesBefore + 256, "the pod reserved 2 x 256 MiB of 2 MiB pages");
        t.is(shmFilesWithPrefix(PREFIX).length, 1, "one shm file backs the link");

        // Both guests see the ivshmem PCI device, and a value one writes the other reads.
        await assertSharedMemory(t, guests.vnf, guests.peer);

        // Idempotence: nothing to do the second time.
        const timingLog = path.join(scratchFolder(t, "nfvkit-timing-"), "spans.jsonl");
        const again = await stack!.run(["up", "--yes", "--skip-preview", "--expect-no-changes"], { NFVKIT_TIMING_LOG: timingLog });
        t.is(again.code, 0, `second pulumi up reported changes:\n${again.stdout}\n${again.stderr}`);
        // The provider plugin was started while the program read its host, not once the program registered the pod:
        // the spans the program and the plugin wrote (components/timing.ts).
        const spans = readSpans(timingLog);
        const pluginStart = spans.find((s) => s.what.startsWith("plugin: Node.js start"))?.start;
        const registering = spans.find((s) => s.what === "program: plan and register the pod")?.start;
        t.true(
            pluginStart !== undefined && registering !== undefined && pluginStart < registering,
            `the plugin started (${pluginStart}) before the program registered the pod (${registering}):\n${spans.map((s) => JSON.stringify(s)).join("\n")}`,
        );
    },
);

step(
    "a pull request's change, previewed from another checkout, is told in guest terms: pin moves, the replacement and why, the new link; nothing is created",
    false,
    async (t) => {
        // The pull request: swap the host's CPUs (vnf keeps running, its pins move), grow peer,
        // and add a guest tap linked to peer (peer's domain gets the new link: it is replaced).
        const before = ciStackFile();
        const changed = cpusSwapped(before)
            .replace("count: 256", "count: 512")
            .replace("        rtVcpus: []\n        memory: 256M", "        rtVcpus: []\n        memory: 512M")
            .replace(
                "    links:\n",
                "      - name: tap\n        host: local\n        vcpus: 1\n        rtVcpus: []\n        memory: 128M\n        pageSize: 2M\n    links:\n",
            )
            .replace(/(members: \[vnf, peer\]\n)/, "$1      - name: ring1\n        size: 2M\n        members: [peer, tap]\n");
        t.not(changed, before);
        writeFileSync(otherStackFile(), changed);
        t.teardown(() => writeFileSync(otherStackFile(), before));

        const pagesWithPod = hugepages2M();
        const commentFile = path.join(other!, "comment.md");
        const previewStarted = Date.now();
        const preview = await runPreview(other!, pulumiEnv(), ["--stack", STACK, "--comment", commentFile]);
        t.is(preview.code, 0, preview.output);
        t.log(`npm run preview: ${((Date.now() - previewStarted) / 1000).toFixed(1)} s`);
        const comment = readFileSync(commentFile, "utf8");
        const lines = comment.split("\n");

        t.is(lines[0], `<!-- nfvkit-preview stack=${STACK} -->`, "the hidden marker a workflow finds the comment by");
        t.is(
            lines[1],
            `**nfvkit preview for stack ${STACK}:** 3 guests (1 new), 1 replaced (peer: memory 256 MiB → 512 MiB, link ring1 added), 3 pin moves, 1 link added, 0 host reboots, probes off`,
        );
        t.true(lines.includes(`**Validation:** ✅ no problems in \`stacks/Pulumi.${STACK}.yaml\` (3 guests on 1 host, 2 links).`), comment);
        const section = (label: string) => {
            const start = lines.findIndex((l) => l.startsWith(`- **${label}`));
            const end = lines.findIndex((l, i) => i > start && l.startsWith("- **"));
            return lines.slice(start, end < 0 ? undefined : end);
        };
        t.deepEqual(section("Pin moves"), [
            "- **Pin moves** (live, the guest keeps running):",
            "  - vnf vCPU 0: cpu 0 → 1",
            "  - vnf vCPU 1: cpu 1 → 0 (FIFO 1)",
            "  - vnf emulator: cpu 0 → 1",
        ]);
        t.deepEqual(section("Replaced"), [
            "- **Replaced** (deleted and booted again):",
            "  - peer, because memory 256 MiB → 512 MiB; link ring1 added (its pins move with it: vCPU 0: cpu 0 → 1; emulator: cpu 0 → 1)",
        ]);
        t.deepEqual(section("New guests"), ["- **New guests**:", "  - tap"]);
        t.deepEqual(section("Removed guests"), ["- **Removed guests:** none"]);
        t.deepEqual(section("Links"), ["- **Links**:", "  - ring1 added (peer ↔ tap, 2 MiB)"]);
        t.deepEqual(section("Hugepages"), ["- **Hugepages**:", "  - local node 0: 256 → 448 pages of 2 MiB"]);
        t.deepEqual(section("Host reboots"), ["- **Host reboots:** none"]);
        t.is(section("VF changes")[0], "- **VF changes:** none");
        // The placement is there, folded: a phone shows the summary and the changes first.
        t.regex(
            comment,
            /<details><summary><b>Placement<\/b>: 3 guests on 1 host<\/summary>\n\n\| Guest \| Host \| vCPUs → host CPUs \| RT vCPUs \| Memory \| Page size \|/,
        );
        t.true(lines.includes("| vnf | local | 0→1, 1→0 | 1 | 256 MiB | 2 MiB |"), comment);
        t.true(lines.includes("| tap | local | 0→1 | none | 128 MiB | 2 MiB |"), comment);
        t.true(lines.includes("**Probes:** off (`nfv-testpod:probes.enabled: false`): nothing is measured after deploy."), comment);

        // A preview creates nothing: the same two guests, no new pages, and the state still holds the old pod.
        t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [PEER, VNF]);
        t.is(hugepages2M(), pagesWithPod);
        const state = await exportedState(STACK);
        t.false(
            state.resources.some((r) => r.urn.endsWith("::pod-tap-domain")),
            "the state has no tap guest",
        );
    },
);

step("drift: refresh shows a guest removed and a pin moved out of band; up recreates the one and moves the other back live", true, async (t) => {
    // Someone removes vnf and moves peer's vCPU 0 from CPU 0 to CPU 1 with virsh.
    await virsh(LOCAL_URI, ["destroy", VNF]);
    await virsh(LOCAL_URI, ["undefine", VNF]);
    await virsh(LOCAL_URI, ["vcpupin", PEER, "0", "1", "--live", "--config"]);
    const peerUptime = await uptime(PEER);
    const peerUuid = await domuuid(PEER);

    const refresh = await stack!.run(["refresh", "--yes", "--skip-preview", "--diff"]);
    t.is(refresh.code, 0, refresh.stdout + refresh.stderr);
    t.regex(refresh.stdout, /-\s+nfvkit:libvirt:Domain: \(delete\)[\s\S]*pod-vnf-domain/, "refresh shows vnf's domain gone");
    t.regex(refresh.stdout, /~ pinning\s*: \{[\s\S]*~ vCPU 0\s*: "host CPU 0" => "host CPU 1"/, "refresh shows peer's moved pin in guest terms");
    // And the state now holds what the host has: no vnf domain.
    const refreshed = await exportedState(STACK);
    t.false(
        refreshed.resources.some((r) => r.urn.endsWith("::pod-vnf-domain")),
        "after the refresh the state holds no vnf domain",
    );
    t.true(
        refreshed.resources.some((r) => r.urn.endsWith("::pod-peer-domain")),
        "and still holds peer's",
    );

    const preview = await stack!.run(["preview", "--diff"]);
    t.regex(preview.stdout, /\+ nfvkit:libvirt:Domain: \(create\)[\s\S]*pod-vnf-domain/, "the next up will create vnf again");
    t.regex(preview.stdout, /~ vCPU 0\s*: "host CPU 1" => "host CPU 0"/, "and move peer's pin back");
    t.notRegex(preview.stdout, /\+-\s*nfvkit:libvirt:Domain/, "without replacing peer");

    const up = await stack!.run(["up", "--yes", "--skip-preview"]);
    t.is(up.code, 0, `pulumi up after the drift failed:\n${up.stdout}\n${up.stderr}`);
    t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [PEER, VNF]);
    t.regex(await virsh(LOCAL_URI, ["vcpupin", PEER]), /^\s*0\s+0\s*$/m, "peer's vCPU 0 is back on CPU 0");
    t.true((await uptime(PEER)) > peerUptime, "peer kept running: the pin was moved back live");
    t.is(await domuuid(PEER), peerUuid, "peer is the same domain, not a new one");
    t.is(hugepages2M(), hugepagesBefore + 256, "the recreated vnf uses the pod's pages: none taken twice");

    const again = await stack!.run(["up", "--yes", "--skip-preview", "--expect-no-changes"]);
    t.is(again.code, 0, `after the repair, up has nothing left to do:\n${again.stdout}`);
});

step(
    "another checkout with the same backend sees the pod as it is: its preview finds no changes; the state names no path into either checkout",
    true,
    async (t) => {
        const exported = await stack!.run(["stack", "export"]);
        t.is(exported.code, 0, exported.stderr);
        t.false(exported.stdout.includes(projectRoot), "the state names no path into this checkout");
        t.false(exported.stdout.includes(other!), "nor into the other one");

        const preview = await inOther(["preview", "--expect-no-changes"]);
        t.is(preview.code, 0, `the other checkout sees no changes:\n${preview.output}`);
    },
);

step(
    "a live pinning change from the other checkout: the CPU swap previews as updates in guest terms, moves every pin, and no guest stops or is replaced",
    true,
    async (t) => {
        writeFileSync(otherStackFile(), cpusSwapped(ciStackFile()));

        const preview = await inOther(["preview", "--diff"]);
        t.is(preview.code, 0, preview.output);
        t.regex(preview.output, /~ nfvkit:libvirt:Domain: \(update\)[\s\S]*\[urn=[^\]]*pod-vnf-domain\]/);
        t.regex(
            preview.output,
            /~ pinning\s*: \{\s*~ emulator: "host CPU 0" => "host CPU 1"\s*~ vCPU 0\s*: "host CPU 0" => "host CPU 1"\s*~ vCPU 1\s*: "host CPU 1, FIFO 1" => "host CPU 0, FIFO 1"/,
        );
        t.notRegex(preview.output, /\+-\s*nfvkit:libvirt:Domain/, "no guest is replaced");

        const uuids = { vnf: await domuuid(VNF), peer: await domuuid(PEER) };
        const uptimes = { vnf: await uptime(VNF), peer: await uptime(PEER) };
        const up = await inOther(["up", "--yes", "--skip-preview"]);
        t.is(up.code, 0, up.output);

        // Live: the same domains, still running since before.
        for (const [name, domain] of [
            ["vnf", VNF],
            ["peer", PEER],
        ] as const) {
            t.is(await domuuid(domain), uuids[name], `${name} is the same domain: updated, not replaced`);
            t.true((await uptime(domain)) > uptimes[name], `${name} kept running through the pinning change`);
        }
        // Every pin moved, as libvirt reports it and as the state's outputs give it.
        const guests = (await stack!.outputs()).guests as Record<string, GuestOut>;
        t.deepEqual(guests.vnf.vcpuPins, { "0": "1", "1": "0" }, "the outputs put vnf's RT vCPU 1 on CPU 0 and vCPU 0 on CPU 1");
        t.deepEqual(guests.peer.vcpuPins, { "0": "1" }, "the outputs put peer's vCPU 0 on CPU 1");
        t.deepEqual(vcpupins(await virsh(LOCAL_URI, ["vcpupin", VNF])), guests.vnf.vcpuPins, "libvirt reports vnf's pins as the outputs give them");
        t.deepEqual(vcpupins(await virsh(LOCAL_URI, ["vcpupin", PEER])), guests.peer.vcpuPins, "libvirt reports peer's pins as the outputs give them");
        for (const domain of [VNF, PEER]) {
            t.regex(await virsh(LOCAL_URI, ["emulatorpin", domain]), /^\s*(\*:\s*)?1\s*$/m, `${domain}'s emulator threads moved to CPU 1`);
        }
    },
);

// Not gated on the steps above: whatever they left, the pod is destroyed here and the host must be clean.
test.serial(
    "destroy from the other checkout removes everything: no domain, shm file, ledger entry, extra hugepage or ssh folder; the state is empty",
    async (t) => {
        t.truthy(other, "the other checkout was made");
        if (!other) return;
        const destroy = await inOther(["destroy", "--yes", "--skip-preview"]);
        t.is(destroy.code, 0, destroy.output);

        const state = await exportedState(STACK);
        t.deepEqual(state.resources, [], "the state holds no resource");
        t.deepEqual(state.pending, [], "the state holds no pending operation");
        t.deepEqual(await domainsWithPrefix(PREFIX), [], "no domain of the stack");
        t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file of the stack");
        t.deepEqual(ledgerEntries(STACK), [], "no ledger entry of the stack");
        t.is(hugepages2M(), hugepagesBefore, "the hugepage pool is back to what it was before the pod");
        t.deepEqual(
            sshDirsOfThisCheckout().filter((d) => !sshDirsBefore.includes(d)),
            [],
            "no ssh folder left in /tmp",
        );
    },
);
