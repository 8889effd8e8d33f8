/**
 * One test per validation rule: a good pod with one mistake, and the exact
 * line `npm run validate` prints for it. Each asserts the mistake yields that
 * one problem only, so no rule hides behind follow-on noise.
 */
import test from "ava";
import { formatProblem, ProblemListError } from "../../components/spec/problems";
import { resolvePod } from "../../components/plan/resolvePod";

/** A valid pod: one 4-CPU host, an RT guest with a VF, a housekeeping peer, a link. */
function goodPod(): any {
    return {
        hosts: [
            {
                name: "local",
                topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
                housekeepingCpus: "0",
                isolatedCpus: "1-3",
                hugepages: [{ node: 0, size: "2M", count: 512 }],
                pfs: [{ name: "enp1s0", vfCount: 4, numaNode: 0 }],
            },
        ],
        guests: [
            { name: "vnf", vcpus: 2, memory: "256M", vfs: [{ pf: "enp1s0", vf: 1, pciAddress: "0000:01:10.2", mac: "52:54:00:00:00:01", vlan: 100 }] },
            { name: "peer", rtVcpus: [], memory: "256M" },
        ],
        links: [{ name: "ring0", size: "4M", members: ["vnf", "peer"] }],
    };
}

/** Makes the good pod's host two NUMA nodes of two CPUs, one housekeeping and one isolated on each. */
function splitIntoTwoNodes(pod: any): void {
    pod.hosts[0].topology.numaNodes = [
        { id: 0, cpus: "0-1" },
        { id: 1, cpus: "2-3" },
    ];
    pod.hosts[0].housekeepingCpus = "0,2";
    pod.hosts[0].isolatedCpus = "1,3";
}

function problemLines(spec: unknown, yamlPath?: string): string[] {
    try {
        resolvePod(spec, { namePrefix: "nfvkit-test", yamlPath });
    } catch (err) {
        if (err instanceof ProblemListError) return err.problems.map(formatProblem);
        throw err;
    }
    return [];
}

/** Registers a test: `mutate` breaks the good pod, `expected` is every line that must come out. */
function rule(title: string, mutate: (pod: any) => void, expected: string[]) {
    test(title, (t) => {
        const pod = goodPod();
        mutate(pod);
        t.deepEqual(problemLines(pod), expected);
    });
}

test("the good pod resolves without problems", (t) => {
    t.deepEqual(problemLines(goodPod()), []);
});

rule("duplicate guest names", (p) => (p.guests[1].name = "vnf"), [
    'guests[1].name: repeats the guest name already used at guests[0].name (got "vnf"). Fix: give each guest its own name',
    // The link still names the guest that is now gone.
    'links[0].members[1]: is not a guest of this pod (got "peer"). Fix: use one of "vnf"',
]);

rule("duplicate host names", (p) => p.hosts.push({ ...p.hosts[0], pfs: [] }), [
    'hosts[1].name: repeats the host name already used at hosts[0].name (got "local"). Fix: give each host its own name',
]);

rule("a name unsafe for a shell, a file or XML", (p) => (p.guests[1].name = "peer;rm -rf"), [
    'guests[1].name: is not a safe name (it becomes part of domain and file names) (got "peer;rm -rf"). Fix: use up to 63 letters, digits, "-" and "_", starting with a letter or digit',
    'links[0].members[1]: is not a guest of this pod (got "peer"). Fix: use one of "vnf"',
]);

test("an unsafe name prefix", (t) => {
    const err = t.throws(() => resolvePod(goodPod(), { namePrefix: "../evil" }), { instanceOf: ProblemListError });
    t.deepEqual(err!.problems.map(formatProblem), [
        'namePrefix: is not a safe name prefix (got "../evil"). Fix: use letters, digits, "-" and "_", starting with a letter or digit, e.g. "nfvkit-ci"',
    ]);
});

rule(
    "RT vCPUs of two guests on one host CPU",
    (p) => {
        p.guests[0].cpus = "0-1";
        p.guests[1] = { name: "peer", vcpus: 1, cpus: "1", memory: "256M" };
    },
    [
        'guests[1].cpus: puts RT vCPU 0 of guest peer on host CPU 1, which already runs RT vCPU 1 of guest vnf (got "1"). Fix: give every RT vCPU a host CPU of its own',
    ],
);

