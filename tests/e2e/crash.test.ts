/**
 * A CLI killed with SIGKILL at any point of `up` or `destroy` must leave a
 * stack that `npm run up` and `npm run down` bring back to a known state with
 * no hand-run command, and no engine helper may outlive it. At the end no
 * domain, shm file, hugepage or kit process is left.
 */
import test, { type ExecutionContext } from "ava";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearStaleLocks, selectStack } from "../../tools/cli/engine";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, removeDomainsWithPrefix, shmFilesWithPrefix } from "../helpers/host";
import { kitProcesses, runKitCommand, startPulumi, waitFor, type RunningCli } from "../helpers/engineRun";

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

/** `npm run up` (or down) after a crash: it must succeed, and its time is what a user waits. */
async function recover(t: ExecutionContext, command: "up" | "down", at: string, extra: string[] = []): Promise<number> {
    const r = await runKitCommand(command, ["--stack", STACK, ...extra]);
    t.is(r.code, 0, `npm run ${command} after a crash at ${at} failed:\n${r.output}`);
    t.log(`crash at ${at}: npm run ${command} converged in ${r.seconds.toFixed(1)} s`);
    return r.seconds;
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
    const recovered = await runKitCommand("up", ["--stack", STACK]);
    t.is(recovered.code, 0, recovered.output);
    t.regex(recovered.output, /was interrupted \(.*creating.*\)|was interrupted/, "up says the last run was interrupted");
    t.regex(recovered.output, /pulumi refresh --clear-pending-creates/, "and that it refreshes first");
    t.log(`crash at domain creation: npm run up converged in ${recovered.seconds.toFixed(1)} s`);
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
    // Report mode, so the rerun succeeds under TCG; long enough to be killed mid-run.
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

    const r = await runKitCommand("up", ["--stack", stack, "--config-file", config]);
    t.is(r.code, 0, r.output);
    t.log(`crash during the probes: npm run up converged in ${r.seconds.toFixed(1)} s`);
    t.regex(r.output, /## Probes: /, "the probes ran to the end and their table is shown");
    t.deepEqual(await domainsWithPrefix(prefix), [`${prefix}-vnf`]);

    const down = await runKitCommand("down", ["--stack", stack]);
    t.is(down.code, 0, down.output);
    t.deepEqual(await domainsWithPrefix(prefix), []);
    t.is(hugepages2M(), hugepagesBefore);
    t.deepEqual(kitProcesses(), []);
});
