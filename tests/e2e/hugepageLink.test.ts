/**
 * An ivshmem link backed by hugepages (a QEMU memory-backend-file on
 * hugetlbfs, since libvirt's <shmem> only maps /dev/shm): both guests share
 * it, the file is on hugetlbfs, and destroy removes it and gives the pages back.
 */
import test from "ava";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { hugepages2M, hugepagesSettled } from "../helpers/host";
import { assertSharedMemory, type GuestRef } from "../helpers/ivshmem";
import { useStack } from "../helpers/stack";
import { scratchFolder } from "../helpers/scratch";

test.serial("a hugepage-backed ivshmem link is shared by both guests and removed on destroy", async (t) => {
    const hugepagesBefore = await hugepagesSettled();
    const stack = useStack(t, "ci", "nfv-testpod-ci");
    const doc = yaml.load(readFileSync("stacks/Pulumi.ci.yaml", "utf8")) as { config: Record<string, any> };
    const pod = doc.config["nfv-testpod:pod"];
    pod.links[0].hugepages = true;
    pod.hosts[0].hugepages[0].count = 258; // 2 x 256 MiB guests + the 4 MiB link
    const file = path.join(scratchFolder(t, "nfvkit-hplink-"), "Pulumi.ci.yaml");
    writeFileSync(file, yaml.dump(doc));

    const up = await stack.run(["up", "--yes", "--skip-preview", "--config-file", file]);
    t.is(up.code, 0, up.stdout + up.stderr);
    const shm = "/dev/hugepages/nfv-testpod-ci-ring0";
    t.true(existsSync(shm), "the region is a file on hugetlbfs");
    t.is(hugepages2M(), hugepagesBefore + 256 + 2, "the guests' pages and the link's two 2 MiB pages are reserved");
    const guests = (await stack.outputs()).guests as Record<string, GuestRef>;
    await assertSharedMemory(t, guests.peer, guests.vnf);

    const down = await stack.run(["destroy", "--yes", "--skip-preview"]);
    t.is(down.code, 0, down.stderr);
    t.false(existsSync(shm));
    t.is(hugepages2M(), hugepagesBefore);
});
