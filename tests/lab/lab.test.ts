/**
 * The emulated lab for real: `npm run lab -- up` builds two hosts, each is
 * reached the way a stack reaches it (the kit's SshHostAccess with the lab
 * key and the pinned host key, libvirt through libvirtUri), each is its own
 * machine to libvirt (host_uuid, /run, domains), a guest rendered by the kit
 * moves from one to the other with `virsh migrate --live`, `up` again changes
 * nothing, and `down` leaves nothing behind. t.teardown always runs `lab down`.
 *
 * Then the lab stack as the README runs it (`npm run lab -- up && npm run up
 * -- --stack lab`, the real engine), the migration probe through `npm run
 * probe` (vnf lab-1 → lab-2 → lab-1, every figure, pins on the destination),
 * the gate at the seed's and at loose targets, the network-downtime
 * cross-check, and two migrations that cannot succeed (lab-2 without free
 * hugepages, lab-2's libvirtd stopped) that must name the host and the cause
 * and leave vnf running on lab-1. One file, serial tests: one lab per machine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { closeHostAccesses, hostAccess, libvirtUri, type HostAccess } from "../../components/host/access";
import { chooseAccel } from "../../components/host/accel";
import { discoverMemoryLocking } from "../../components/host/memoryLocking";
import { guestExec, waitForAgent } from "../../components/libvirt/guestAgent";
import { virsh } from "../../components/host/access/virsh";
import { resolvePod } from "../../components/plan/resolvePod";
import { renderDomainXml } from "../../components/render/domainXml";
import { ensureGuestImage } from "../../guest-images/build";
import { running } from "../../tools/lab/lab";
import { LAB_BRIDGE, LAB_NAMESPACE_PATTERN, LAB_STATE_DIR } from "../../tools/lab/layout";
import { labSshTargets, readLabState } from "../../tools/lab/state";
import * as yaml from "js-yaml";
import type { ExecutionContext } from "ava";
import { checkMigrationSettings } from "../../components/probes/migrationConfig";
import { migrationGuestViews } from "../../components/probes/migrationPlan";
import { runMigrations } from "../../components/probes/migrationRunner";
import { judgeMigration, migrationNotes } from "../../components/probes/migrationVerdict";
import { migrationChartName } from "../../components/probes/reports";
import { DEFAULT_TARGETS, resolveTargets } from "../../components/probes/targets";
import type { MigrationLeg, MigrationResult } from "../../components/probes/types";
import { guestShell } from "../../components/libvirt/guestAgent";
import { inHost } from "../../tools/lab/lab";
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

/** The kit's domain XML for a 256 MiB one-vCPU guest on a lab host, as tests/provider/domain.test.ts renders one locally. */
async function labGuestXml(
    access: HostAccess,
    uri: string,
    hostName: string,
    image: { kernel: string; initrd: string },
    consoleLog: (domain: string) => string,
) {
    const pod = resolvePod(
        {
            hosts: [
                {
                    name: hostName,
                    uri: "qemu+ssh://root@10.213.100.11/system",
                    housekeepingCpus: "0",
                    isolatedCpus: "1",
                    topology: { numaNodes: [{ id: 0, cpus: "0-1" }] },
                },
            ],
            guests: [
                {
                    name: "mig",
                    host: hostName,
                    emulatorCpus: "0",
                    memory: "256M",
                    pageSize: "4K",
                    vcpus: 1,
                    rtVcpus: [],
                    cpus: [1],
                    knobs: (await discoverMemoryLocking(access)).supported ? {} : { locked: false, memtuneHardLimit: false },
                },
            ],
        },
        { namePrefix: PREFIX },
    );
    const guest = pod.guests[0];
    const { accel } = await chooseAccel(uri, "auto", access);
    const xml = renderDomainXml(guest, {
        virtType: accel === "kvm" ? "kvm" : "qemu",
        kernelPath: image.kernel,
        initrdPath: image.initrd,
        baseCmdline: "console=ttyS0 nfvkit.name=mig",
        consoleLogPath: consoleLog(guest.domainName),
    });
    return { name: guest.domainName, xml };
}

