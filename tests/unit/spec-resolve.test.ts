/** What the spec check fills in when the spec leaves it out, and what the plan derives (names, pins, hugepages), through resolvePod. */
import test from "ava";
import { defaultKnobs } from "../../components/spec/knobs";
import { deriveName } from "../../components/spec/names";
import { resolvePod } from "../../components/plan/resolvePod";
import { checkPod } from "../../components/spec/check";

const host = { name: "local", topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, hugepages: [{ node: 0, size: "2M", count: 1024 }] };

test("defaults: URI, housekeeping CPU 0, the rest isolated, vCPU 0 housekeeping, 2M pages, every knob", (t) => {
    const pod = resolvePod({ hosts: [host], guests: [{ name: "vnf", vcpus: 3, memory: "512M" }] }, { namePrefix: "nfvkit-ci" });
    const [h] = pod.hosts;
    t.is(h.uri, "qemu:///system");
    t.is(checkPod({ hosts: [host], guests: [{ name: "vnf", memory: "512M" }] }, { namePrefix: "nfvkit-ci" }).pod.hosts[0].accel, "auto");
    t.deepEqual(h.accel, { accel: "tcg", reason: "TCG: no host facts given" }, "without host facts the plan says TCG, and why");
    t.deepEqual([...h.housekeepingCpus], [0]);
    t.deepEqual([...h.isolatedCpus], [1, 2, 3]);
    t.deepEqual(
        h.hugepages.map((d) => [d.node, d.pageSize.toString(), d.pages]),
        [[0, "2M", 256]],
    );
    const [g] = pod.guests;
    t.is(g.host, "local");
    t.is(g.domainName, "nfvkit-ci-vnf");
    t.deepEqual(
        g.pins.map((p) => [p.vcpu, p.hostCpu, p.role]),
        [
            [0, 0, "housekeeping"],
            [1, 1, "rt"],
            [2, 2, "rt"],
        ],
    );
    t.is(g.fifoPriority, 1);
    t.is(g.iothreads, 0);
    t.deepEqual([...g.iothreadCpus], []);
    t.deepEqual([...g.emulatorCpus], [0]);
    t.is(g.pageSize.toString(), "2M");
    t.is(g.memory.mebibytes, 512);
    t.deepEqual(g.knobs, defaultKnobs);
    t.deepEqual(g.kernelArgs, ["isolcpus=managed_irq,domain,1-2", "nohz_full=1-2", "rcu_nocbs=1-2", "irqaffinity=0"]);
});

test("a one-vCPU guest's vCPU is RT by default", (t) => {
    const pod = resolvePod({ hosts: [host], guests: [{ name: "vnf", memory: "256M" }] }, { namePrefix: "p" });
    t.deepEqual(pod.guests[0].pins, [{ vcpu: 0, hostCpu: 1, numaNode: 0, role: "rt", fifo: 1 }]);
});

test("housekeeping defaults to the first CPU of each node with its SMT siblings", (t) => {
    const smtHost = {
        name: "smt",
        topology: {
            numaNodes: [
                { id: 0, cpus: "0-1,4-5" },
                { id: 1, cpus: "2-3,6-7" },
            ],
            smtSiblings: ["0,4", "1,5", "2,6", "3,7"],
        },
    };
    const pod = resolvePod({ hosts: [smtHost], guests: [{ name: "g", memory: "64M", pageSize: "4K" }] }, { namePrefix: "p" });
    t.is(pod.hosts[0].housekeepingCpus.toString(), "0,2,4,6");
    t.is(pod.hosts[0].isolatedCpus.toString(), "1,3,5,7");
});

test("discovered topology is used when none is declared; a declared one wins", (t) => {
    const discovered = { local: { numaNodes: [{ id: 0, cpus: [0, 1, 2, 3, 4, 5] }], smtSiblings: [] } };
    const bare = { name: "local", hugepages: host.hugepages };
    t.deepEqual(resolvePod({ hosts: [bare], guests: [{ name: "g", memory: "64M" }] }, { namePrefix: "p", discovered }).hosts[0].topology, discovered.local);
    t.deepEqual(resolvePod({ hosts: [host], guests: [{ name: "g", memory: "64M" }] }, { namePrefix: "p", discovered }).hosts[0].topology.numaNodes, [
        { id: 0, cpus: [0, 1, 2, 3] },
    ]);
});

test("knobs: kit defaults < ResolveOptions.knobDefaults < host guestKnobs < guest knobs", (t) => {
    const pod = resolvePod(
        {
            hosts: [{ ...host, guestKnobs: { memtuneHardLimit: false, pmu: true } }],
            guests: [
                { name: "a", memory: "64M" },
                { name: "b", memory: "64M", knobs: { pmu: false, hardLimitOverheadMiB: 256 } },
            ],
        },
        { namePrefix: "p", knobDefaults: { local: { locked: false, memtuneHardLimit: true } } },
    );
    const [a, b] = pod.guests;
    t.deepEqual([a.knobs.locked, a.knobs.memtuneHardLimit, a.knobs.pmu], [false, false, true]);
    t.deepEqual([b.knobs.locked, b.knobs.memtuneHardLimit, b.knobs.pmu, b.knobs.hardLimitOverheadMiB], [false, false, false, 256]);
});