rule("an RT vCPU on a housekeeping CPU", (p) => Object.assign(p.guests[0], { cpus: "0-1", rtVcpus: [0, 1] }), [
    'guests[0].cpus: puts RT vCPU 0 on housekeeping CPU 0 of host local (got "0-1"). Fix: use isolated CPUs (1-3) for RT vCPUs, or drop 0 from rtVcpus',
]);

rule("an RT vCPU on a CPU the host does not have", (p) => (p.guests[0].cpus = "1,7"), [
    'guests[0].cpus: puts vCPU 1 on CPU 7, which host local does not have (it has 0-3) (got "1,7"). Fix: use CPUs of host local',
]);

rule("emulator threads on an isolated CPU", (p) => (p.guests[0].emulatorCpus = "0,3"), [
    'guests[0].emulatorCpus: puts the emulator threads on isolated CPU 3 of host local (got "0,3"). Fix: use housekeeping CPUs (0); isolated CPUs are for RT vCPUs',
]);

rule("I/O threads on an isolated CPU", (p) => Object.assign(p.guests[1], { iothreads: 1, iothreadCpus: "2" }), [
    'guests[1].iothreadCpus: puts the I/O threads on isolated CPU 2 of host local (got "2"). Fix: use housekeeping CPUs (0); isolated CPUs are for RT vCPUs',
]);

rule("the hugepage pool of a node is too small for its guests", (p) => (p.hosts[0].hugepages[0].count = 200), [
    "hosts[0].hugepages[0].count: is 200 2M pages on node 0 of host local, but guest vnf (128) and guest peer (128) need 256 (got 200). Fix: raise count to 256, or give the guests less memory",
]);

rule("no hugepage pool of the guest's page size", (p) => ((p.guests[0].pageSize = "1G"), (p.guests[0].memory = "1G")), [
    'guests[0].pageSize: needs 1 1G hugepages on node 0 of host local, which has no 1G pool there (got "1G"). Fix: add { node: 0, size: 1G, count: 1 } to hugepages of host local, or set pageSize: 4K',
]);

rule("memory not a multiple of the page size", (p) => (p.guests[1].memory = "255M"), [
    'guests[1].memory: is not a whole number of 2M pages (got "255M"). Fix: write "256M" or use a smaller pageSize',
]);

rule("guest memory given as a bare number (bytes)", (p) => (p.guests[1].memory = 256), [
    'guests[1].memory: is 256B, too little for a Linux guest (got 256). Fix: give at least "32M", e.g. "256M" (a bare number means bytes)',
]);

rule("an ivshmem size that is not a power of two", (p) => (p.links[0].size = "3M"), [
    'links[0].size: is 3M, but an ivshmem region must be a power of two of at least 1M (got "3M"). Fix: write "4M"',
]);

rule("an ivshmem size under 1 MiB", (p) => (p.links[0].size = "512K"), [
    'links[0].size: is 512K, but an ivshmem region must be a power of two of at least 1M (got "512K"). Fix: write "1M"',
]);

rule("a link with one member", (p) => (p.links[0].members = ["vnf"]), [
    'links[0].members: has 1 guest; a link joins at least two (got ["vnf"]). Fix: list two or more guests',
]);

rule("a link with an unknown member", (p) => (p.links[0].members = ["vnf", "pear"]), [
    'links[0].members[1]: is not a guest of this pod (got "pear"). Fix: did you mean "peer"?',
]);

rule(
    "a link between guests on different hosts",
    (p) => {
        p.hosts.push({
            name: "remote",
            uri: "qemu+ssh://root@lab-2/system",
            topology: { numaNodes: [{ id: 0, cpus: "0-1" }] },
            hugepages: [{ node: 0, size: "2M", count: 128 }],
        });
        p.guests[0].host = "local";
        p.guests[1].host = "remote";
    },
    [
        'links[0].members: has guests on hosts local and remote; shared memory exists on one host only (got ["vnf","peer"]). Fix: put every member guest on the same host',
    ],
);

