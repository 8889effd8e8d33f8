/**
 * `npm run preview` as a pull request runs it: in a separate git worktree of
 * the repo (the test never edits this checkout), a stack is brought up, then
 * its file is changed as a pull request would change it (the host's
 * housekeeping and isolated CPUs swapped, so vnf's pins move; peer's memory
 * grown; a new guest linked to peer), and the preview's comment must say so
 * in guest terms, word for word where it matters, while creating nothing. A
 * broken stack file gets a comment listing its problems, a non-zero exit, and
 * not even a stack in the backend.
 */
import test from "ava";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../tools/cli/engine";
import { runPulumiIn } from "../helpers/engineRun";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, removeDomainsWithPrefix } from "../helpers/host";

// Names of this test only, so it never meets another stack's guests on the shared libvirtd.
const STACK = "preview-e2e";
const PREFIX = `nfv-testpod-${STACK}`;

/** A worktree of the repo's HEAD in a temporary folder, with the project's node_modules, its own state backend, and the engine of this checkout. */
function worktree(t: import("ava").ExecutionContext): { dir: string; env: NodeJS.ProcessEnv } {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "nfvkit-preview-e2e-"));
    const dir = path.join(tmp, "checkout");
    execFileSync("git", ["-C", projectRoot, "worktree", "add", "--detach", dir, "HEAD"], { stdio: "ignore" });
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"));
    const backend = path.join(tmp, "backend");
    mkdirSync(backend);
    t.teardown(() => {
        execFileSync("git", ["-C", projectRoot, "worktree", "remove", "--force", dir], { stdio: "ignore" });
        rmSync(tmp, { recursive: true, force: true });
    });
    return {
        dir,
        env: {
            PULUMI_BACKEND_URL: `file://${backend}`,
            PATH: [path.join(projectRoot, ".state", "bin"), path.join(projectRoot, "node_modules", ".bin"), process.env.PATH].join(":"),
        },
    };
}

/** `npm run preview -- <args>` as run in `dir` (after the bootstrap, which this checkout's test run has done). */
function runPreview(dir: string, env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; output: string }> {
    return new Promise((resolve) => {
        const child = spawn(path.join(dir, "node_modules", ".bin", "tsx"), [path.join(dir, "tools", "cli", "preview.ts"), ...args], {
            cwd: dir,
            env: { ...process.env, ...env },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let output = "";
        child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
        child.stderr.on("data", (d: Buffer) => (output += d));
        child.on("close", (code) => resolve({ code, stdout, output }));
    });
}

test.serial(
    "a pull request's change to a running pod is told in guest terms: pin moves, the replacement and why, the new link; nothing is created",
    async (t) => {
        const { dir, env } = worktree(t);
        const pulumi = (args: string[]) => runPulumiIn(dir, [...args, "--stack", STACK], env);
        const stackFile = path.join(dir, "stacks", `Pulumi.${STACK}.yaml`);
        // The CI pod under this test's stack name; its own salt comes with the stack.
        writeFileSync(stackFile, readFileSync(path.join(dir, "stacks", "Pulumi.ci.yaml"), "utf8").replace(/^encryptionsalt:.*\n/m, ""));
        t.teardown(async () => {
            const destroy = await pulumi(["destroy", "--yes", "--skip-preview"]);
            if (destroy.code !== 0) console.error(`teardown: pulumi destroy of ${STACK} failed:\n${destroy.output}`);
            await removeDomainsWithPrefix(PREFIX);
            await pulumi(["stack", "rm", "--yes", "--force"]);
        });

        const init = await runPulumiIn(dir, ["stack", "select", "--create", STACK, "--non-interactive"], env);
        t.is(init.code, 0, init.output);
        const upStarted = Date.now();
        const up = await pulumi(["up", "--yes", "--skip-preview"]);
        t.is(up.code, 0, up.output);
        t.log(`pulumi up of the base pod: ${((Date.now() - upStarted) / 1000).toFixed(1)} s`);
        t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [`${PREFIX}-peer`, `${PREFIX}-vnf`]);

        // The pull request: swap the host's CPUs (vnf keeps running, its pins move), grow peer,
        // and add a guest tap linked to peer (peer's domain gets the new link: it is replaced).
        const before = readFileSync(stackFile, "utf8");
        const changed = before
            .replace('housekeepingCpus: "0"', 'housekeepingCpus: "1"')
            .replace('isolatedCpus: "1"', 'isolatedCpus: "0"')
            .replace("count: 256", "count: 512")
            .replace("        rtVcpus: []\n        memory: 256M", "        rtVcpus: []\n        memory: 512M")
            .replace(
                "    links:\n",
                "      - name: tap\n        host: local\n        vcpus: 1\n        rtVcpus: []\n        memory: 128M\n        pageSize: 2M\n    links:\n",
            )
            .replace(/(members: \[vnf, peer\]\n)/, "$1      - name: ring1\n        size: 2M\n        members: [peer, tap]\n");
        t.not(changed, before);
        writeFileSync(stackFile, changed);

        const hugepagesBefore = await hugepagesSettled();
        const commentFile = path.join(dir, "..", "comment.md");
        const previewStarted = Date.now();
        const preview = await runPreview(dir, env, ["--stack", STACK, "--comment", commentFile]);
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
        t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [`${PREFIX}-peer`, `${PREFIX}-vnf`]);
        t.is(hugepages2M(), hugepagesBefore);
        const exported = JSON.parse((await pulumi(["stack", "export"])).output) as { deployment: { resources: { urn: string }[] } };
        t.false(
            exported.deployment.resources.some((r) => r.urn.endsWith("::pod-tap-domain")),
            "the state has no tap guest",
        );
    },
);

