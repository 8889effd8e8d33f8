/**
 * Locks left by killed runs, with the real engine on a file backend of the
 * test's own (issue 20, finding 9). A lock is removed only when the kit's
 * record of its run shows the run is over on this machine; a lock whose record
 * names another machine with the same hostname, or a lock with no record
 * (plain `pulumi`), stops `npm run down` with the holder and the two ways to
 * remove it by hand, and stays. The kit's records hold no secret and are gone
 * after a normal and after a failed run. Nothing is created on the host: the
 * killed `up` is given a config the program refuses, so a late kill creates
 * nothing either.
 */
import test, { type ExecutionContext } from "ava";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { kitBackendUrl, projectRoot, pulumiEnv, runPulumi, selectStack } from "../../tools/cli/engine";
import { kitProcesses, runKitCommand, startPulumi, waitFor } from "../helpers/engineRun";
import { domainsWithPrefix } from "../helpers/host";

const STACK = "ci";
const backend = mkdtempSync(path.join(os.tmpdir(), "nfvkit-locks-backend-"));
// Every pulumi and kit command of this file (pulumiEnv, runKitCommand) uses this backend, not the checkout's.
process.env.PULUMI_BACKEND_URL = `file://${backend}`;
const locksDir = path.join(backend, ".pulumi", "locks", "organization", "nfv-testpod", STACK);
const runsDir = path.join(backend, ".nfvkit", "runs");
/** Every file in the stack's lock folder: a lock and the `.attrs` file the engine's blob store keeps beside it. */
const lockFolder = () => (existsSync(locksDir) ? readdirSync(locksDir).map((f) => path.join(locksDir, f)) : []);
const lockFiles = () => lockFolder().filter((f) => f.endsWith(".json"));
const records = () => (existsSync(runsDir) ? readdirSync(runsDir).map((f) => path.join(runsDir, f)) : []);

/** The ci stack with a gate the program refuses: `up` takes the lock, then stops before creating anything. */
const badConfig = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-locks-")), "Pulumi.ci.yaml");
const doc = yaml.load(readFileSync(path.join(projectRoot, "stacks/Pulumi.ci.yaml"), "utf8")) as { config: Record<string, unknown> };
doc.config["nfv-testpod:gate"] = "maybe";
writeFileSync(badConfig, yaml.dump(doc));
const upArgs = ["up", "--yes", "--skip-preview", "--stack", STACK, "--config-file", badConfig];

test.before(() => selectStack(STACK));

test.after.always(() => {
    rmSync(backend, { recursive: true, force: true });
    rmSync(path.dirname(badConfig), { recursive: true, force: true });
});

/**
 * Starts `pulumi up` (through the kit's spawn, with its record, or as plain
 * pulumi) and kills it with SIGKILL as soon as its lock file is there.
 */
