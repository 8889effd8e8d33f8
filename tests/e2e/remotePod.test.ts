/**
 * A pod on a host the kit reaches only over SSH: this machine's libvirt seen
 * through an sshd in its own network namespace (a `qemu+ssh://` URI, a pinned
 * host key in the spec, the private key a secret stack config value). The real
 * engine brings the pod up and tears it down; the image check, hugepages, the
 * shm file, the console logs and the pinning checks all go over SSH.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot, pulumiEnv } from "../../tools/cli/engine";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, shmFilesWithPrefix } from "../helpers/host";
import { realTest } from "../helpers/realParts";
import { sshdAvailable, startSshd } from "../helpers/sshd";
import { useStack } from "../helpers/stack";

const test = realTest(sshdAvailable() && existsSync("/run/libvirt/libvirt-sock"), "an sshd for tests and a running libvirtd");
const STACK = "remote-ssh";
const PREFIX = "nfv-testpod-remote-ssh";

test("pulumi up and destroy of a pod whose host is reached over SSH with a pinned key", async (t) => {
    const sshd = await startSshd(t);
    const hugepagesBefore = await hugepagesSettled();
    // A stack of the test's own: its file in stacks/ (made by `stack select --create`, holding only the
    // passphrase salt) and its state are removed afterwards, even when the test fails.
    const stackFile = path.join(projectRoot, "stacks", `Pulumi.${STACK}.yaml`);
    const config = path.join(mkdtempSync(path.join(os.tmpdir(), "nfvkit-remote-")), `Pulumi.${STACK}.yaml`);
    // Registered first, so it runs last (after useStack's own destroy).
    t.teardown(async () => {
        await stack.run(["destroy", "--yes", "--skip-preview", "--config-file", config]);
        await stack.run(["stack", "rm", "--yes", "--force"]);
        rmSync(stackFile, { force: true });
        // The config holds the host's key (encrypted): it goes with the test.
        rmSync(path.dirname(config), { recursive: true, force: true });
    });
    const stack = useStack(t, STACK, PREFIX);
    const salt = /^encryptionsalt:.*$/m.exec(readFileSync(stackFile, "utf8"))?.[0] ?? "";
    writeFileSync(
        config,
        readFileSync(path.join(projectRoot, "stacks", "Pulumi.ci.yaml"), "utf8")
            .replace(/^encryptionsalt:.*$/m, salt)
            .replace(
                "uri: qemu:///system",
                `uri: qemu+ssh://root@${sshd.host}:${sshd.port}/system\n        ssh:\n          port: ${sshd.port}\n          privateKeySecret: labHostKey\n          knownHosts: "${sshd.knownHosts}"`,
            ),
    );
    // The private key goes in as a secret, the way a user sets it.
    const set = spawnSync("pulumi", ["config", "set", "--secret", "labHostKey", "--stack", STACK, "--config-file", config], {
        cwd: projectRoot,
        env: pulumiEnv(),
        input: sshd.privateKey,
        encoding: "utf8",
    });
    t.is(set.status, 0, set.stderr);
    t.notRegex(readFileSync(config, "utf8"), /PRIVATE KEY/, "the stack file holds the key encrypted");

    const up = await stack.up(["--config-file", config]);
    t.regex(up.stdout, /nfvkit:host:GuestImage\s+pod-image-local\s+created/);
    const outputs = await stack.outputs();
    const guests = outputs.guests as Record<string, { uri: string; vcpuPins: Record<string, string> }>;
    t.regex(guests.vnf.uri, /^qemu\+ssh:\/\/root@/);
    t.deepEqual(guests.vnf.vcpuPins, { "0": "0", "1": "1" }, "pins read back over SSH");
    t.deepEqual((await domainsWithPrefix(PREFIX)).sort(), [`${PREFIX}-peer`, `${PREFIX}-vnf`]);
    t.is(hugepages2M(), hugepagesBefore + 256, "hugepages reserved over SSH");
    t.true(sshd.acceptedLogins() > 0, "the kit logged in over SSH");
    const state = await stack.run(["stack", "export"]);
    t.false(state.stdout.includes("PRIVATE KEY"), "the state holds the key only encrypted");

    const again = await stack.run(["preview", "--expect-no-changes", "--config-file", config]);
    t.is(again.code, 0, again.stdout + again.stderr);

    const destroy = await stack.run(["destroy", "--yes", "--skip-preview", "--config-file", config]);
    t.is(destroy.code, 0, destroy.stdout + destroy.stderr);
    t.deepEqual(await domainsWithPrefix(PREFIX), []);
    t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    t.is(hugepages2M(), hugepagesBefore);
});
