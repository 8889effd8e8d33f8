/**
 * A CLI killed with SIGKILL at any point of `up` or `destroy` must leave a
 * stack that `npm run up` and `npm run down` bring back to a known state with
 * no hand-run command, and no engine helper may outlive it. After each
 * recovery the engine itself must find nothing left to do
 * (`--expect-no-changes`). At the end no domain, shm file, hugepage, ledger
 * entry or kit process is left, and the state holds nothing.
 */
import test, { type ExecutionContext } from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearStaleLocks, runPulumi, selectStack, stackOutputs } from "../../tools/cli/engine";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, ledgerEntries, removeDomainsWithPrefix, shmFilesWithPrefix } from "../helpers/host";
import { exportedState, killCliAndPlugins, kitProcesses, runKitCommand, startPulumi, waitFor, type RunningCli } from "../helpers/engineRun";

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

test.serial("kill -9 of the CLI at program start, during domain creation and during destroy: npm run up / down converge, nothing is left", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    selectStack(STACK);
    clearStaleLocks(STACK, (line) => t.log(line));
    t.teardown(async () => {
        await runKitCommand("down", ["--stack", STACK]);
        await removeDomainsWithPrefix(PREFIX);
    });
    const up = () => startPulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);

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

    // 2. Domain creation: a domain is defined and booting when the CLI dies.
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

    // 3. Destroy: the first guest is gone when the CLI dies.
    cli = startPulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
    await waitFor("destroy to remove a guest", async () => (await domainsWithPrefix(PREFIX)).length < 2);
    await killCli(t, cli, "destroy");
    await recover(t, "down", "destroy");
    await expectNoChanges(t, STACK, "down", "destroy");
    await assertStackEmpty(t, STACK, "destroy");

    t.deepEqual(await domainsWithPrefix(PREFIX), [], "no domain left");
    t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file left");
    t.is(hugepages2M(), hugepagesBefore, "every hugepage given back");
    t.deepEqual(kitProcesses(), [], "no kit process left");
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
    // What other stacks hold on this machine is not this down's to remove.
    const othersLedger = () => ledgerEntries().filter((e) => !e.includes(`urn:pulumi:${STACK}::`));
    const othersDomains = async () => (await virshDomains()).filter((d) => !d.startsWith(PREFIX));
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
    const config = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-crash-")), "Pulumi.probe-gate.yaml");
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
