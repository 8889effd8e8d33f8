/**
 * A CLI killed with SIGKILL at any point of `up` or `destroy` must leave a
 * stack that `npm run up` and `npm run down` bring back to a known state with
 * no hand-run command, and no engine helper may outlive it. After each
 * recovery the state (`pulumi stack export`) has no pending operation, and
 * after an up `pulumi preview --expect-no-changes` passes. At the end no
 * domain, shm file, hugepage or kit process is left.
 */
import test, { type ExecutionContext } from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearStaleLocks, projectRoot, selectStack, stackOutputs } from "../../tools/cli/engine";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, removeDomainsWithPrefix, shmFilesWithPrefix } from "../helpers/host";
import { kitProcesses, runKitCommand, runPulumiIn, stackState, startPulumi, waitFor, type RunningCli } from "../helpers/engineRun";

const STACK = "ci";
const PREFIX = "nfv-testpod-ci";

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

/**
 * `npm run up` (or down) after a crash: it must succeed, and its time is what a user waits. Then the state
 * says what it converged to: no operation left pending (a plain `pulumi up` would have kept a pending create,
 * so none left means the kit's refresh ran), and after up a preview with nothing to change; after down, no
 * resource left in the state.
 */
async function recover(t: ExecutionContext, command: "up" | "down", at: string, stack = STACK, extra: string[] = []): Promise<number> {
    const r = await runKitCommand(command, ["--stack", stack, ...extra]);
    t.is(r.code, 0, `npm run ${command} after a crash at ${at} failed:\n${r.output}`);
    t.log(`crash at ${at}: npm run ${command} converged in ${r.seconds.toFixed(1)} s`);
    await assertConverged(t, command, at, stack, extra);
    return r.seconds;
}

async function assertConverged(t: ExecutionContext, command: "up" | "down", at: string, stack: string, extra: string[]): Promise<void> {
    const state = await stackState(stack);
    t.deepEqual(state.pending, [], `no pending operation in the state after npm run ${command} recovered from ${at}`);
    if (command === "down") {
        t.deepEqual(
            state.resources.filter((r) => !r.startsWith("pulumi:")),
            [],
            `no resource left in the state after npm run down (${at})`,
        );
        return;
    }
    const preview = await runPulumiIn(projectRoot, ["preview", "--expect-no-changes", "--stack", stack, ...extra]);
    t.is(preview.code, 0, `pulumi preview --expect-no-changes after recovering from ${at}:\n${preview.output}`);
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
    await assertPodUp(t, "program start");
    await recover(t, "down", "program start (teardown)");

    // 2. Domain creation: a domain is defined and booting when the CLI dies.
    cli = up();
    await waitFor("a guest's domain to be defined", async () => (await domainsWithPrefix(PREFIX)).length > 0);
    await killCli(t, cli, "domain creation");
    // The state holds the create the dead CLI started: what `npm run up` names, then clears.
    const left = await stackState(STACK);
    t.true(
        left.pending.some((op) => /^creating of pod-(vnf|peer)-domain$/.test(op)),
        `the killed CLI left a guest's create pending: ${left.pending.join(", ") || "none"}`,
    );
    const recovered = await runKitCommand("up", ["--stack", STACK]);
    t.is(recovered.code, 0, recovered.output);
    t.true(
        recovered.output.includes(`The last run of stack ${STACK} was interrupted (${left.pending.join(", ")} did not finish).`),
        `up names what was interrupted:\n${recovered.output}`,
    );
    t.log(`crash at domain creation: npm run up converged in ${recovered.seconds.toFixed(1)} s`);
    await assertConverged(t, "up", "domain creation", STACK, []);
    await assertPodUp(t, "domain creation");
    t.is(hugepages2M(), hugepagesBefore + 256, "the pod's pages are reserved once, not twice");

    // 3. Destroy: the first guest is gone when the CLI dies.
    cli = startPulumi(["destroy", "--yes", "--skip-preview", "--stack", STACK]);
    await waitFor("destroy to remove a guest", async () => (await domainsWithPrefix(PREFIX)).length < 2);
    await killCli(t, cli, "destroy");
    await recover(t, "down", "destroy");

    t.deepEqual(await domainsWithPrefix(PREFIX), [], "no domain left");
    t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file left");
    t.is(hugepages2M(), hugepagesBefore, "every hugepage given back");
    t.deepEqual(kitProcesses(), [], "no kit process left");
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
    const left = await stackState(stack);
    t.deepEqual(left.pending, ["creating of pod-probes"], "the killed CLI left the probe suite's create pending");

    const recovering = Date.now();
    await recover(t, "up", "probes", stack, ["--config-file", config]);
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
    t.deepEqual(await domainsWithPrefix(prefix), [`${prefix}-vnf`]);

    await recover(t, "down", "probes (teardown)", stack);
    t.deepEqual(await domainsWithPrefix(prefix), []);
    t.is(hugepages2M(), hugepagesBefore);
    t.deepEqual(kitProcesses(), []);
});