async function killedUpLeavesLock(t: ExecutionContext, how: "kit" | "plain"): Promise<{ lock: string; pid: number }> {
    t.deepEqual(lockFolder(), [], "no lock before the run");
    const child = how === "kit" ? startPulumi(upArgs).child : spawn("pulumi", upArgs, { cwd: projectRoot, env: pulumiEnv(), stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("close", resolve));
    await waitFor("pulumi up to take the stack's lock", () => lockFiles().length > 0 || child.exitCode !== null, 60_000);
    child.kill("SIGKILL");
    await exited;
    const [lock] = lockFiles();
    t.truthy(lock, "the killed up left its lock");
    const held = JSON.parse(readFileSync(lock, "utf8")) as { pid: number; hostname: string };
    t.is(held.pid, child.pid!, "the lock names the killed pulumi");
    t.is(held.hostname, os.hostname());
    return { lock, pid: held.pid };
}

test.serial("a lock left by a killed run on this machine is removed by npm run down, and the run records come and go with the runs", async (t) => {
    const { lock, pid } = await killedUpLeavesLock(t, "kit");
    const [file] = records();
    t.is(records().length, 1, "the killed run's record stays: its lock outlived it");
    const record = JSON.parse(readFileSync(file, "utf8"));
    t.deepEqual(Object.keys(record).sort(), ["bootId", "command", "hostname", "machineId", "pid", "pidNamespace", "pidStart", "stack", "startedAt", "token"]);
    t.is(record.pid, pid);
    t.is(record.machineId, readFileSync("/etc/machine-id", "utf8").trim());
    t.is(record.bootId, readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
    t.is(record.command, "up");
    t.is(path.basename(file), `${record.token}.json`);
    t.false(readFileSync(file, "utf8").includes(pulumiEnv().PULUMI_CONFIG_PASSPHRASE!), "no passphrase in the record");

    const down = await runKitCommand("down", ["--stack", STACK]);
    t.is(down.code, 0, down.output);
    t.false(existsSync(lock), "the dead run's lock is gone");
    t.deepEqual(lockFolder(), [], "down released its own lock, and nothing of the dead one's is left");
    t.deepEqual(records(), [], "no record left: the dead run's is removed with its lock, down's own when its pulumi ended");

    // A failed run (the program refuses the config) releases its lock, and its record goes with it.
    const failed = await runPulumi(upArgs);
    t.not(failed.code, 0, "the up with a refused config fails");
    t.deepEqual(lockFolder(), [], "no lock after the failed up");
    t.deepEqual(records(), [], "no record after the failed up");
    t.deepEqual(await domainsWithPrefix("nfv-testpod-ci"), [], "nothing was created");
});

test.serial("a lock whose record names another machine with the same hostname is not removed: down fails with the by-hand commands", async (t) => {
    const { lock, pid } = await killedUpLeavesLock(t, "kit");
    // The same backend seen from a second container or VM with this hostname: its machine-id differs.
    const [file] = records();
    const record = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...record, machineId: "0123456789abcdef0123456789abcdef" }));

    const down = await runKitCommand("down", ["--stack", STACK]);
    t.not(down.code, 0, "down stops");
    t.true(existsSync(lock), "the lock is still there");
    t.true(existsSync(file), "and its record");
    t.true(down.output.includes(`Stack ${STACK} is locked by pid ${pid} on host ${os.hostname()}`), down.output);
    t.true(down.output.includes(`taken on another machine (machine-id 0123456789abcdef0123456789abcdef, this one is`), down.output);
    t.true(down.output.includes(`pulumi cancel --stack ${STACK} --yes`), down.output);
    t.true(down.output.includes(`  rm -f ${lock} ${lock}.attrs\n`), down.output);
    t.notRegex(down.output, /\n\s+at .*:\d+:\d+/, "no stack trace");

    // The first by-hand way works: pulumi cancel removes the lock, then down runs.
    const cancel = await runPulumi(["cancel", "--stack", STACK, "--yes"]);
    t.is(cancel.code, 0, cancel.stdout + cancel.stderr);
    t.deepEqual(lockFolder(), [], "pulumi cancel removed the lock");
    rmSync(file);
    const again = await runKitCommand("down", ["--stack", STACK]);
    t.is(again.code, 0, again.output);
    t.deepEqual(records(), []);
});

test.serial("a lock with no kit record (plain pulumi, killed) is not removed; the rm line removes it", async (t) => {
    const { lock } = await killedUpLeavesLock(t, "plain");
    t.deepEqual(records(), [], "plain pulumi leaves no kit record");

    const down = await runKitCommand("down", ["--stack", STACK]);
    t.not(down.code, 0, "down stops");
    t.true(existsSync(lock), "the lock is still there");
    t.true(down.output.includes("no kit record names this lock: it was taken by pulumi run by hand or by another tool"), down.output);
    const rmLine = down.output.split("\n").find((l) => l.startsWith("  rm -f "));
    t.is(rmLine, `  rm -f ${lock} ${lock}.attrs`);

    // The second by-hand way works: the rm line as printed.
    const rm = spawn("sh", ["-c", rmLine!], { stdio: "ignore" });
    t.is(await new Promise((resolve) => rm.on("close", resolve)), 0);
    const again = await runKitCommand("down", ["--stack", STACK]);
    t.is(again.code, 0, again.output);
    t.deepEqual(lockFolder(), []);
    t.deepEqual(records(), []);
});

