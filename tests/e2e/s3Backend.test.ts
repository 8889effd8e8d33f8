/**
 * The team backend for real: a stack's state in an S3 bucket, reached through
 * PULUMI_BACKEND_URL with the endpoint in the URL and the key pair in the
 * environment, from two copies of the project in other folders, as two team
 * members' checkouts. The store is tools/s3's nfvkit-s3 (tests/helpers/s3.ts):
 * it speaks S3 to the engine's own driver and refuses requests not signed
 * with this run's keys. On one stack of this test's own (s3-e2e), with one
 * guest (the smallest pod the kit accepts), in sequence:
 *
 * 1. A brings the pod up: the state, and nothing else, is in the bucket.
 * 2. B, the other checkout, sees the same stack: its export is the bucket's
 *    state, and its preview has no changes; with a wrong secret key it is
 *    refused.
 * 3. A lock with no kit record (plain pulumi, killed) is left alone: A's
 *    `npm run up` stops with `pulumi cancel` and the `aws s3 rm` line, and
 *    `pulumi cancel` from B removes it.
 * 4. A killed run's lock, with the kit's record in the bucket: B's
 *    `npm run down` removes both and destroys the pod.
 *
 * What a crash, a live update or the PR comment do is the same on any backend
 * and is proven on the file backend (crash.test.ts, previewComment.test.ts,
 * staleLock.test.ts); what this test adds is that the state, the locks and
 * the kit's records live in the bucket and are handled there.
 */
import test, { type ExecutionContext } from "ava";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { projectRoot, pulumiEnv } from "../../tools/cli/engine";
import { copyCheckout } from "../helpers/checkout";
import { kitProcesses, runKitCommand, runPulumiIn, startPulumi, waitFor } from "../helpers/engineRun";
import { domainsWithPrefix, hugepagesSettled, removeDomainsWithPrefix, shmFilesWithPrefix, sshDirsOfThisCheckout } from "../helpers/host";
import { startS3, type S3Server } from "../helpers/s3";

const STACK = "s3-e2e";
const PREFIX = `nfv-testpod-${STACK}`;
const STATE = `.pulumi/stacks/nfv-testpod/${STACK}.json`;
const LOCKS = `.pulumi/locks/organization/nfv-testpod/${STACK}/`;
const RUNS = ".nfvkit/runs/";

/** The kit's ssh folders in /tmp (host/access/sshDir.ts), but a live run's of another checkout or lane (in use, not left). */
const sshDirs = sshDirsOfThisCheckout;

/** The URNs of the resources in a checkpoint or an export (both keep them under `deployment` or `checkpoint.latest`). */
function urnsOf(text: string | undefined): string[] {
    const doc = JSON.parse(text ?? "{}") as { deployment?: { resources?: { urn: string }[] }; checkpoint?: { latest?: { resources?: { urn: string }[] } } };
    return (doc.deployment?.resources ?? doc.checkpoint?.latest?.resources ?? []).map((r) => r.urn).sort();
}

/**
 * Starts `pulumi up` with a config the program refuses (it takes the lock, then creates nothing), through the
 * kit's spawn (with its run record) or as plain pulumi, and kills it with SIGKILL once its lock is in the bucket.
 */