rule("a guest on an unknown host", (p) => (p.guests[1].host = "lokal"), [
    'guests[1].host: is not a host of this pod (got "lokal"). Fix: did you mean "local"?',
]);

rule("a VF of an unknown PF", (p) => (p.guests[0].vfs[0].pf = "enp9s0"), [
    'guests[0].vfs[0].pf: is not a PF of host local of this pod (got "enp9s0"). Fix: did you mean "enp1s0"?',
]);

rule("a VF beyond the PF's VF count", (p) => (p.guests[0].vfs[0].vf = 4), [
    "guests[0].vfs[0].vf: is beyond the 4 VFs of PF enp1s0 (VFs 0-3) (got 4). Fix: use a VF below 4, or raise vfCount of PF enp1s0 on host local",
]);

rule(
    "trust asked without a VF index",
    (p) => {
        delete p.guests[0].vfs[0].vf;
        p.guests[0].vfs[0].trust = true;
    },
    [
        "guests[0].vfs[0].vf: is required: the kit creates the VF and sets its trust and spoofchk by its index on the PF (`ip link set <pf> vf <index>`) (got nothing). Fix: add vf: <index of the VF on its PF>, e.g. vf: 0",
    ],
);

rule("two guests with one VF", (p) => (p.guests[1].vfs = [{ pf: "enp1s0", vf: 1, pciAddress: "0000:01:10.2" }]), [
    'guests[1].vfs[0].pciAddress: repeats the VF PCI address name already used at guests[0].vfs[0].pciAddress (got "0000:01:10.2"). Fix: give each VF PCI address its own name',
]);

rule("a VF handed over in a form libvirt does not have", (p) => (p.guests[0].vfs[0].attach = "Hostdev"), [
    'guests[0].vfs[0].attach: must be one of "interface", "hostdev" (got "Hostdev"). Fix: did you mean "hostdev"?',
]);

rule("a VLAN tag out of range", (p) => (p.guests[0].vfs[0].vlan = 4095), [
    "guests[0].vfs[0].vlan: is out of range 1-4094 (got 4095). Fix: write a number from 1 to 4094",
]);

rule("a multicast MAC", (p) => (p.guests[0].vfs[0].mac = "03:00:00:00:00:01"), [
    'guests[0].vfs[0].mac: is a multicast address, which a NIC cannot own (got "03:00:00:00:00:01"). Fix: clear the lowest bit of the first octet, e.g. "52:54:00:..."',
]);

rule(
    "a VF whose PF sits on another NUMA node than the guest",
    (p) => {
        splitIntoTwoNodes(p);
        p.hosts[0].hugepages.push({ node: 1, size: "2M", count: 128 });
        p.guests[0].numaNode = 1;
    },
    [
        "guests[0].numaNode: is not the node of the guest's VFs (their PF is on node 0); every packet would cross the interconnect (got 1). Fix: set numaNode: 0 or take VFs of a PF on node 1",
    ],
);

rule("a wrong type", (p) => (p.guests[0].vcpus = "two"), ['guests[0].vcpus: must be a whole number (got "two"). Fix: write a number from 1 to 255']);

rule("an unknown key close to a known one", (p) => (p.guests[0].rtVcpu = [1]), [
    'guests[0].rtVcpu: is not a known field (got [1]). Fix: did you mean "rtVcpus"?',
]);

rule("an unknown key far from any known one", (p) => (p.hosts[0].colour = "blue"), [
    'hosts[0].colour: is not a known field (got "blue"). Fix: remove it; known fields are name, uri, ssh, topology, housekeepingCpus, isolatedCpus, hugepages, pfs, guestKnobs, accel, manage, kernelPackage, hwlat',
]);

rule("an unknown knob", (p) => (p.guests[0].knobs = { memballon: true }), [
    'guests[0].knobs.memballon: is not a known field (got true). Fix: did you mean "memballoon"?',
]);

rule("a missing required field", (p) => delete p.guests[1].memory, ["guests[1].memory: is required (got nothing). Fix: add memory"]);

rule("rtVcpus beyond the guest's vCPUs", (p) => (p.guests[0].rtVcpus = [1, 2]), [
    "guests[0].rtVcpus: names vCPU 2, but the guest has vCPUs 0-1 (got [1,2]). Fix: list vCPUs below 2, or raise vcpus",
]);

