/**
 * The emulated lab for real: `npm run lab -- up` builds two hosts, each is
 * reached the way a stack reaches it (the kit's SshHostAccess with the lab
 * key and the pinned host key, libvirt through libvirtUri), each is its own
 * machine to libvirt (host_uuid, /run, domains, its own copy of the guest
 * image), `up` again changes nothing, and `down` leaves nothing behind.
 * t.teardown always runs `lab down`.
 *
 * Then the lab stack as the README runs it, through the real engine:
 * `npm run up -- --stack lab` alone runs the whole probe pipeline after
 * deploy, the migration of vnf to lab-2 and back included, and writes every
 * migration figure to results/lab/probes.json (checked against what must
 * hold between them, not just "> 0"); `npm run probe -- --stack lab` checks
 * the same set of things on the running pod; the gate, enforced, fails `up`
 * naming the migration figure and its target at targets no guest can meet
 * and passes at targets every guest meets (so the outcome is the same under
 * KVM and TCG); and two migrations that cannot succeed (lab-2 without free
 * hugepages, lab-2's libvirtd stopped) name the host and the cause and leave
 * vnf running on lab-1. One file, serial tests: one lab per machine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecutionContext } from "ava";
import * as yaml from "js-yaml";
import { closeHostAccesses, hostAccess, libvirtUri } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { migrationChartName } from "../../components/probes/kinds/migration/report";
import type { MigrationLeg, MigrationResult } from "../../components/probes/kinds/migration/types";
import { runProbePipeline } from "../../components/probes/pipeline";
import { recordedProbeSuiteInputs } from "../../components/probes/recorded";
import { ensureGuestImage } from "../../guest-images/build";
import { runPulumi } from "../../tools/cli/engine";
import { inHost, running } from "../../tools/lab/lab";
import { LAB_BRIDGE, LAB_NAMESPACE_PATTERN, LAB_STATE_DIR } from "../../tools/lab/layout";
import { labSshTargets, readLabState } from "../../tools/lab/state";
import { runKitCommand, waitFor } from "../helpers/engineRun";
import { realTest } from "../helpers/realParts";
import { sshdAvailable } from "../helpers/sshd";

const root = path.resolve(__dirname, "../..");
const haveTools = ["libvirtd", "virtlogd", "unshare", "nsenter", "setsid"].every(
    (bin) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", bin], { stdio: "ignore" }).status === 0,
);
const test = realTest(sshdAvailable() && haveTools, "root, iproute2, OpenSSH server, libvirtd and util-linux (unshare, nsenter) for the emulated lab");

const PREFIX = "nfvkit-lab-test";

/** Runs the lab CLI as a person does, and returns what it printed. */
function lab(t: { log: (...a: unknown[]) => void }, ...args: string[]): { code: number; out: string; seconds: number } {
    const t0 = Date.now();
    const r = spawnSync(path.join(root, "node_modules", ".bin", "tsx"), [path.join(root, "tools", "cli", "lab.ts"), ...args], {
        cwd: root,
        encoding: "utf8",
        timeout: 300_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    const seconds = (Date.now() - t0) / 1000;
    t.log(`$ npm run lab -- ${args.join(" ")}  (${seconds.toFixed(1)} s)\n${out.trim()}`);
    return { code: r.status ?? 1, out, seconds };
}

function labNamespaces(): string[] {
    return execFileSync("ip", ["netns", "list"], { encoding: "utf8" })
        .split("\n")
        .map((l) => l.split(" ")[0])
        .filter((n) => LAB_NAMESPACE_PATTERN.test(n));
}

/** Processes whose mount table shows one of the lab's folders: a lab host's mount namespace still alive. */
function processesWithLabMounts(): number[] {
    const pids: number[] = [];
    for (const p of readdirSync("/proc")) {
        if (!/^\d+$/.test(p)) continue;
        try {
            if (readFileSync(`/proc/${p}/mountinfo`, "utf8").includes(LAB_STATE_DIR)) pids.push(Number(p));
        } catch {
            // The process ended while we looked.
        }
    }
    return pids;
}

test("two lab hosts: reached over SSH with pinned keys, separate libvirts, each with its own copy of the guest image; up is idempotent; down leaves nothing", async (t) => {
    t.teardown(async () => {
        await closeHostAccesses();
        lab(t, "down");
    });

    // Up, and up again: the second says what runs and changes nothing.
    const up = lab(t, "up");
    t.is(up.code, 0, up.out);
    const state = readLabState()!;
    t.is(state.hosts.length, 2);
    t.log(`lab start time: ${up.seconds.toFixed(1)} s for the command (${state.upSeconds} s inside it)`);
    const again = lab(t, "up");
    t.is(again.code, 0, again.out);
    t.regex(again.out, /already up since .*lab-1 10\.213\.100\.11, lab-2 10\.213\.100\.12; nothing to do/);
    t.deepEqual(readLabState(), state, "the second up kept every host, pid and key");
    const status = lab(t, "status");
    t.is(status.code, 0, status.out);
    t.regex(status.out, /lab-1 10\.213\.100\.11 .*libvirtd \d+ answers, sshd \d+ answers, libvirt over SSH answers, domains: none/);

    // Each host answers over SSH with the lab key and its pinned host key, as itself.
    const [targetA, targetB] = labSshTargets(state);
    const [a, b] = [hostAccess(targetA), hostAccess(targetB)];
    t.is((await a.run(["hostname"])).stdout.trim(), "lab-1");
    t.is((await b.run(["hostname"])).stdout.trim(), "lab-2");
    // Root's home is each host's own (empty at start), not this machine's with its shell profile.
    for (const h of [a, b]) t.is((await h.run(["sh", "-c", 'findmnt -n -o FSTYPE --mountpoint "$HOME"; ls -A "$HOME"'])).stdout.trim(), "tmpfs");
    // A wrong pinned key is refused: the pin is what lets us in.
    const wrongPin = hostAccess({ ...targetA, knownHosts: state.hosts[1].knownHosts.replace("10.213.100.12", "10.213.100.11") });
    await t.throwsAsync(wrongPin.run(["true"]), { message: /host key|REMOTE HOST IDENTIFICATION|changed|verification failed/i });

    // Its own /run: a file made in A's is in neither B's nor this machine's.
    const marker = `/run/${PREFIX}-marker`;
    await a.writeFile(marker, "lab-1\n");
    t.true(await a.exists(marker));
    t.false(await b.exists(marker));
    t.false(existsSync(marker));
    t.is((await a.run(["findmnt", "-n", "-o", "FSTYPE", "/run"])).stdout.trim(), "tmpfs");

    // Its own libvirt: its own host_uuid, no domains.
    const [uriA, uriB] = [await libvirtUri(targetA), await libvirtUri(targetB)];
    const capsA = await virsh(uriA, ["capabilities"]);
    const capsB = await virsh(uriB, ["capabilities"]);
    t.true(capsA.includes(`<uuid>${state.hosts[0].hostUuid}</uuid>`), "lab-1's libvirt reports its host_uuid");
    t.true(capsB.includes(`<uuid>${state.hosts[1].hostUuid}</uuid>`), "lab-2's libvirt reports its host_uuid");
    t.not(state.hosts[0].hostUuid, state.hosts[1].hostUuid);
    t.is((await virsh(uriA, ["list", "--all", "--name"])).trim(), "");
    t.is((await virsh(uriB, ["list", "--all", "--name"])).trim(), "");

    // The guest image, copied to each host over SSH into its own /var/cache/nfvkit.
    const image = await ensureGuestImage();
    for (const [access, host] of [
        [a, state.hosts[0]],
        [b, state.hosts[1]],
    ] as const) {
        await access.mkdir(path.dirname(image.kernel));
        await access.copyTo(image.kernel, image.kernel);
        await access.copyTo(image.initrd, image.initrd);
        // The copy is real: it sits in the host's own folder, not in the machine's cache.
        t.true(existsSync(path.join(host.dir, "cache-nfvkit", path.relative("/var/cache/nfvkit", image.kernel))));
        t.is((await access.stat(image.initrd))?.size, readFileSync(image.initrd).length);
    }

    // Down: no namespaces, daemons, bridge, mounts, state or domains left.
    await closeHostAccesses();
    const pids = state.hosts.flatMap((h) => Object.values(h.pids).filter((p): p is number => typeof p === "number"));
    const down = lab(t, "down");
    t.is(down.code, 0, down.out);
    t.deepEqual(labNamespaces(), []);
    t.deepEqual(pids.filter(running), [], "holders, virtlogd, libvirtd and sshd are gone");
    t.is(spawnSync("ip", ["link", "show", "dev", LAB_BRIDGE], { stdio: "ignore" }).status, 1, "the bridge is gone");
    t.deepEqual(processesWithLabMounts(), [], "no process holds a lab host's mounts");
    t.false(existsSync(LAB_STATE_DIR), "the lab state is gone");
    const downAgain = lab(t, "down");
    t.regex(downAgain.out, /nothing to take down/);
});

/** What probes.json holds, as far as these tests read it. */
interface ProbesReport {
    pass: boolean;
    gate: string;
    failures: string[];
    checks: { guest: string; probe: string; metric: string; name: string; statistic: string; measuredUs: number | null; pass: boolean }[];
    hosts: { host: string; checks: { name: string; pass: boolean }[]; notRead: string | null }[];
    migration: MigrationResult[];
    suiteSeconds: number;
}

const readReport = (): ProbesReport => JSON.parse(readFileSync(path.join(root, "results", "lab", "probes.json"), "utf8"));

/**
 * Every figure of one migration, against what must hold between them
 * whatever the accelerator: libvirt's downtime inside its total time, the
 * total inside virsh's wall clock and the run's; QEMU's downtime inside
 * libvirt's; the network downtime (the largest packet gap) never below the
 * stream's resolution (its mean spacing) nor below libvirt's downtime by more
 * than two packet intervals (a paused guest sends nothing); a resolution no
 * finer than the rate the stream asks, and fine enough for the seed's 25 ms.
 */
function assertMigrationFigures(t: ExecutionContext, r: MigrationResult, leg: MigrationLeg, from: string, to: string, runMs: number): void {
    const where = `${r.guest} ${from} → ${to}: ${JSON.stringify({ ...leg, jobInfo: undefined, gaps: leg.gaps.length })}`;
    t.like(leg, { from, to, error: null, runsOn: to }, where);
    for (const key of ["totalMs", "setupMs", "downtimeMs", "downtimeQemuMs", "networkDowntimeMs", "resolutionMs", "iterations", "bytes"] as const) {
        t.is(typeof leg[key], "number", `${key} is reported: ${where}`);
    }
    const [total, downtime, network, resolution] = [leg.totalMs!, leg.downtimeMs!, leg.networkDowntimeMs!, leg.resolutionMs!];
    t.true(downtime > 0 && downtime < total, `libvirt's downtime inside the total: ${where}`);
    t.true(leg.downtimeQemuMs! <= downtime, `QEMU's downtime (without the network) inside libvirt's: ${where}`);
    t.true(leg.setupMs! < total, where);
    t.true(total <= leg.wallMs && leg.wallMs < runMs, `the total inside virsh's wall clock (${leg.wallMs} ms), inside the run (${runMs} ms): ${where}`);
    t.true(
        resolution >= (1000 / r.packetRateHz) * 0.99,
        `the stream sends at most ${r.packetRateHz} Hz, so its mean spacing is at least ${1000 / r.packetRateHz} ms: ${where}`,
    );
    t.true(resolution < 25, `the resolution resolves the seed's 25 ms network target: ${where}`);
    t.true(network >= resolution, `no gap is shorter than the mean spacing can resolve: ${where}`);
    t.true(network >= downtime - 2 * resolution, `the guest sends nothing while paused: ${where}`);
    t.true(leg.iterations! >= 1 && leg.bytes! >= 256 * 1024 ** 2 * 0.1, where);
    t.true(leg.packets > 100 && leg.lost >= 0 && leg.lost < leg.packets, where);
    t.true(leg.pins.length === 2 && leg.pins.every((p) => p.actual === p.expected), `pins on ${to} as planned: ${JSON.stringify(leg.pins)}`);
    t.deepEqual(leg.cputuneMissing, [], `${to} runs the plan's emulator pin and FIFO priorities`);
}

/** The lab stack's generated config with some `nfv-testpod:` settings replaced, in a file of its own (the key stays encrypted in it). */
function labConfigVariant(t: ExecutionContext, settings: Record<string, unknown>): string {
    const doc = yaml.load(readFileSync(readLabState()!.stackConfig, "utf8")) as { config: Record<string, unknown> };
    for (const [key, value] of Object.entries(settings)) doc.config[`nfv-testpod:${key}`] = value;
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-lab-config-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, "Pulumi.lab.yaml");
    writeFileSync(file, yaml.dump(doc), { mode: 0o600 });
    return file;
}

/** What a report checks, as a list to compare: the judged figures, and the host gate's rows. */
function checkList(r: ProbesReport): string[] {
    return [
        ...r.checks.map((c) => `${c.guest} | ${c.probe} | ${c.metric} | ${c.name} (${c.statistic})`),
        ...r.hosts.flatMap((h) => (h.notRead ? [`host ${h.host}: not read`] : h.checks.map((c) => `host ${h.host}: ${c.name}`))),
    ].sort();
}

// Targets no guest can meet, and targets every guest meets: the gate's outcome is then the same under KVM and TCG.
const UNMEETABLE_MIGRATION = { totalMs: 0.001, downtimeIoMs: 0.001, networkDowntimeMs: 0.001 };
const MET_BY_ANY_GUEST = {
    timer: { avgUs: 10_000_000, maxUs: 10_000_000 },
    interrupt: { maxUs: 10_000_000 },
    preemption: { maxSingleUs: 10_000_000, perWindowUs: 10_000_000 },
    migration: { totalMs: 600_000, downtimeIoMs: 600_000, networkDowntimeMs: 600_000 },
};
const QUICK_LATENCY = { probes: ["cyclictest"], durationSec: 3 };

test("the lab stack end to end: npm run up -- --stack lab migrates vnf lab-1 → lab-2 → lab-1 in its probe suite with every figure; npm run probe checks the same things; the gate fails up on a missed migration target and passes at met ones; failed migrations keep vnf on lab-1; down leaves nothing", async (t) => {
    // Four engine runs with the probe suite, two failing migrations and a teardown under TCG on a shared 2-core machine.
    t.timeout(30 * 60_000);
    const started = Date.now();
    // The lab's hosts share this machine's one 2M pool: what the stack and the probe add to it must all come back.
    const pool2M = "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";
    const poolBefore = readFileSync(pool2M, "utf8").trim();
    let stackUp = false;
    t.teardown(async () => {
        await closeHostAccesses();
        if (stackUp && readLabState()) await runKitCommand("down", ["--stack", "lab"]);
        lab(t, "down");
    });
    const up = lab(t, "up");
    t.is(up.code, 0, up.out);
    const state = readLabState()!;
    const uris: Record<string, string> = {};
    for (const target of labSshTargets(state)) uris[target.name!] = await libvirtUri(target);
    const domain = "nfv-testpod-lab-vnf";
    const runsOnLab1Only = async (when: string) => {
        t.is((await virsh(uris["lab-1"], ["domstate", domain])).trim(), "running", `vnf runs on lab-1 ${when}`);
        t.false((await virsh(uris["lab-2"], ["list", "--all", "--name"])).includes(domain), `lab-2 keeps no definition of vnf ${when}`);
    };

    // 1. The README's two commands, and nothing else: the pod, then its whole probe suite, migration included.
    const podUp = await runKitCommand("up", ["--stack", "lab"]);
    stackUp = true;
    t.log(`npm run up -- --stack lab: ${podUp.seconds.toFixed(1)} s`);
    t.is(podUp.code, 0, podUp.output.slice(-4000));
    t.regex(podUp.output, /stack lab: using the lab's generated config \/var\/lib\/nfvkit-lab\/Pulumi\.lab\.yaml/);
    t.regex(podUp.output, /Pod "lab" is up/);
    const fromUp = readReport();
    const [vnf] = fromUp.migration;
    t.like(vnf, { guest: "vnf", from: "lab-1", to: "lab-2", workload: "idle" });
    t.is(vnf.legs.length, 2);
    assertMigrationFigures(t, vnf, vnf.legs[0], "lab-1", "lab-2", podUp.seconds * 1000);
    assertMigrationFigures(t, vnf, vnf.legs[1], "lab-2", "lab-1", podUp.seconds * 1000);
    t.log(
        vnf.legs
            .map(
                (l) =>
                    `${l.from} → ${l.to}: total ${l.totalMs} ms, downtime ${l.downtimeMs} ms (QEMU ${l.downtimeQemuMs}), network ${l.networkDowntimeMs} ms at ${l.resolutionMs} ms, ${l.packets} packets (${l.lost} lost), virsh ${l.wallMs} ms`,
            )
            .join("\n"),
    );
    await runsOnLab1Only("after up's probe suite");
    // One judged figure per migration figure and leg, in the same verdict as the latency probes.
    t.deepEqual(
        fromUp.checks.filter((c) => c.probe === "migration").map((c) => c.metric),
        [1, 2].flatMap(() => ["migration.totalMs", "migration.downtimeMs", "migration.networkDowntimeMs", "migration.pins"]),
    );
    // The host gate read both hosts, over their pinned SSH access.
    t.deepEqual(
        fromUp.hosts.map((h) => [h.host, h.notRead, h.checks.length > 0]),
        [
            ["lab-1", null, true],
            ["lab-2", null, true],
        ],
    );
    const markdown = readFileSync(path.join(root, "results", "lab", "probes.md"), "utf8");
    t.regex(markdown, /### Live migration/);
    t.regex(markdown, /\| vnf \(lab-1 → lab-2\) \| idle \| \d+ ms \|/);
    for (const [i, l] of vnf.legs.entries()) {
        const svg = readFileSync(path.join(root, "results", "lab", "histograms", migrationChartName("vnf", i, l)), "utf8");
        t.regex(svg, /<svg[\s\S]*packet gaps during the migration of vnf/);
    }

    // 2. npm run probe: the same pipeline on the running pod, from what up recorded: the same set of checks.
    const probe = await runKitCommand("probe", ["--stack", "lab"]);
    t.log(`npm run probe -- --stack lab: ${probe.seconds.toFixed(1)} s`);
    t.is(probe.code, 0, probe.output.slice(-4000));
    const fromProbe = readReport();
    t.deepEqual(checkList(fromProbe), checkList(fromUp), "npm run probe checks what up's ProbeSuite checks");
    t.is(fromProbe.migration[0].legs.length, 2);
    assertMigrationFigures(t, fromProbe.migration[0], fromProbe.migration[0].legs[0], "lab-1", "lab-2", probe.seconds * 1000);
    await runsOnLab1Only("after npm run probe");

    // 3. The gate, enforced, at migration targets no guest can meet: up fails, naming the migration figures and their targets.
    const missed = await runKitCommand("up", [
        "--stack",
        "lab",
        "--config-file",
        labConfigVariant(t, {
            gate: "enforce",
            targets: { ...MET_BY_ANY_GUEST, migration: UNMEETABLE_MIGRATION },
            probes: { ...QUICK_LATENCY, migration: [{ guest: "vnf", to: "lab-2" }] },
        }),
    ]);
    t.not(missed.code, 0, "a missed migration target fails up");
    t.regex(missed.output, /probe gate failed: 6 of 10 checks missed their target/);
    t.regex(missed.output, /migration total time of vnf \(lab-1 → lab-2\): [\d.]+ ms ≥ target < 0\.001 ms/);
    t.regex(missed.output, /migration downtime of vnf \(lab-2 → lab-1\): [\d.]+ ms > target 0\.001 ms/);
    t.regex(missed.output, /network downtime of vnf \(lab-1 → lab-2\): [\d.]+ ms > target 0\.001 ms/);
    t.regex(missed.output, /Reports: results\/lab\/probes\.md, results\/lab\/probes\.json, results\/lab\/probes\.junit\.xml/);
    const gated = readReport();
    t.false(gated.pass);
    t.deepEqual(
        gated.checks
            .filter((c) => !c.pass)
            .map((c) => c.metric)
            .sort(),
        [
            "migration.downtimeMs",
            "migration.downtimeMs",
            "migration.networkDowntimeMs",
            "migration.networkDowntimeMs",
            "migration.totalMs",
            "migration.totalMs",
        ],
    );
    await runsOnLab1Only("after a failed gate");

    // 4. The same gate at targets every guest meets: up passes.
    const met = await runKitCommand("up", [
        "--stack",
        "lab",
        "--config-file",
        labConfigVariant(t, { gate: "enforce", targets: MET_BY_ANY_GUEST, probes: { ...QUICK_LATENCY, migration: [{ guest: "vnf", to: "lab-2" }] } }),
    ]);
    t.is(met.code, 0, met.output.slice(-4000));
    const passed = readReport();
    t.true(passed.pass, passed.failures.join("\n"));
    t.is(passed.checks.filter((c) => c.probe === "migration").length, 8);
    await runsOnLab1Only("after a passed gate");

    // 5. Migrations that cannot succeed, through the same pipeline on what up recorded (its migration only): a clear
    // error naming the host and the cause, and vnf keeps running on lab-1.
    const exported = await runPulumi(["stack", "export", "--show-secrets", "--stack", "lab"]);
    t.is(exported.code, 0, exported.stderr);
    const recorded = recordedProbeSuiteInputs(JSON.parse(exported.stdout), "lab");
    const scratch = mkdtempSync(path.join(os.tmpdir(), "nfvkit-lab-failed-"));
    t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
    const migrateOnly = async () => {
        const outcome = await runProbePipeline(
            { ...recorded, config: { ...recorded.config, probes: [], interVm: [] }, resultsDir: scratch },
            { log: (line) => t.log(line) },
        );
        t.deepEqual(outcome.ran, ["hostGate", "migration"]);
        return outcome.verdict.sections.migration![0];
    };
    const holder = state.hosts[1].pids.holder;
    // No free hugepages on lab-2: its hugetlbfs, covered by one that holds a single page.
    t.is((await inHost(holder, ["mount", "-t", "hugetlbfs", "-o", "size=2M", "nodev", "/dev/hugepages"])).exitCode, 0);
    let failed: MigrationResult;
    try {
        failed = await migrateOnly();
    } finally {
        await inHost(holder, ["umount", "/dev/hugepages"]);
    }
    t.is(failed.legs.length, 1);
    t.regex(
        failed.legs[0].error ?? "",
        /^migrating vnf from lab-1 to lab-2 failed: host lab-2 has no free hugepages for the guest's .*; vnf keeps running on lab-1$/,
    );
    await runsOnLab1Only("after a migration lab-2 had no memory for");

    // lab-2's libvirtd stopped.
    const libvirtdPid = (await inHost(holder, ["cat", "/run/libvirtd.pid"])).stdout.trim();
    t.is((await inHost(holder, ["kill", libvirtdPid])).exitCode, 0);
    await waitFor(
        "lab-2's libvirtd to stop",
        async () => (await inHost(holder, ["virsh", "-c", "qemu:///system", "uri"], { timeoutMs: 5000 })).exitCode !== 0,
        30_000,
    );
    try {
        failed = await migrateOnly();
    } finally {
        await inHost(holder, ["libvirtd", "-d"]);
        await waitFor(
            "lab-2's libvirtd to answer again",
            async () => (await inHost(holder, ["virsh", "-c", "qemu:///system", "uri"], { timeoutMs: 5000 })).exitCode === 0,
            60_000,
        );
    }
    t.regex(failed.legs[0].error ?? "", /^migrating vnf from lab-1 to lab-2 failed: host lab-2's libvirtd does not answer .*; vnf keeps running on lab-1$/);
    t.is((await virsh(uris["lab-1"], ["domstate", domain])).trim(), "running");

    // Down: the stack, then the lab; nothing is left.
    await closeHostAccesses();
    const down = await runKitCommand("down", ["--stack", "lab"]);
    t.is(down.code, 0, down.output.slice(-3000));
    stackUp = false;
    const labDown = lab(t, "down");
    t.is(labDown.code, 0, labDown.out);
    t.deepEqual(labNamespaces(), []);
    t.is(spawnSync("ip", ["link", "show", "dev", LAB_BRIDGE], { stdio: "ignore" }).status, 1, "the bridge is gone");
    t.deepEqual(processesWithLabMounts(), []);
    t.false(spawnSync("pgrep", ["-af", "qemu-system"], { encoding: "utf8" }).stdout.includes("nfv-testpod-lab-"), "no QEMU of the lab stack runs");
    t.is(readFileSync(pool2M, "utf8").trim(), poolBefore, "the machine's 2M hugepage pool is back to its size before the lab");
    t.log(`the lab stack test took ${((Date.now() - started) / 1000).toFixed(0)} s`);
});