test.serial("kill -9 of npm run up's whole process tree leaves its record; the next npm run down knows the run is dead and removes the lock", async (t) => {
    t.deepEqual(lockFolder(), [], "no lock before the run");
    // The kit command in a process group of its own, as a terminal runs it: the group is what the OOM killer or a closed session takes down.
    const kit = spawn(
        path.join(projectRoot, "node_modules", ".bin", "tsx"),
        [path.join(projectRoot, "tools", "cli", "up.ts"), "--stack", STACK, "--config-file", badConfig],
        {
            cwd: projectRoot,
            env: pulumiEnv(),
            stdio: "ignore",
            detached: true,
        },
    );
    const exited = new Promise((resolve) => kit.on("close", resolve));
    await waitFor("npm run up's pulumi to take the stack's lock", () => lockFiles().length > 0 || kit.exitCode !== null, 120_000);
    process.kill(-kit.pid!, "SIGKILL");
    await exited;
    const [lock] = lockFiles();
    t.truthy(lock, "the killed run left its lock");
    const held = JSON.parse(readFileSync(lock, "utf8")) as { pid: number };
    await waitFor("the killed pulumi and its helpers to be gone", () => !existsSync(`/proc/${held.pid}`) && kitProcesses().length === 0, 5_000);
    const left = records().map((f) => JSON.parse(readFileSync(f, "utf8")) as { pid: number; command: string });
    t.true(
        left.some((r) => r.pid === held.pid && r.command === "up"),
        `the record of the killed pulumi up is left: ${JSON.stringify(left)}`,
    );

    const down = await runKitCommand("down", ["--stack", STACK]);
    t.is(down.code, 0, down.output);
    t.deepEqual(lockFolder(), [], "the dead run's lock is gone");
    t.deepEqual(records(), [], "and every record");
});

test.serial(
    "the language host and the provider plugin stop by themselves when their engine is gone as they start; with a live engine they keep serving",
    async (t) => {
        // The race behind a CI failure: SIGKILL of the CLI right after it started the language host, which then began as
        // init's child, never saw its parent change, and stayed, holding up every later test's quiet-host check. So each
        // plugin asks the engine's address once at start. Port 1 here: nothing listens, as after the engine's death.
        const exitOf = (plugin: ChildProcess, ms: number) =>
            new Promise<number | null | "running">((resolve) => {
                const timer = setTimeout(() => resolve("running"), ms);
                plugin.on("exit", (code) => {
                    clearTimeout(timer);
                    resolve(code);
                });
            });
        // An engine that is there: a listening address.
        const engine = net.createServer((c) => c.destroy());
        await new Promise<void>((resolve) => engine.listen(0, "127.0.0.1", resolve));
        t.teardown(() => void engine.close());
        const { port } = engine.address() as net.AddressInfo;
        for (const [what, file] of [
            ["the language host", path.join(projectRoot, ".state", "bin", "pulumi-language-nodejs")],
            ["the provider plugin", path.join(projectRoot, "tools", "provider", "pulumi-resource-nfvkit")],
        ]) {
            const orphan = spawn(file, ["127.0.0.1:1"], { stdio: "ignore" });
            t.teardown(() => void orphan.kill("SIGKILL"));
            t.is(await exitOf(orphan, 15_000), 1, `${what} of a gone engine ends, with code 1`);
            const served = spawn(file, [`127.0.0.1:${port}`], { stdio: "ignore" });
            t.teardown(() => void served.kill("SIGKILL"));
            t.is(await exitOf(served, 5_000), "running", `${what} of a live engine keeps serving`);
        }
    },
);

