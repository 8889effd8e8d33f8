/**
 * Two stacks on one host (the local pod and the CI pod) share its libvirt and
 * its hugepage pool. Each has its own object names and its own ledger
 * entries: destroying one leaves the other's guests, link and pages alone.
 */
import test from "ava";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { domainsWithPrefix, hugepages2M, hugepagesSettled, shmFilesWithPrefix } from "../helpers/host";
import { useStack } from "../helpers/stack";
import { scratchFolder } from "../helpers/scratch";

test.serial("the local and CI stacks both come up on this host; destroying CI leaves local's guests and hugepages untouched", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    // The local pod without its 40 s of probes: this test is about what the stacks own.
    const localConfig = path.join(scratchFolder(t, "nfvkit-two-"), "Pulumi.local.yaml");
    writeFileSync(localConfig, readFileSync("stacks/Pulumi.local.yaml", "utf8").replace("    durationSec: 10", "    enabled: false"));
    const local = useStack(t, "local", "nfv-testpod-local");
    const ci = useStack(t, "ci", "nfv-testpod-ci");

    await local.up(["--config-file", localConfig]);
    await ci.up();
    t.deepEqual((await domainsWithPrefix("nfv-testpod-")).sort(), [
        "nfv-testpod-ci-peer",
        "nfv-testpod-ci-vnf",
        "nfv-testpod-local-peer",
        "nfv-testpod-local-vnf",
    ]);
    t.is(hugepages2M(), hugepagesBefore + 512, "each pod reserved its own 256 pages");

    const destroy = await ci.run(["destroy", "--yes", "--skip-preview"]);
    t.is(destroy.code, 0, destroy.stdout + destroy.stderr);
    t.deepEqual((await domainsWithPrefix("nfv-testpod-")).sort(), ["nfv-testpod-local-peer", "nfv-testpod-local-vnf"], "local's guests still run");
    t.is(shmFilesWithPrefix("nfv-testpod-local").length, 1, "local's link file is still there");
    t.is(hugepages2M(), hugepagesBefore + 256, "local's pages are still reserved");

    const again = await local.run(["preview", "--expect-no-changes", "--config-file", localConfig]);
    t.is(again.code, 0, `the local stack sees no change:\n${again.stdout}`);
});
