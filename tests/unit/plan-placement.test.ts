import test from "ava";
import { formatProblem } from "../../components/spec/problems";
import { formatPlacementTable, planPlacement, type PlacementGuest, type PlacementHost } from "../../components/plan/placement";

/** Two NUMA nodes of 4 cores with hyperthreads: core n is CPUs n and n+8. CPU 0/8 and 4/12 are housekeeping. */
function twoSocketHost(): PlacementHost {
    const numa0 = [0, 1, 2, 3, 8, 9, 10, 11];
    const numa1 = [4, 5, 6, 7, 12, 13, 14, 15];
    const housekeeping = [0, 8, 4, 12];
    return {
        name: "host-a",
        path: "hosts[0]",
        topology: {
            numaNodes: [
                { id: 0, cpus: numa0 },
                { id: 1, cpus: numa1 },
            ],
            smtSiblings: [0, 1, 2, 3, 4, 5, 6, 7].map((n) => [n, n + 8]),
        },
        housekeepingCpus: housekeeping.sort((a, b) => a - b),
        isolatedCpus: [...numa0, ...numa1].filter((c) => !housekeeping.includes(c)).sort((a, b) => a - b),
    };
}

function guest(name: string, index: number, fields: Partial<PlacementGuest>): PlacementGuest {
    return { name, path: `guests[${index}]`, host: "host-a", vcpus: 1, rtVcpus: [0], iothreads: 0, ...fields };
}

const rtCpus = (plan: ReturnType<typeof planPlacement>, name: string) => plan.placements[name].pins.filter((p) => p.role === "rt").map((p) => p.hostCpu);

test("RT vCPUs land on isolated CPUs of the guest's NUMA node, threads on its housekeeping CPUs", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("vnf", 0, { vcpus: 3, rtVcpus: [1, 2], numaNode: 1, iothreads: 1 })]);
    t.deepEqual(plan.problems, []);
    const p = plan.placements.vnf;
    t.is(p.numaNode, 1);
    t.deepEqual(p.pins, [
        { vcpu: 0, hostCpu: 4, numaNode: 1, role: "housekeeping" },
        { vcpu: 1, hostCpu: 5, numaNode: 1, role: "rt" },
        { vcpu: 2, hostCpu: 6, numaNode: 1, role: "rt" },
    ]);
    t.deepEqual(p.emulatorCpus, [4, 12]);
    t.deepEqual(p.iothreadCpus, [4, 12]);
});

test("RT vCPUs take whole cores before hyperthread siblings", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("vnf", 0, { vcpus: 3, rtVcpus: [0, 1, 2], numaNode: 0 })]);
    t.deepEqual(rtCpus(plan, "vnf"), [1, 2, 3]);
});

test("a guest may use its own RT CPUs' siblings once whole cores run out", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("vnf", 0, { vcpus: 5, rtVcpus: [0, 1, 2, 3, 4], numaNode: 0 })]);
    t.deepEqual(rtCpus(plan, "vnf"), [1, 2, 3, 9, 10]);
});

test("the SMT sibling of an RT vCPU is not given to another guest", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("a", 0, { vcpus: 3, rtVcpus: [0, 1, 2], numaNode: 0 }), guest("b", 1, { numaNode: 0 })]);
    t.deepEqual(rtCpus(plan, "a"), [1, 2, 3]);
    t.deepEqual(plan.problems.map(formatProblem), [
        // CPUs 9-11 are free but are siblings of guest a's RT CPUs.
        "guests[1].rtVcpus: host host-a node 0 has 0 free isolated CPUs, guest b needs 1 (got [0]). Fix: isolate more CPUs on node 0 of host host-a, move another guest off it, or give guest b fewer RT vCPUs",
    ]);
});

test("without a wanted node, a guest goes to the first node with room", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("a", 0, { vcpus: 3, rtVcpus: [0, 1, 2] }), guest("b", 1, { vcpus: 2, rtVcpus: [0, 1] })]);
    t.deepEqual(plan.problems, []);
    t.is(plan.placements.a.numaNode, 0);
    t.is(plan.placements.b.numaNode, 1);
    t.deepEqual(rtCpus(plan, "b"), [5, 6]);
});

