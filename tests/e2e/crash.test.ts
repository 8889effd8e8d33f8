/**
 * A CLI killed with SIGKILL at any point of `up` or `destroy` must leave a
 * stack that `npm run up` and `npm run down` bring back to a known state with
 * no hand-run command, and no engine helper may outlive it. After each
 * recovery the engine itself must find nothing left to do
 * (`--expect-no-changes`). The kill points: program start, the hugepage
 * reservation (its ledger entry "changing"), a live update (a vCPU thread
 * moved), the shm create (its ledger entry written), a domain's create, a
 * destroy and the probes; each is found by watching the host, never by a
 * sleep alone. At the end no domain, shm file, hugepage (the pool and
 * /proc/meminfo), ledger entry, kit process, ssh folder or ssh-agent is left,
 * and the state holds nothing.
 */
import test, { type ExecutionContext } from "ava";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearStaleLocks, runPulumi, selectStack, stackOutputs } from "../../tools/cli/engine";
import { SSH_DIR_PREFIX } from "../../components/host/access/sshDir";
import {
    domainsWithPrefix,
    hugepages2M,
    hugepagesSettled,
    ledgerEntries,
    ledgerFiles,
    meminfoHugePages,
    removeDomainsWithPrefix,
    shmFilesWithPrefix,
    sshDirsOfThisCheckout,
} from "../helpers/host";
import { exportedState, killCliAndPlugins, kitProcesses, runKitCommand, startPulumi, waitFor, type RunningCli } from "../helpers/engineRun";
import { scratchFolder } from "../helpers/scratch";
import { domainInThisLane } from "../helpers/lane";

const STACK = "ci";
const PREFIX = "nfv-testpod-ci";
/** Every domain on this machine's libvirt. */
const virshDomains = () => domainsWithPrefix("");

/** Kills the CLI with SIGKILL, then requires every helper it started to be gone within 5 s. */
async function killCli(t: ExecutionContext, cli: RunningCli, at: string): Promise<void> {
    cli.child.kill("SIGKILL");
    await cli.exited;
    await waitFor(`the engine's helpers to exit after the CLI was killed at ${at}`, () => kitProcesses().length === 0, 5_000).catch((err) => {
        t.fail(
            `${err.message}; still running: ${kitProcesses()
                .map((p) => `${p.pid} ${p.command}`)
                .join("; ")}`,
        );
    });
}

/** `npm run up` (or down) after a crash: it must succeed, and its time is what a user waits. */
async function recover(t: ExecutionContext, command: "up" | "down", at: string, extra: string[] = []): Promise<number> {
    const r = await runKitCommand(command, ["--stack", STACK, ...extra]);
    t.is(r.code, 0, `npm run ${command} after a crash at ${at} failed:\n${r.output}`);
    t.log(`crash at ${at}: npm run ${command} converged in ${r.seconds.toFixed(1)} s`);
    return r.seconds;
}

/**
 * After a recovery the engine finds nothing left to do: after `up`, a preview
 * that reads the program finds the state as it asks; after `down`, a refresh
 * that reads the hosts finds the state as they are.
 */
async function expectNoChanges(t: ExecutionContext, stack: string, after: "up" | "down", at: string, extra: string[] = []): Promise<void> {
    const args = after === "up" ? ["preview", "--expect-no-changes"] : ["refresh", "--yes", "--skip-preview", "--expect-no-changes"];
    const r = await runPulumi([...args, "--stack", stack, ...extra]);
    t.is(r.code, 0, `pulumi ${args.join(" ")} after npm run ${after} (crash at ${at}) found changes:\n${r.stdout}\n${r.stderr}`);
}

/** After `npm run down`: the state holds no resource and no pending operation, and the host no ledger entry of the stack. */
async function assertStackEmpty(t: ExecutionContext, stack: string, at: string): Promise<void> {
    const state = await exportedState(stack);
    t.deepEqual(state.resources, [], `the state holds no resource after npm run down (crash at ${at})`);
    t.deepEqual(state.pending, [], `the state holds no pending operation after npm run down (crash at ${at})`);
    t.deepEqual(ledgerEntries(stack), [], `no ledger entry of stack ${stack} after npm run down (crash at ${at})`);
}

async function assertPodUp(t: ExecutionContext, at: string): Promise<void> {
    t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [`${PREFIX}-peer`, `${PREFIX}-vnf`], `both guests run after recovering from ${at}`);
    t.is(shmFilesWithPrefix(PREFIX).length, 1, `one shm file after recovering from ${at}`);
}