async function killedUpLeavesLock(
    t: ExecutionContext,
    s3: S3Server,
    dir: string,
    badConfig: string,
    how: "kit" | "plain",
): Promise<{ key: string; pid: number }> {
    t.deepEqual(s3.list(LOCKS), [], "no lock before the run");
    const args = ["up", "--yes", "--skip-preview", "--stack", STACK, "--config-file", badConfig];
    const child = how === "kit" ? startPulumi(args, dir).child : spawn("pulumi", args, { cwd: dir, env: pulumiEnv(), stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("close", resolve));
    await waitFor("pulumi up to take the stack's lock in the bucket", () => s3.list(LOCKS).length > 0 || child.exitCode !== null, 60_000, 100);
    child.kill("SIGKILL");
    await exited;
    const [key] = s3.list(LOCKS);
    t.truthy(key, "the killed up left its lock object");
    const held = JSON.parse(s3.read(key) ?? "{}") as { pid: number; hostname: string };
    t.is(held.pid, child.pid!, "the lock names the killed pulumi");
    t.is(held.hostname, os.hostname());
    return { key, pid: held.pid };
}

test.serial("the S3 backend: the state in the bucket, another checkout's view, a plain pulumi lock left, a killed run's lock removed by down", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const sshBefore = sshDirs();
    const s3 = await startS3(t);
    // Every pulumi and kit command of this file (pulumiEnv, runKitCommand, the copies' own engine.ts) reaches the bucket.
    Object.assign(process.env, s3.env);
    const secret = s3.env.AWS_SECRET_ACCESS_KEY!;

    // Two team members' checkouts. The stack: the CI pod's host with one small guest; its salt made by A's init.
    const a = copyCheckout();
    const b = copyCheckout();
    t.teardown(() => [a, b].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
    const stackFile = (dir: string) => path.join(dir, "stacks", `Pulumi.${STACK}.yaml`);
    const ci = yaml.load(readFileSync(path.join(projectRoot, "stacks", "Pulumi.ci.yaml"), "utf8")) as {
        config: { "nfv-testpod:pod": { hosts: { hugepages: { count: number }[] }[]; guests: { name: string }[]; links?: unknown[] } };
    };
    const pod = ci.config["nfv-testpod:pod"];
    pod.guests = pod.guests.filter((g) => g.name === "peer");
    pod.links = [];
    pod.hosts[0].hugepages[0].count = 128;
    writeFileSync(stackFile(a), yaml.dump({ config: ci.config }));
    const init = await runPulumiIn(a, ["stack", "select", "--create", STACK, "--non-interactive"]);
    t.is(init.code, 0, init.output);
    writeFileSync(stackFile(b), readFileSync(stackFile(a), "utf8"));
    // After a failure: a lock a step left is cancelled, so that down removes whatever the stack still holds.
    t.teardown(async () => {
        if (urnsOf(s3.read(STATE)).length === 0 && (await domainsWithPrefix(PREFIX)).length === 0) return;
        if (s3.list(LOCKS).length > 0) await runPulumiIn(a, ["cancel", "--stack", STACK, "--yes"]);
        await runKitCommand("down", ["--stack", STACK], a);
        await removeDomainsWithPrefix(PREFIX);
    });
    t.truthy(s3.read(STATE), "the new stack is an object in the bucket");

    // 1. A brings the pod up: its state is the bucket's object, not a file of the checkout.
    const up = await runKitCommand("up", ["--stack", STACK], a);
    t.is(up.code, 0, up.output);
    t.log(`npm run up of a one-guest pod, S3 backend: ${up.seconds.toFixed(1)} s`);
    t.deepEqual(await domainsWithPrefix(PREFIX), [`${PREFIX}-peer`]);
    const state = urnsOf(s3.read(STATE));
    const urn = (type: string, name: string) => `urn:pulumi:${STACK}::nfv-testpod::nfvkit:pod:TestPod$${type}::${name}`;
    for (const made of [
        urn("nfvkit:guest:NfvGuest$nfvkit:libvirt:Domain", "pod-peer-domain"),
        urn("nfvkit:host:HugepageReservation", "pod-hugepages-local-node0-2048k"),
    ])
        t.true(state.includes(made), `the bucket's state holds ${made}:\n${state.join("\n")}`);
    t.deepEqual(s3.list(LOCKS), [], "up released its lock");
    t.deepEqual(s3.list(RUNS), [], "and its run record went with it");
    for (const dir of [a, b]) {
        const local = path.join(dir, ".state", "backend");
        t.deepEqual(existsSync(local) ? readdirSync(local) : [], [], "no state is kept in a checkout's own file backend");
    }

    // 2. B, the other checkout, sees the same stack: the same resources, and nothing to change.
    const exported = await runPulumiIn(b, ["stack", "export", "--stack", STACK]);
    t.is(exported.code, 0, exported.output);
    t.deepEqual(urnsOf(exported.output), state, "B's export is the bucket's state");
    t.false(exported.output.includes(a), "the state names no path into A's checkout");
    const same = await runPulumiIn(b, ["preview", "--expect-no-changes", "--stack", STACK]);
    t.is(same.code, 0, `checkout B sees no changes:\n${same.output}`);

    // The bucket takes this run's keys only: the engine signs with what the environment gives it, and a wrong secret is refused.
    const wrongKey = await runPulumiIn(b, ["stack", "ls"], { AWS_SECRET_ACCESS_KEY: `${secret}x` });
    t.not(wrongKey.code, 0, "a checkout with the wrong secret key cannot read the bucket");
    t.true(wrongKey.output.includes("SignatureDoesNotMatch"), wrongKey.output);

    // A config the program refuses: a killed `up` with it holds the lock and has created nothing.
    const badConfig = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-s3-config-")), `Pulumi.${STACK}.yaml`);
    t.teardown(() => rmSync(path.dirname(badConfig), { recursive: true, force: true }));
    const bad = yaml.load(readFileSync(stackFile(a), "utf8")) as { config: Record<string, unknown> };
    bad.config["nfv-testpod:gate"] = "maybe";
    writeFileSync(badConfig, yaml.dump(bad));

    // 3. A lock with no record (plain pulumi from B, killed) is left: A's up stops and says how to remove it by hand.
    const plain = await killedUpLeavesLock(t, s3, b, badConfig, "plain");
    t.deepEqual(s3.list(RUNS), [], "plain pulumi leaves no kit record");
    const refused = await runKitCommand("up", ["--stack", STACK], a);
    t.not(refused.code, 0, "up stops");
    t.deepEqual(s3.list(LOCKS), [plain.key], "the lock is still in the bucket");
    t.deepEqual(urnsOf(s3.read(STATE)), state, "the state is as it was");
    t.true(refused.output.includes("no kit record names this lock: it was taken by pulumi run by hand or by another tool"), refused.output);
    t.true(refused.output.includes(`  pulumi cancel --stack ${STACK} --yes`), refused.output);
    t.true(refused.output.includes(`  aws s3 rm s3://${s3.bucket}/${plain.key} --endpoint-url ${s3.endpoint}\n`), refused.output);
    const cancel = await runPulumiIn(b, ["cancel", "--stack", STACK, "--yes"]);
    t.is(cancel.code, 0, cancel.output);
    t.deepEqual(s3.list(LOCKS), [], "pulumi cancel from B removed the lock");
    t.deepEqual(s3.list(RUNS), [], "and the cancel's own record went with its run");

    // 4. A's run killed while it holds the lock: its record stays in the bucket, and B's down removes both and the pod.
    const killed = await killedUpLeavesLock(t, s3, a, badConfig, "kit");
    const records = s3.list(RUNS);
    t.is(records.length, 1, "the killed run's record stays in the bucket: its lock outlived it");
    const record = JSON.parse(s3.read(records[0]) ?? "{}");
    t.is(record.pid, killed.pid);
    t.is(record.command, "up");
    t.is(record.machineId, readFileSync("/etc/machine-id", "utf8").trim());
    t.false(JSON.stringify(record).includes(secret), "no S3 key in the record");
    const down = await runKitCommand("down", ["--stack", STACK], b);
    t.is(down.code, 0, down.output);
    t.deepEqual(s3.list(LOCKS), [], "the dead run's lock is gone from the bucket, and down released its own");
    t.deepEqual(s3.list(RUNS), [], "no record left");
    t.deepEqual(urnsOf(s3.read(STATE)), [], "the bucket's state holds nothing");
    t.deepEqual(await domainsWithPrefix(PREFIX), [], "no domain left");
    t.deepEqual(shmFilesWithPrefix(PREFIX), [], "no shm file left");
    t.is(await hugepagesSettled(), hugepagesBefore, "every hugepage given back");
    t.deepEqual(kitProcesses(a).concat(kitProcesses(b)), [], "no kit process left");
    t.deepEqual(
        sshDirs().filter((d) => !sshBefore.includes(d)),
        [],
        "no ssh folder of the kit's left",
    );
    for (const out of [init.output, up.output, exported.output, same.output, refused.output, cancel.output, down.output])
        t.false(out.includes(secret), "the S3 secret key is never printed");
});