test.serial(
    "an attributes file a killed pulumi left empty or cut short is removed by the next kit command, which then reads the state as it was; the kit's own URL writes none",
    async (t) => {
        const own = mkdtempSync(path.join(os.tmpdir(), "nfvkit-attrs-backend-"));
        t.teardown(() => rmSync(own, { recursive: true, force: true }));
        const env = { PULUMI_BACKEND_URL: `file://${own}` };
        selectStack(STACK, env, () => {});
        const stacks = path.join(own, ".pulumi", "stacks", "nfv-testpod");
        const checkpoint = path.join(stacks, `${STACK}.json`);
        const before = readFileSync(checkpoint, "utf8");
        t.true(existsSync(`${checkpoint}.attrs`), "a team's plain file:// URL has the engine write a sidecar beside the checkpoint");

        // What a SIGKILL between the sidecar's truncation and its write leaves; the engine alone cannot go on.
        for (const [what, text] of [
            ["empty", ""],
            ["cut short", '{"user.cache_control":"","user.content_'],
        ] as const) {
            writeFileSync(`${checkpoint}.attrs`, text);
            const stuck = await runPulumi(["stack", "export", "--stack", STACK], { env });
            t.not(stuck.code, 0, `the engine alone cannot read the stack beside a sidecar left ${what}`);
            t.regex(stuck.stderr, /failed to load checkpoint/);

            const said: string[] = [];
            selectStack(STACK, env, (l) => said.push(l));
            t.false(existsSync(`${checkpoint}.attrs`), `the sidecar left ${what} is removed`);
            t.is(said.length, 1, "said once");
            t.true(said[0].includes(`${checkpoint}.attrs`) && said[0].includes(what), `the message names the file and what was wrong: ${said[0]}`);
            t.is(readFileSync(checkpoint, "utf8"), before, "the checkpoint itself is untouched");
            const read = await runPulumi(["stack", "export", "--stack", STACK], { env });
            t.is(read.code, 0, read.stderr);
            selectStack(STACK, env, () => {}); // the engine wrote the sidecar again for the next round
            writeFileSync(`${checkpoint}.attrs`, "");
        }
        rmSync(`${checkpoint}.attrs`);
        // The same for the sidecar of an update record the engine was writing (history) and of a checkpoint's copy (backups).
        const records = ["history", "backups"].map((dir) => path.join(own, ".pulumi", dir, "nfv-testpod", STACK, `${STACK}-1765000000.json.attrs`));
        for (const r of records) {
            mkdirSync(path.dirname(r), { recursive: true });
            writeFileSync(r, "");
        }
        const said: string[] = [];
        selectStack(STACK, env, (l) => said.push(l));
        t.deepEqual(
            records.filter((r) => existsSync(r)),
            [],
            "both removed",
        );
        t.is(said.length, 2);

        // The kit's own backend (used when PULUMI_BACKEND_URL is not set) asks the store for no sidecar at all.
        t.regex(kitBackendUrl(), /^file:\/\/.*\?metadata=skip$/);
        const fresh = mkdtempSync(path.join(os.tmpdir(), "nfvkit-attrs-kit-"));
        t.teardown(() => rmSync(fresh, { recursive: true, force: true }));
        selectStack(STACK, { PULUMI_BACKEND_URL: `file://${fresh}?metadata=skip` }, () => {});
        t.true(existsSync(path.join(fresh, ".pulumi", "stacks", "nfv-testpod", `${STACK}.json`)), "the stack is there");
        const sidecars = (readdirSync(fresh, { recursive: true }) as string[]).filter((f) => f.endsWith(".attrs"));
        t.deepEqual(sidecars, [], "metadata=skip: no sidecar is written");
    },
);