/** The ledger entries of `stack` of one kind ("hugepages", "shm"), as the files hold them. */
function ledgerHolds(stack: string, kind: string): { holds: { phase?: string; count?: number; path?: string } }[] {
    return Object.entries(ledgerFiles(stack))
        .filter(([file]) => path.basename(path.dirname(file)) === kind)
        .map(([, text]) => JSON.parse(text));
}

/**
 * Each vCPU's host CPUs as the kernel runs its thread now ("CPU 1/TCG", "CPU 1/KVM" → Cpus_allowed_list):
 * what a live pin change moves first, read from /proc so it can be watched every few ms.
 */
function vcpuAffinity(domain: string): Record<string, string> {
    const pins: Record<string, string> = {};
    try {
        const pid = readFileSync(`/run/libvirt/qemu/${domain}.pid`, "utf8").trim();
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
            const vcpu = /^CPU (\d+)\//.exec(readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8"))?.[1];
            if (vcpu !== undefined) pins[vcpu] = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8"))?.[1] ?? "";
        }
    } catch {
        // The guest is not running (or stopped while we read): no threads.
    }
    return pins;
}

/**
 * The kit's ssh folders in /tmp (host/access/sshDir.ts) and the ssh-agents bound in one, left out those of a live
 * run of another checkout or lane (the lab VM test npm test runs beside this one): theirs are in use, not left.
 */
function sshLeftovers(): { dirs: string[]; agents: string[] } {
    const dirs = sshDirsOfThisCheckout();
    const agents: string[] = [];
    for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
        try {
            const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
            // An agent whose folder is gone counts too: nothing holds it any more.
            const dir = cmd.startsWith("ssh-agent") ? new RegExp(`${os.tmpdir()}/(${SSH_DIR_PREFIX}[^/ ]+)`).exec(cmd)?.[1] : undefined;
            if (dir !== undefined && (dirs.includes(dir) || !existsSync(path.join(os.tmpdir(), dir)))) agents.push(`${pid}: ${cmd}`);
        } catch {
            // Ended meanwhile.
        }
    }
    return { dirs, agents };
}

/** The stack's config file with the host's housekeeping and isolated CPUs swapped: every pin moves, nothing is replaced. */
function swappedPinsConfig(): string {
    const config = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-crash-")), "Pulumi.ci.yaml");
    const text = readFileSync("stacks/Pulumi.ci.yaml", "utf8");
    const swapped = text.replace('housekeepingCpus: "0"', 'housekeepingCpus: "1"').replace('isolatedCpus: "1"', 'isolatedCpus: "0"');
    if (swapped === text) throw new Error('stacks/Pulumi.ci.yaml no longer names housekeepingCpus "0" and isolatedCpus "1"');
    writeFileSync(config, swapped);
    return config;
}

