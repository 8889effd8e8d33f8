/**
 * Teams share one state backend from many checkouts. A stack brought up from
 * this checkout is previewed, changed and destroyed from a copy of the
 * project in another folder: the state holds no path into either checkout.
 */
import test from "ava";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import { virsh } from "../../components/host/access/virsh";
import { projectRoot } from "../../tools/cli/engine";
import { runPulumiIn } from "../helpers/engineRun";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, LOCAL_URI, shmFilesWithPrefix } from "../helpers/host";
import { useStack } from "../helpers/stack";

const PREFIX = "nfv-testpod-ci";

/** The project's files as a fresh checkout has them, in a new folder; node_modules is shared, as an install would give the same. */
function copyCheckout(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-checkout-b-"));
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: projectRoot });
    execFileSync("tar", ["-C", projectRoot, "--null", "-T", "-", "-cf", path.join(dir, "project.tar")], { input: files });
    execFileSync("tar", ["-C", dir, "-xf", path.join(dir, "project.tar")]);
    symlinkSync(path.join(projectRoot, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

test.serial("up from this checkout; preview, a live pinning change and destroy from another folder with the same backend", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const stack = useStack(t, "ci", PREFIX);
    await stack.up();

    const exported = await stack.run(["stack", "export"]);
    t.false(exported.stdout.includes(projectRoot), "the state names no path into the checkout");

    const other = copyCheckout();
    const inOther = (args: string[]) => runPulumiIn(other, [...args, "--stack", "ci"]);
    const preview = await inOther(["preview", "--expect-no-changes"]);
    t.is(preview.code, 0, `the other checkout sees no changes:\n${preview.output}`);

    // The other checkout swaps the housekeeping and isolated CPUs: an update, applied live.
    const stackFile = path.join(other, "stacks", "Pulumi.ci.yaml");
    writeFileSync(
        stackFile,
        readFileSync(stackFile, "utf8").replace('housekeepingCpus: "0"', 'housekeepingCpus: "1"').replace('isolatedCpus: "1"', 'isolatedCpus: "0"'),
    );
    const vnf = `${PREFIX}-vnf`;
    const uptime = async () => Number((await guestShell(hostAccess(), vnf, "cut -d' ' -f1 /proc/uptime")).stdout);
    const before = await uptime();
    const up = await inOther(["up", "--yes", "--skip-preview"]);
    t.is(up.code, 0, up.output);
    t.regex(up.output, /nfvkit:libvirt:Domain pod-vnf-domain updated/);
    t.regex(await virsh(LOCAL_URI, ["vcpupin", vnf]), /^\s*1\s+0\s*$/m, "vnf's RT vCPU 1 moved to CPU 0");
    t.true((await uptime()) > before, "vnf kept running");

    const destroy = await inOther(["destroy", "--yes", "--skip-preview"]);
    t.is(destroy.code, 0, destroy.output);
    t.deepEqual(await domainsWithPrefix(PREFIX), []);
    t.deepEqual(shmFilesWithPrefix(PREFIX), []);
    t.is(hugepages2M(), hugepagesBefore);
});