test.serial("a broken stack file gets a comment listing every problem with line, path, value, reason and fix; exit 1; nothing created", async (t) => {
    const { dir, env } = worktree(t);
    const stack = `${STACK}-bad`;
    const ci = readFileSync(path.join(dir, "stacks", "Pulumi.ci.yaml"), "utf8").replace(/^encryptionsalt:.*\n/m, "");
    const broken = ci
        .replace("        rtVcpus: []\n        memory: 256M", "        rtVcpus: []\n        memory: lots")
        .replace("members: [vnf, peer]", "members: [vnf, ghost]");
    writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), broken);

    const commentFile = path.join(dir, "..", "comment.md");
    const preview = await runPreview(dir, env, ["--stack", stack, "--comment", commentFile]);
    t.is(preview.code, 1, preview.output);
    const lineOf = (text: string) => broken.split("\n").findIndex((l) => l.includes(text)) + 1;
    t.is(
        readFileSync(commentFile, "utf8"),
        [
            `<!-- nfvkit-preview stack=${stack} -->`,
            `**nfvkit preview for stack ${stack}:** ❌ 2 problems in the stack config; nothing was previewed`,
            "",
            `**Validation:** ❌ 2 problems in \`stacks/Pulumi.${stack}.yaml\`; nothing was previewed and nothing was created.`,
            "",
            `- line ${lineOf("memory: lots")}, \`nfv-testpod:pod.guests[1].memory\`: is not a memory size (got \`"lots"\`). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"`,
            `- line ${lineOf("members: [vnf, ghost]")}, \`nfv-testpod:pod.links[0].members[1]\`: is not a guest of this pod (got \`"ghost"\`). Fix: use one of "vnf", "peer"`,
            "",
        ].join("\n"),
    );
    // Without --comment the same Markdown goes to stdout.
    const printed = await runPreview(dir, env, ["--stack", stack]);
    t.is(printed.code, 1);
    t.is(printed.stdout, readFileSync(commentFile, "utf8"));
    t.deepEqual(await domainsWithPrefix(`nfv-testpod-${stack}`), []);
    const stacks = await runPulumiIn(dir, ["stack", "ls", "--json"], env);
    t.false(stacks.output.includes(stack), "not even a stack was created in the backend");
});