test.serial("kill -9 at program start, in hugepages, a live update, the shm create, a domain's create, destroy: up/down converge", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const meminfoBefore = meminfoHugePages();
    const sshBefore = sshLeftovers();
    selectStack(STACK);
    clearStaleLocks(STACK, (line) => t.log(line));
    t.teardown(async () => {
        await runKitCommand("down", ["--stack", STACK]);
        await removeDomainsWithPrefix(PREFIX);
    });
    const up = (extra: string[] = []) => startPulumi(["up", "--yes", "--skip-preview", "--stack", STACK, ...extra]);

    // 1. Program start: the engine has started the language host and the program, nothing is created yet.
    let cli = up();
    await waitFor("the program to start", () => kitProcesses().some((p) => p.command.includes("@pulumi/pulumi/cmd/run")), 60_000);
    await killCli(t, cli, "program start");
    await recover(t, "up", "program start");
    await expectNoChanges(t, STACK, "up", "program start");
    await assertPodUp(t, "program start");
    await recover(t, "down", "program start (teardown)");
    await expectNoChanges(t, STACK, "down", "program start (teardown)");
    await assertStackEmpty(t, STACK, "program start (teardown)");

    // 2. The hugepage reservation: its ledger entry says "changing" (intent written, the pool write under way or just
    // made) when the whole run dies. `npm run up` settles the entry from the pool and takes the pages once.
    cli = up();
    await waitFor("the stack's hugepage entry to say changing", () => ledgerHolds(STACK, "hugepages").some((e) => e.holds.phase === "changing"), 180_000, 5);
    killCliAndPlugins(cli);
    t.log(`killed in the hugepage reservation with the pool at ${hugepages2M()} pages (${hugepagesBefore} before, 256 asked)`);
    await cli.exited;
    await waitFor("the engine's helpers to be gone", () => kitProcesses().length === 0, 5_000);
    t.true(
        (await exportedState(STACK)).pending.some((op) => op.type === "creating" && op.urn.includes("nfvkit:host:HugepageReservation")),
        "the kill left the reservation's create pending",
    );
    await recover(t, "up", "the hugepage reservation");
    await expectNoChanges(t, STACK, "up", "the hugepage reservation");
    await assertPodUp(t, "the hugepage reservation");
    t.is(hugepages2M(), hugepagesBefore + 256, "the pod's pages are reserved once, not twice, after a kill in their reservation");
    t.deepEqual(
        ledgerHolds(STACK, "hugepages").map((e) => e.holds),
        [{ node: 0, sizeKiB: 2048, count: 256, phase: "held" }],
        "the entry holds the pod's pages, settled",
    );

    // 3. A live update: the host's housekeeping and isolated CPUs swap, so `up` moves every pin of both running
    // guests; the whole run dies as soon as the first vCPU thread has moved. `npm run up` finishes the move.
    const swapped = swappedPinsConfig();
    t.teardown(() => rmSync(path.dirname(swapped), { recursive: true, force: true }));
    const pinsBefore = { vnf: vcpuAffinity(`${PREFIX}-vnf`), peer: vcpuAffinity(`${PREFIX}-peer`) };
    const qemuPids = () => [`${PREFIX}-vnf`, `${PREFIX}-peer`].map((d) => readFileSync(`/run/libvirt/qemu/${d}.pid`, "utf8").trim());
    const qemuBefore = qemuPids();
    t.deepEqual(pinsBefore, { vnf: { "0": "0", "1": "1" }, peer: { "0": "0" } }, "the guests run on the stack's pins before the update");
    cli = up(["--config-file", swapped]);
    await waitFor(
        "a guest's vCPU thread to move to its new CPU",
        () =>
            JSON.stringify(vcpuAffinity(`${PREFIX}-vnf`)) !== JSON.stringify(pinsBefore.vnf) ||
            JSON.stringify(vcpuAffinity(`${PREFIX}-peer`)) !== JSON.stringify(pinsBefore.peer),
        180_000,
        5,
    );
    killCliAndPlugins(cli);
    await cli.exited;
    await waitFor("the engine's helpers to be gone", () => kitProcesses().length === 0, 5_000);
    const updating = (await exportedState(STACK)).pending.filter((op) => op.type === "updating").map((op) => op.urn.split("::").pop());
    t.true(updating.length > 0, "the kill left a guest's update pending");
    t.log(`killed in the live update with pending: ${updating.join(", ")}`);
    await recover(t, "up", "a live update", ["--config-file", swapped]);
    await expectNoChanges(t, STACK, "up", "a live update", ["--config-file", swapped]);
    await assertPodUp(t, "a live update");
    t.deepEqual(
        { vnf: vcpuAffinity(`${PREFIX}-vnf`), peer: vcpuAffinity(`${PREFIX}-peer`) },
        { vnf: { "0": "1", "1": "0" }, peer: { "0": "1" } },
        "every vCPU runs on its new CPU after the recovery",
    );
    t.deepEqual(qemuPids(), qemuBefore, "the guests were updated in place: the same QEMU processes run them");
    await recover(t, "down", "a live update (teardown)");
    await expectNoChanges(t, STACK, "down", "a live update (teardown)");
    await assertStackEmpty(t, STACK, "a live update (teardown)");
    t.is(hugepages2M(), hugepagesBefore, "the pages are given back");

    // 4. The shm create: the link's ledger entry is written (its record on the host; the file itself comes with
    // the first guest) and no guest is defined yet when the whole run dies. `npm run down` removes what it made.
    cli = up();
    await waitFor("the link's ledger entry", () => ledgerHolds(STACK, "shm").length > 0, 180_000, 5);
    killCliAndPlugins(cli);
    await cli.exited;
    await waitFor("the engine's helpers to be gone", () => kitProcesses().length === 0, 5_000);
    t.deepEqual(await domainsWithPrefix(PREFIX), [], "the kill came before any guest was defined");
    t.log(
        `killed in the shm create with pending: ${(await exportedState(STACK)).pending.map((op) => `${op.type} ${op.urn.split("::").pop()}`).join(", ") || "none"}`,
    );
    await recover(t, "down", "the shm create");
    await expectNoChanges(t, STACK, "down", "the shm create");
    await assertStackEmpty(t, STACK, "the shm create");
    t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file after the shm create's recovery");
    t.is(hugepages2M(), hugepagesBefore, "no page kept after the shm create's recovery");

    // 5. Domain creation: a domain is defined and booting when the CLI dies.
    cli = up();
    await waitFor("a guest's domain to be defined", async () => (await domainsWithPrefix(PREFIX)).length > 0);
    await killCli(t, cli, "domain creation");
    // The state holds the create the dead CLI began: what `npm run up` names, then clears.
    const left = (await exportedState(STACK)).pending.map((op) => `${op.type} of ${op.urn.split("::").pop()}`);
    t.true(
        left.some((op) => /^creating of pod-(vnf|peer)-domain$/.test(op)),
        `the killed CLI left a guest's create pending: ${left.join(", ") || "none"}`,
    );
    const recovered = await runKitCommand("up", ["--stack", STACK]);
    t.is(recovered.code, 0, recovered.output);
    t.true(
        recovered.output.includes(`The last run of stack ${STACK} was interrupted (${left.join(", ")} did not finish).`),
        `up names what was interrupted:\n${recovered.output}`,
    );
    t.deepEqual((await exportedState(STACK)).pending, [], "no operation left pending after the recovery");
    t.log(`crash at domain creation: npm run up converged in ${recovered.seconds.toFixed(1)} s`);
    await expectNoChanges(t, STACK, "up", "domain creation");
    await assertPodUp(t, "domain creation");
    t.is(hugepages2M(), hugepagesBefore + 256, "the pod's pages are reserved once, not twice");

    // 6. Destroy: the first guest is gone when the CLI dies.
    cli = startPulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
    await waitFor("destroy to remove a guest", async () => (await domainsWithPrefix(PREFIX)).length < 2);
    await killCli(t, cli, "destroy");
    await recover(t, "down", "destroy");
    await expectNoChanges(t, STACK, "down", "destroy");
    await assertStackEmpty(t, STACK, "destroy");

    t.deepEqual(await domainsWithPrefix(PREFIX), [], "no domain left");
    t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file left");
    t.is(hugepages2M(), hugepagesBefore, "every hugepage given back");
    t.is(meminfoHugePages(), meminfoBefore, "/proc/meminfo counts as many hugepages as before");
    t.deepEqual(ledgerEntries(STACK), [], "no ledger entry of the stack");
    t.deepEqual(kitProcesses(), [], "no kit process left");
    const sshAfter = sshLeftovers();
    t.deepEqual(
        { dirs: sshAfter.dirs.filter((d) => !sshBefore.dirs.includes(d)), agents: sshAfter.agents.filter((a) => !sshBefore.agents.includes(a)) },
        { dirs: [], agents: [] },
        "no ssh folder (key file) or ssh-agent of the kit's left",
    );
});