test("knobs.hugepages false means 4K pages, and no hugepage pool is needed", (t) => {
    const pod = resolvePod(
        { hosts: [{ name: "h", topology: host.topology }], guests: [{ name: "g", memory: "100M", knobs: { hugepages: false } }] },
        { namePrefix: "p" },
    );
    t.is(pod.guests[0].pageSize.kibibytes, 4);
});

test("a guest with VFs defaults to its PF's NUMA node", (t) => {
    const twoNodes = {
        name: "h",
        topology: {
            numaNodes: [
                { id: 0, cpus: "0-1" },
                { id: 1, cpus: "2-3" },
            ],
        },
        hugepages: [{ node: 1, size: "2M", count: 64 }],
        pfs: [{ name: "enp1s0", vfCount: 4, numaNode: 1 }],
    };
    const pod = resolvePod(
        { hosts: [twoNodes], guests: [{ name: "g", memory: "64M", vfs: [{ pf: "enp1s0", vf: 0, pciAddress: "01:10.1" }] }] },
        { namePrefix: "p" },
    );
    const [g] = pod.guests;
    t.is(g.numaNode, 1);
    t.deepEqual(
        g.pins.map((p) => p.hostCpu),
        [3],
    );
    t.deepEqual(
        g.vfs.map((vf) => ({ ...vf, pciAddress: vf.pciAddress.toString() })),
        [{ pf: "enp1s0", vf: 0, pciAddress: "0000:01:10.1", trust: false, spoofchk: true, attach: "interface" }],
    );
});

test("links are resolved with host-unique shm names and shown on each member", (t) => {
    const pod = resolvePod(
        {
            hosts: [host],
            guests: [
                { name: "a", memory: "64M" },
                { name: "b", rtVcpus: [], memory: "64M" },
            ],
            links: [{ name: "ring0", members: ["a", "b"] }],
        },
        { namePrefix: "nfvkit-ci" },
    );
    t.like(pod.links[0], { name: "ring0", members: ["a", "b"], hugepages: false, shmName: "nfvkit-ci-ring0", path: "/dev/shm/nfvkit-ci-ring0", host: "local" });
    t.is(pod.links[0].size.bytes, 4 * 2 ** 20);
    const shm = { name: "nfvkit-ci-ring0", path: "/dev/shm/nfvkit-ci-ring0", size: "4M", hugepages: false };
    t.deepEqual(
        pod.guests.map((g) => g.shmem.map((s) => ({ ...s, size: s.size.toString() }))),
        [[shm], [shm]],
    );
});

test("hugepage-backed links count against the 2M pool of their first member's node", (t) => {
    const small = { ...host, hugepages: [{ node: 0, size: "2M", count: 35 }] };
    const spec = {
        hosts: [small],
        guests: [
            { name: "a", memory: "64M" },
            { name: "b", rtVcpus: [], memory: "64M", pageSize: "4K" },
        ],
        links: [{ name: "ring0", size: "8M", members: ["a", "b"], hugepages: true }],
    };
    const err = t.throws(() => resolvePod(spec, { namePrefix: "p" }));
    t.is(
        err!.message,
        "pod spec has 1 problem:\nhosts[0].hugepages[0].count: is 35 2M pages on node 0 of host local, but guest a (32) and link ring0 (4) need 36 (got 35). Fix: raise count to 36, or give the guests less memory",
    );
});

test("derived names are length-safe, deterministic and distinct", (t) => {
    t.is(deriveName("nfvkit-ci", "vnf"), "nfvkit-ci-vnf");
    const long = "a-very-long-guest-name-that-goes-on-and-on-and-on-and-on";
    const one = deriveName("nfvkit-some-long-stack-prefix", long);
    const two = deriveName("nfvkit-some-long-stack-prefix", `${long}-2`);
    t.is(one.length, 63);
    t.true(one.startsWith("nfvkit-some-long-stack-prefix-a-very-long-guest"));
    t.regex(one, /-[0-9a-f]{8}$/);
    t.is(one, deriveName("nfvkit-some-long-stack-prefix", long));
    t.not(one, two);
});

test("hugepage demand per host, node and size: guests' memory and hugepage-backed links", (t) => {
    const pod = resolvePod(
        {
            hosts: [{ name: "h", topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, housekeepingCpus: "0", hugepages: [{ node: 0, size: "2M", count: 300 }] }],
            guests: [
                { name: "a", vcpus: 2, memory: "256M" },
                { name: "b", vcpus: 2, memory: "256M" },
            ],
            links: [{ name: "l", size: "4M", members: ["a", "b"], hugepages: true }],
        },
        { namePrefix: "t" },
    );
    t.deepEqual(
        pod.hosts[0].hugepages.map((d) => ({ ...d, pageSize: d.pageSize.kibibytes })),
        [{ node: 0, pageSize: 2048, pages: 128 + 128 + 2 }],
    );
});