rule("a FIFO priority out of range", (p) => (p.guests[0].fifoPriority = 100), [
    "guests[0].fifoPriority: is out of range 1-99 (got 100). Fix: write a number from 1 to 99",
]);

rule("explicit cpus not one per vCPU", (p) => (p.guests[0].cpus = "1-3"), [
    'guests[0].cpus: lists 3 host CPUs for 2 vCPUs (got "1-3"). Fix: give one host CPU per vCPU (2), or leave cpus out and let the planner choose',
]);

rule(
    "explicit cpus spanning NUMA nodes",
    (p) => {
        splitIntoTwoNodes(p);
        p.hosts[0].pfs[0].numaNode = undefined;
        p.guests[0] = { name: "vnf", vcpus: 2, rtVcpus: [0, 1], cpus: "1,3", memory: "256M" };
    },
    ['guests[0].cpus: spans NUMA nodes 0 and 1 of host local, but guest memory is bound to node 0 (got "1,3"). Fix: use CPUs of node 0 only (0-1)'],
);

rule("a host with neither declared nor discovered topology", (p) => delete p.hosts[0].topology, [
    'hosts[0].topology: is not declared and host local was not discovered (got nothing). Fix: declare topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, or make the host reachable so the kit reads it',
]);

rule("a CPU both housekeeping and isolated", (p) => (p.hosts[0].isolatedCpus = "0-3"), [
    'hosts[0].isolatedCpus: has CPU 0, which is also a housekeeping CPU (got "0-3"). Fix: make each CPU either housekeeping or isolated',
]);

rule(
    "every CPU isolated",
    (p) => {
        delete p.hosts[0].housekeepingCpus;
        p.hosts[0].isolatedCpus = "0-3";
    },
    [
        'hosts[0].isolatedCpus: isolates every CPU of host local, leaving none for the host OS (got "0-3"). Fix: leave at least one CPU out of isolatedCpus, e.g. CPU 0',
    ],
);

rule("pageSize contradicting knobs.hugepages", (p) => Object.assign(p.guests[1], { pageSize: "2M", knobs: { hugepages: false } }), [
    'guests[1].pageSize: asks for hugepages while knobs.hugepages is false (got "2M"). Fix: remove one of them: pageSize "4K" means no hugepages',
]);

rule("not enough isolated CPUs for the RT vCPUs", (p) => (p.guests[0].vcpus = 5), [
    // The guest's node is fixed by its VF's PF (node 0).
    "guests[0].rtVcpus: host local node 0 has 3 free isolated CPUs, guest vnf needs 4 (got [1,2,3,4]). Fix: isolate more CPUs on node 0 of host local, move another guest off it, or give guest vnf fewer RT vCPUs",
]);

test("problem paths carry the stack file prefix", (t) => {
    const pod = goodPod();
    pod.guests[0].vcpus = 0;
    t.deepEqual(problemLines(pod, "nfv-testpod:pod"), ["nfv-testpod:pod.guests[0].vcpus: is out of range 1-255 (got 0). Fix: write a number from 1 to 255"]);
});

test("every problem of a spec comes out at once, in one error", (t) => {
    const pod = goodPod();
    pod.guests[0].vcpu = 2; // unknown key
    pod.guests[1].host = "lokal"; // unknown host
    pod.guests[0].memory = "255M"; // not a page multiple
    pod.links[0].size = "3M"; // not a power of two
    pod.hosts[0].hugepages[0].size = "3M"; // not a hugepage size (so budgets are not checked on top)
    const err = t.throws(() => resolvePod(pod, { namePrefix: "nfvkit-test" }), { instanceOf: ProblemListError });
    t.deepEqual(
        err!.problems.map((p) => p.path),
        ["hosts[0].hugepages[0].size", "guests[0].vcpu", "guests[0].memory", "guests[1].host", "links[0].size"],
    );
    const lines = err!.message.split("\n");
    t.is(lines[0], "pod spec has 5 problems:");
    t.deepEqual(lines.slice(1), err!.problems.map(formatProblem));
});