test.serial("kill -9 of up and its plugins while a domain boots, then npm run down: what the unfinished creates made is removed, nothing else", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    selectStack(STACK);
    clearStaleLocks(STACK, (line) => t.log(line));
    t.teardown(async () => {
        await runKitCommand("down", ["--stack", STACK]);
        await removeDomainsWithPrefix(PREFIX);
    });
    t.deepEqual(await exportedState(STACK).then((s) => s.resources), [], "the ci stack starts empty");
    // What other stacks hold on this machine is not this down's to remove. Guests of the tests beside this run
    // come and go on their own meanwhile (tests/helpers/lane.ts), so they are not counted.
    const othersLedger = () => ledgerEntries().filter((e) => !e.includes(`urn:pulumi:${STACK}::`));
    const othersDomains = async () => (await virshDomains()).filter((d) => !d.startsWith(PREFIX) && domainInThisLane(d));
    const [ledgerOfOthers, domainsOfOthers] = [othersLedger(), await othersDomains()];

    // The whole run dies (CLI, provider plugin, language host) two seconds after the first domain appeared:
    // the pages and the shm file are reserved and recorded, and at least one domain's create has begun but not reported.
    const cli = startPulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
    await waitFor("a guest's domain to be defined", async () => (await domainsWithPrefix(PREFIX)).length > 0);
    await new Promise((r) => setTimeout(r, 2_000));
    killCliAndPlugins(cli);
    await cli.exited;
    await waitFor("the engine's helpers to be gone", () => kitProcesses().length === 0, 5_000);
    const left = await exportedState(STACK);
    const pendingDomains = left.pending.filter((op) => op.type === "creating" && op.urn.includes("nfvkit:libvirt:Domain"));
    t.true(pendingDomains.length > 0, `the kill left a domain's create unfinished in the state: ${JSON.stringify(left.pending)}`);
    t.true((await domainsWithPrefix(PREFIX)).length > 0, "and the domain it made on the host");
    t.log(
        `killed with ${(await domainsWithPrefix(PREFIX)).join(", ")} on the host and pending: ${left.pending.map((op) => `${op.type} ${op.urn.split("::").pop()}`).join(", ")}`,
    );

    const down = await runKitCommand("down", ["--stack", STACK]);
    t.is(down.code, 0, `npm run down after the crash failed:\n${down.output}`);
    t.log(`crash at domain creation: npm run down converged in ${down.seconds.toFixed(1)} s`);
    await expectNoChanges(t, STACK, "down", "domain creation (down)");

    t.deepEqual(await domainsWithPrefix(PREFIX), [], "no domain with the stack's prefix");
    t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file with the stack's prefix");
    t.is(hugepages2M(), hugepagesBefore, "the pool is back to its size before the up");
    await assertStackEmpty(t, STACK, "domain creation (down)");
    t.deepEqual(kitProcesses(), [], "no kit process left");
    t.deepEqual(othersLedger(), ledgerOfOthers, "other stacks' ledger entries are as they were");
    t.deepEqual(await othersDomains(), domainsOfOthers, "other domains are as they were");
});