async function waitForLine(access: HostAccess, file: string, pattern: RegExp, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
        const text = (await access.tryReadFile(file)) ?? "";
        if (pattern.test(text)) return Date.now() - t0;
        if (Date.now() - t0 > timeoutMs)
            throw new Error(`${pattern} did not show in ${file} on ${access.name} within ${timeoutMs / 1000} s:\n${text.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 1000));
    }
}

/** "Time elapsed:     847          ms" style figures of `virsh domjobinfo --completed`. */
function jobFigure(info: string, label: string): number | undefined {
    const m = new RegExp(`^${label}:\\s+([\\d.]+)\\s+ms`, "m").exec(info);
    return m ? Number(m[1]) : undefined;
}

test("two lab hosts: reached over SSH with pinned keys, separate libvirts, a live migration between them; up is idempotent; down leaves nothing", async (t) => {
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

    // A guest defined on A is A's only.
    const consoleLog = (domain: string) => `/var/log/libvirt/qemu/${domain}-console.log`;
    const guest = await labGuestXml(a, uriA, "lab-1", image, consoleLog);
    const xmlFile = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-lab-test-")), "guest.xml");
    writeFileSync(xmlFile, guest.xml);
    await virsh(uriA, ["define", xmlFile]);
    t.deepEqual((await virsh(uriA, ["list", "--all", "--name"])).trim().split("\n"), [guest.name]);
    t.is((await virsh(uriB, ["list", "--all", "--name"])).trim(), "", "lab-2 does not see lab-1's guest");

    // Booted on A, then moved live to B.
    await virsh(uriA, ["start", guest.name]);
    const bootMs = await waitForLine(a, consoleLog(guest.name), /NFVKIT-READY name=mig/, 240_000);
    await waitForAgent(uriA, guest.name, 60_000);
    t.log(`guest booted on lab-1 in ${(bootMs / 1000).toFixed(1)} s`);
    const uptime = async (uri: string) => Number((await guestExec(uri, guest.name, "/bin/cat", ["/proc/uptime"], 20_000)).stdout.split(" ")[0]);
    const before = await uptime(uriA);

    // Without --undefinesource the source keeps the (inactive) domain, and with it the outgoing job's figures: its elapsed time runs from the start to the end of the whole migration.
    const migrate = ["migrate", "--live", "--persistent", guest.name, uriB];
    const t0 = Date.now();
    await virsh(uriA, migrate, { timeoutMs: 300_000 });
    const wallMs = Date.now() - t0;
    const outgoing = await virsh(uriA, ["domjobinfo", "--completed", guest.name]);
    const incoming = await virsh(uriB, ["domjobinfo", "--completed", guest.name]);
    const total = jobFigure(outgoing, "Time elapsed");
    const downtime = jobFigure(outgoing, "Total downtime");
    t.log(`virsh -c <lab-1 URI> migrate --live --persistent ${guest.name} <lab-2 URI>: ${wallMs} ms wall clock (virsh's two SSH connections included)`);
    t.log(`virsh -c <lab-1 URI> domjobinfo --completed ${guest.name}: total ${total} ms, downtime ${downtime} ms\n${outgoing.trim()}`);
    t.log(`the destination's view (virsh -c <lab-2 URI> domjobinfo --completed):\n${incoming.trim()}`);
    t.true(total !== undefined && downtime !== undefined, outgoing);
    t.regex(outgoing, /Operation:\s+Outgoing migration/);

    t.is((await virsh(uriB, ["domstate", guest.name])).trim(), "running");
    t.is((await virsh(uriA, ["domstate", guest.name])).trim(), "shut off", "lab-1 keeps only the inactive definition");
    await virsh(uriA, ["undefine", guest.name]);
    const after = await uptime(uriB);
    t.true(after > before, `the same guest kept running on lab-2 (uptime ${before} s before, ${after} s after): it was moved, not rebooted`);

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
    t.false(spawnSync("pgrep", ["-af", "qemu-system"], { encoding: "utf8" }).stdout.includes(PREFIX), "no QEMU of the lab runs");
    t.false((await virsh("qemu:///system", ["list", "--all", "--name"])).includes(PREFIX), "nothing landed on the machine's libvirt");
    const downAgain = lab(t, "down");
    t.regex(downAgain.out, /nothing to take down/);
});

/** The live figures of one migration, as the probe reports them. */
function assertEveryFigure(t: ExecutionContext, leg: MigrationLeg, from: string, to: string): void {
    const where = `${from} → ${to}`;
    t.like(leg, { from, to, error: null, runsOn: to }, where);
    for (const key of [
        "totalMs",
        "setupMs",
        "iterations",
        "bytes",
        "dirtyPagesPerSec",
        "dirtyMiBps",
        "downtimeMs",
        "downtimeQemuMs",
        "networkDowntimeMs",
        "resolutionMs",
    ] as const) {
        t.is(typeof leg[key], "number", `${where}: ${key} is reported`);
    }
    t.true(leg.totalMs! > 0 && leg.iterations! >= 1 && leg.bytes! > 0 && leg.downtimeMs! > 0, where);
    // The stream asks 10 kHz; what a TCG guest reaches depends on the machine's load (docs/probes.md), so the resolution is reported, and must at least resolve the seed's 25 ms.
    t.true(leg.resolutionMs! > 0 && leg.resolutionMs! < 25, `${where}: resolution ${leg.resolutionMs} ms`);
    t.true(leg.packets > 100, `${where}: ${leg.packets} packets`);
    t.true(leg.pins.length > 0 && leg.pins.every((p) => p.actual === p.expected), `${where}: pins on the destination as planned: ${JSON.stringify(leg.pins)}`);
    t.deepEqual(leg.cputuneMissing, [], `${where}: the destination runs the plan's emulator pin and FIFO priorities`);
}

test("the lab stack end to end: lab up, then npm run up -- --stack lab; npm run probe moves vnf lab-1 → lab-2 → lab-1 with every figure; the gate at seed and loose targets; failed migrations keep vnf on lab-1; down leaves nothing", async (t) => {
    // Two engine runs, the latency probes, four migrations and a teardown under TCG on a shared 2-core machine.
    t.timeout(25 * 60_000);
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

    // The README's two commands: the lab stack's generated config is picked without --config-file.
    const podUp = await runKitCommand("up", ["--stack", "lab"]);
    stackUp = true;
    t.log(`npm run up -- --stack lab: ${podUp.seconds.toFixed(1)} s`);
    t.is(podUp.code, 0, podUp.output.slice(-4000));
    t.regex(podUp.output, /stack lab: using the lab's generated config \/var\/lib\/nfvkit-lab\/Pulumi\.lab\.yaml/);
    t.regex(podUp.output, /Pod "lab" is up/);
    const state = readLabState()!;
    const targets = labSshTargets(state);
    const uris: Record<string, string> = {};
    for (const target of targets) uris[target.name!] = await libvirtUri(target);
    const domain = "nfv-testpod-lab-vnf";
    t.is((await virsh(uris["lab-1"], ["domstate", domain])).trim(), "running");

    // The migration probe, as a person runs it: the latency probes, then vnf to lab-2 and back.
    const probe = await runKitCommand("probe", ["--stack", "lab"]);
    t.log(
        `npm run probe -- --stack lab: ${probe.seconds.toFixed(1)} s\n${probe.output
            .split("\n")
            .filter((l) => /migration/.test(l))
            .join("\n")}`,
    );
    t.is(probe.code, 0, probe.output.slice(-4000));
    const report = JSON.parse(readFileSync(path.join(root, "results", "lab", "probes.json"), "utf8")) as { migration: MigrationResult[] };
    const [vnf] = report.migration;
    t.is(vnf.guest, "vnf");
    t.is(vnf.legs.length, 2);
    assertEveryFigure(t, vnf.legs[0], "lab-1", "lab-2");
    assertEveryFigure(t, vnf.legs[1], "lab-2", "lab-1");
    t.is((await virsh(uris["lab-1"], ["domstate", domain])).trim(), "running", "vnf is back on lab-1");
    t.is((await virsh(uris["lab-2"], ["list", "--all", "--name"])).includes(domain), false, "lab-2 keeps no definition of vnf");
    const markdown = readFileSync(path.join(root, "results", "lab", "probes.md"), "utf8");
    t.regex(markdown, /### Live migration/);
    t.regex(markdown, /\| vnf \(lab-1 → lab-2\) \| idle \| \d+ ms \|/);
    for (const [i, l] of vnf.legs.entries()) {
        const svg = readFileSync(path.join(root, "results", "lab", "histograms", migrationChartName("vnf", i, l)), "utf8");
        t.regex(svg, /<svg[\s\S]*packet gaps during the migration of vnf/);
    }

    // The gate: the seed's targets fail under TCG, naming guest, figure and target; loose ones pass.
    const seedFailures = judgeMigration(report.migration, DEFAULT_TARGETS)
        .filter((c) => !c.pass)
        .map((c) => c.message!);
    t.log(`at the seed targets:\n${seedFailures.join("\n")}`);
    t.true(
        seedFailures.some((m) => /^migration downtime of vnf \(lab-1 → lab-2\): [\d.]+ ms > target 10 ms$/.test(m)),
        seedFailures.join("\n"),
    );
    t.true(
        seedFailures.some((m) => /^network downtime of vnf \(lab-\d → lab-\d\): [\d.]+ ms > target 25 ms$/.test(m)),
        seedFailures.join("\n"),
    );
    const loose = resolveTargets({ migration: { totalMs: 120_000, downtimeIoMs: 10_000, networkDowntimeMs: 10_000 } }, "nfv-testpod:targets");
    t.deepEqual(
        judgeMigration(report.migration, loose).filter((c) => !c.pass),
        [],
    );
    // Network downtime against libvirt's, within the tolerance docs/probes.md states.
    t.deepEqual(migrationNotes(report.migration), [], JSON.stringify(vnf.legs.map((l) => [l.downtimeMs, l.networkDowntimeMs])));

    // Migrations that cannot succeed: a clear error naming the host and the cause, and vnf keeps running on lab-1.
    const spec = (yaml.load(readFileSync(path.join(root, "stacks", "Pulumi.lab.yaml"), "utf8")) as { config: Record<string, unknown> }).config[
        "nfv-testpod:pod"
    ];
    const { settings } = checkMigrationSettings([{ guest: "vnf", from: "lab-1", to: "lab-2" }], "test");
    const views = migrationGuestViews(spec, settings, "nfv-testpod-lab", uris);
    const image = await ensureGuestImage();
    const migrate = () =>
        runMigrations(settings, views, {
            tool: image.programs!["nfvkit-migload"],
            receiverAddress: state.controlAddress,
            shell: (uri, d, script, timeoutMs) => guestShell(uri, d, script, timeoutMs),
            log: (line) => t.log(line),
        });
    const holder = state.hosts[1].pids.holder;
    // No free hugepages on lab-2: its hugetlbfs, covered by one that holds a single page.
    t.is((await inHost(holder, ["mount", "-t", "hugetlbfs", "-o", "size=2M", "nodev", "/dev/hugepages"])).exitCode, 0);
    let failed: MigrationResult;
    try {
        failed = (await migrate())[0];
    } finally {
        await inHost(holder, ["umount", "/dev/hugepages"]);
    }
    t.is(failed.legs.length, 1);
    t.regex(
        failed.legs[0].error ?? "",
        /^migrating vnf from lab-1 to lab-2 failed: host lab-2 has no free hugepages for the guest's .*; vnf keeps running on lab-1$/,
    );
    t.is((await virsh(uris["lab-1"], ["domstate", domain])).trim(), "running");

    // lab-2's libvirtd stopped.
    const libvirtdPid = (await inHost(holder, ["cat", "/run/libvirtd.pid"])).stdout.trim();
    t.is((await inHost(holder, ["kill", libvirtdPid])).exitCode, 0);
    await waitFor(
        "lab-2's libvirtd to stop",
        async () => (await inHost(holder, ["virsh", "-c", "qemu:///system", "uri"], { timeoutMs: 5000 })).exitCode !== 0,
        30_000,
    );
    try {
        failed = (await migrate())[0];
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