test("housekeeping vCPUs share housekeeping CPUs, each on the least loaded", (t) => {
    const plan = planPlacement(
        [twoSocketHost()],
        [guest("a", 0, { vcpus: 2, rtVcpus: [], numaNode: 0 }), guest("b", 1, { vcpus: 1, rtVcpus: [], numaNode: 0 })],
    );
    t.deepEqual(
        plan.placements.a.pins.map((p) => p.hostCpu),
        [0, 8],
    );
    t.deepEqual(
        plan.placements.b.pins.map((p) => p.hostCpu),
        [0],
    );
});

test("guests with explicit CPUs are placed first, and the planner works around them", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("auto", 0, { numaNode: 0 }), guest("manual", 1, { cpus: [1], numaNode: 0 })]);
    t.deepEqual(plan.problems, []);
    t.deepEqual(rtCpus(plan, "manual"), [1]);
    t.deepEqual(rtCpus(plan, "auto"), [2]);
});

test("explicit emulator and I/O thread CPUs are kept as given", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("vnf", 0, { numaNode: 0, emulatorCpus: [8], iothreads: 2, iothreadCpus: [0] })]);
    t.deepEqual(plan.placements.vnf.emulatorCpus, [8]);
    t.deepEqual(
        plan.rows.filter((r) => r.role === "iothread").map((r) => [r.vcpu, r.hostCpu]),
        [
            ["iothread1", 0],
            ["iothread2", 0],
        ],
    );
});

test("cannot place: no node has enough isolated CPUs", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("big", 0, { vcpus: 7, rtVcpus: [0, 1, 2, 3, 4, 5, 6] })]);
    t.deepEqual(plan.problems.map(formatProblem), [
        "guests[0].rtVcpus: host host-a has no NUMA node with 7 free isolated CPUs (node 0: 6, node 1: 6), guest big needs 7 (got [0,1,2,3,4,5,6]). Fix: isolate more CPUs on host host-a, move another guest off it, or give guest big fewer RT vCPUs",
    ]);
    t.deepEqual(plan.placements, {});
});

test("cannot place: a wanted node that does not exist", (t) => {
    const plan = planPlacement([twoSocketHost()], [guest("vnf", 0, { numaNode: 3 })]);
    t.deepEqual(plan.problems.map(formatProblem), ["guests[0].numaNode: host host-a has no NUMA node 3 (it has 0, 1) (got 3). Fix: use one of 0, 1"]);
});

test("cannot place: non-RT vCPUs on a node without housekeeping CPUs", (t) => {
    const host = twoSocketHost();
    host.housekeepingCpus = [0, 8];
    host.isolatedCpus = host.isolatedCpus.concat([4, 12]).sort((a, b) => a - b);
    const plan = planPlacement([host], [guest("vnf", 0, { vcpus: 2, rtVcpus: [1], numaNode: 1 })]);
    t.deepEqual(plan.problems.map(formatProblem), [
        "guests[0].rtVcpus: host host-a node 1 has no housekeeping CPUs for the non-RT vCPUs of guest vnf (got [1]). Fix: add a CPU of node 1 to housekeepingCpus of host host-a, or make every vCPU RT",
    ]);
});

test("the same input gives the same plan", (t) => {
    const guests = () => [guest("a", 0, { vcpus: 2, rtVcpus: [1] }), guest("b", 1, { vcpus: 4, rtVcpus: [1, 2, 3], iothreads: 1 })];
    t.deepEqual(planPlacement([twoSocketHost()], guests()), planPlacement([twoSocketHost()], guests()));
});

test("placement table", (t) => {
    const plan = planPlacement(
        [twoSocketHost()],
        [guest("vnf-fast", 0, { vcpus: 3, rtVcpus: [1, 2], numaNode: 1 }), guest("peer", 1, { vcpus: 1, rtVcpus: [], iothreads: 1 })],
    );
    t.snapshot(formatPlacementTable(plan.rows));
});