test.serial("kill -9 of the CLI while the probes run: npm run up runs them again and the gate reports", async (t) => {
    const stack = "probe-gate";
    const prefix = "nfv-testpod-probe-gate";
    const hugepagesBefore = await hugepagesSettled();
    selectStack(stack);
    clearStaleLocks(stack, (line) => t.log(line));
    // Report mode, so the rerun succeeds whatever the figures (KVM or TCG); long enough to be killed mid-run.
    const config = path.join(scratchFolder(t, "nfvkit-crash-"), "Pulumi.probe-gate.yaml");
    writeFileSync(config, readFileSync("stacks/Pulumi.probe-gate.yaml", "utf8").replace("nfv-testpod:gate: enforce", "nfv-testpod:gate: report"));
    t.teardown(async () => {
        await runKitCommand("down", ["--stack", stack]);
        await removeDomainsWithPrefix(prefix);
    });
    const cli = startPulumi(["up", "--yes", "--skip-preview", "--stack", stack, "--config-file", config]);
    await waitFor("the probe suite to start", () => /nfvkit:probes:ProbeSuite.*creating/.test(cli.output()));
    await new Promise((r) => setTimeout(r, 2_000));
    await killCli(t, cli, "probes");
    t.deepEqual(
        (await exportedState(stack)).pending.map((op) => `${op.type} of ${op.urn.split("::").pop()}`),
        ["creating of pod-probes"],
        "the killed CLI left the probe suite's create pending",
    );

    const recovering = Date.now();
    const r = await runKitCommand("up", ["--stack", stack, "--config-file", config]);
    t.is(r.code, 0, r.output);
    t.log(`crash during the probes: npm run up converged in ${r.seconds.toFixed(1)} s`);
    // The probes ran to the end: their report was written by this run, every check measured, and the stack's outputs hold the same verdict.
    const written = JSON.parse(readFileSync(`results/${stack}/probes.json`, "utf8"));
    t.true(Date.parse(written.generatedAt) >= recovering, `results/${stack}/probes.json was written by the recovering up (${written.generatedAt})`);
    t.not(written.partial, true, "the report is not a partial one");
    t.is(written.checks.length, 3, "timer avg, timer max, IRQ max");
    t.true(
        written.checks.every((c: { measuredUs: number | null }) => typeof c.measuredUs === "number" && c.measuredUs > 0),
        JSON.stringify(written.checks),
    );
    const probes = (await stackOutputs(stack)).probes as { pass: boolean; failures: string[] };
    t.deepEqual(
        { pass: probes.pass, failures: probes.failures },
        { pass: written.pass, failures: written.failures },
        "the stack outputs hold the report's verdict",
    );
    await expectNoChanges(t, stack, "up", "probes", ["--config-file", config]);
    t.deepEqual(await domainsWithPrefix(prefix), [`${prefix}-vnf`]);

    const down = await runKitCommand("down", ["--stack", stack]);
    t.is(down.code, 0, down.output);
    await expectNoChanges(t, stack, "down", "probes (teardown)");
    await assertStackEmpty(t, stack, "probes (teardown)");
    t.deepEqual(await domainsWithPrefix(prefix), []);
    t.is(hugepages2M(), hugepagesBefore);
    t.deepEqual(kitProcesses(), []);
});
