/**
 * Host facts the planner relies on, read from real captured libvirt output and
 * from /proc status text.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { parseCapabilitiesTopology } from "../../components/host/topology";
import { discoverMemoryLocking, memoryLockingSupport } from "../../components/host/memoryLocking";

test("virsh capabilities of a 2-CPU VM: one NUMA node with CPUs 0 and 1, no SMT, empty hugepage pools", (t) => {
    const xml = readFileSync("tests/fixtures/libvirt/capabilities-2cpu.xml", "utf8");
    t.deepEqual(parseCapabilitiesTopology(xml), {
        numaNodes: [{ id: 0, cpus: [0, 1] }],
        smtSiblings: [],
        hugepagePools: [
            { node: 0, sizeKiB: 2048, pages: 0 },
            { node: 0, sizeKiB: 1048576, pages: 0 },
        ],
    });
});

test("capabilities without a topology say what to do", (t) => {
    const err = t.throws(() => parseCapabilitiesTopology("<capabilities><host></host></capabilities>"));
    t.is(
        err!.message,
        "host facts has 1 problem:\ntopology: is not in virsh capabilities' output, so the kit cannot discover the host's NUMA nodes (got nothing). Fix: declare topology in the host spec",
    );
});

test("memory locking needs CAP_SYS_RESOURCE (bit 24) in the bounding set", async (t) => {
    // CapBnd as read on our CI sandbox (bit 24 cleared) and on a full-root host.
    t.false(memoryLockingSupport("CapBnd:\t000001fffeffffff\n").supported);
    t.true(memoryLockingSupport("CapBnd:\t000001ffffffffff\n").supported);
    t.true((await discoverMemoryLocking(undefined)).supported, "hosts the kit cannot read are assumed able");
});
