/**
 * `npm run validate` of an SSH stack, for real: the emulated lab's two hosts
 * (`npm run lab -- up`, each its own sshd and libvirtd) are reached through
 * the stack's pinned access (the lab key as a secret, decrypted by the
 * engine; the pinned host keys), exactly as `npm run up` reaches them.
 * validate shows each host's kernel, accelerator, memory-locking and PF facts
 * read there; it refuses a PF lab-1 does not have, with the same problem `up`
 * refuses it with (and `up` creates nothing); --offline reaches no host and
 * cannot see that. t.teardown always runs `lab down`.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { projectRoot, pulumiEnv } from "../../tools/cli/engine";
import { closeHostAccesses, hostAccess } from "../../components/host/access";
import { labSshTargets, readLabState } from "../../tools/lab/state";
import { runKitCommand } from "../helpers/engineRun";
import { realTest } from "../helpers/realParts";
import { sshdAvailable } from "../helpers/sshd";

const haveTools = ["libvirtd", "virtlogd", "unshare", "nsenter", "setsid"].every(
    (bin) => spawnSync("sh", ["-c", 'command -v "$1"', "sh", bin], { stdio: "ignore" }).status === 0,
);
const test = realTest(sshdAvailable() && haveTools, "root, iproute2, OpenSSH server, libvirtd and util-linux (unshare, nsenter) for the emulated lab");

const tsx = path.join(projectRoot, "node_modules", ".bin", "tsx");

/** A kit command as a person runs it (what `npm run <name>` runs after the bootstrap). */
function run(script: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(tsx, [path.join(projectRoot, "tools", script), ...args], { cwd: projectRoot, env: pulumiEnv(), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d));
        child.stderr.on("data", (d: Buffer) => (stderr += d));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
    });
}

/** The lines of a problem list without their `file:line: ` prefix, as formatProblem writes them. */
const problemLines = (out: string) =>
    out
        .split("\n")
        .map((l) => /(nfv-testpod:[^ ]+: .*Fix: .*)$/.exec(l)?.[1])
        .filter((l): l is string => l !== undefined);

test("validate over SSH shows what the lab hosts are, refuses what up refuses, and --offline reaches nothing", async (t) => {
    t.timeout(15 * 60_000);
    t.teardown(async () => {
        await closeHostAccesses();
        spawnSync(tsx, [path.join(projectRoot, "tools", "cli", "lab.ts"), "down"], { cwd: projectRoot, stdio: "ignore", timeout: 300_000 });
    });
    const up = spawnSync(tsx, [path.join(projectRoot, "tools", "cli", "lab.ts"), "up"], {
        cwd: projectRoot,
        env: pulumiEnv(),
        encoding: "utf8",
        timeout: 300_000,
    });
    t.is(up.status, 0, `${up.stdout}${up.stderr}`);
    const state = readLabState()!;
    const kernel = execFileSync("uname", ["-r"], { encoding: "utf8" }).trim();

    // The lab stack as `npm run up -- --stack lab` runs it: the lab's generated config, each host over its pinned SSH access.
    const good = await run("cli/validate.ts", ["--stack", "lab"]);
    t.log(`$ npm run validate -- --stack lab\n${good.stdout}${good.stderr}`);
    t.is(good.code, 0, good.stderr);
    t.true(good.stdout.startsWith(`${state.stackConfig}: valid (2 hosts, 2 guests, 0 links)`), good.stdout);
    for (const [i, host] of state.hosts.entries()) {
        const facts = new RegExp(
            `host ${host.name} \\(over SSH root@10\\.213\\.100\\.1${i + 1}:22\\):\\n  kernel ${kernel.replace(/[.+]/g, "\\$&")} \\(.*PREEMPT_RT\\)\\n  (KVM|TCG): .*\\n  memory locking: (yes|no) \\(`,
        );
        t.regex(good.stdout, facts, `${host.name}'s kernel, accelerator and memory locking, read over SSH`);
    }
    t.regex(good.stderr, /host lab-1 \(qemu\+ssh:\/\/root@10\.213\.100\.11\/system\): 1 NUMA node|topology declared in the spec/);

    // A PF lab-1 does not have: only the host can tell. The lab's config with it, still with its secret key and pinned keys.
    const doc = yaml.load(readFileSync(state.stackConfig, "utf8")) as { config: Record<string, { hosts: Record<string, unknown>[] }> };
    doc.config["nfv-testpod:pod"].hosts[0].pfs = [{ name: "enp9s0", vfCount: 2 }];
    // It holds the lab key, encrypted: removed with the test.
    const badDir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-validate-ssh-"));
    t.teardown(() => rmSync(badDir, { recursive: true, force: true }));
    const badFile = path.join(badDir, "Pulumi.lab.yaml");
    writeFileSync(badFile, yaml.dump(doc, { lineWidth: -1 }));

    const bad = await run("cli/validate.ts", [badFile]);
    t.log(`$ npm run validate -- ${badFile}\n${bad.stdout}${bad.stderr}`);
    t.is(bad.code, 1);
    const refused = problemLines(bad.stderr);
    t.deepEqual(refused, [
        `nfv-testpod:pod.hosts[0].pfs[0].name: is not an SR-IOV PF of host lab-1 (its PFs: none) (got "enp9s0"). Fix: enable SR-IOV on host lab-1 (BIOS, intel_iommu=on) or remove the PF`,
    ]);
    t.regex(
        bad.stderr,
        new RegExp(`^${badFile.replace(/[.+]/g, "\\$&")}:\\d+: nfv-testpod:pod\\.hosts\\[0\\]\\.pfs\\[0\\]\\.name: `, "m"),
        "with its line in the file",
    );

    // up refuses the same stack with the same problem, and creates nothing.
    const podUp = await runKitCommand("up", ["--stack", "lab", "--config-file", badFile]);
    t.log(`$ npm run up -- --stack lab --config-file ${badFile}  (${podUp.seconds.toFixed(1)} s)\n${podUp.output.slice(-3000)}`);
    t.not(podUp.code, 0);
    t.regex(podUp.output, /the stack config has 1 problem; nothing was created/);
    t.deepEqual(problemLines(podUp.output), refused, "up and validate refuse the stack with the same words");
    for (const target of labSshTargets(state)) {
        const domains = (await hostAccess(target).virsh(["list", "--all", "--name"])).split("\n").filter((d) => d.startsWith("nfv-testpod-lab"));
        t.deepEqual(domains, [], `no domain on ${target.name}`);
    }

    // Offline, no host is reached: the PF cannot be checked, and no host fact is shown.
    const offline = await run("cli/validate.ts", [badFile, "--offline"]);
    t.is(offline.code, 0, offline.stderr);
    t.false(offline.stdout.includes("over SSH"));
    t.false(offline.stderr.includes("10.213.100.11"), "no host was asked");
});
