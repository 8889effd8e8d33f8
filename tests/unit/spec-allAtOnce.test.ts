/**
 * Validation all at once: shape problems and cross-reference problems are
 * found in one pass, section by section, so a shape problem in one place
 * never hides a reference problem in another (a guest's host, a VF's PF, a
 * link's members and their host), and a name written with a problem of its
 * own is not blamed again where it is used.
 */
import test from "ava";
import { checkPod } from "../../components/spec/check";
import { formatProblem } from "../../components/spec/problems";

const problems = (spec: unknown) => checkPod(spec, { namePrefix: "t" }).problems.map(formatProblem);
const topology = { numaNodes: [{ id: 0, cpus: "0-3" }] };

test("a host without a topology still has its pools and PFs checked, and its guests' VFs against its PFs", (t) => {
    t.deepEqual(
        problems({
            hosts: [{ name: "a", pfs: [{ name: "enp1s0", vfCount: 4 }], hugepages: [{ node: 0, size: "3M", count: 8 }] }],
            guests: [{ name: "vnf", memory: "256M", vfs: [{ pf: "enp9s0", vf: 0, pciAddress: "0000:01:10.0" }] }],
        }),
        [
            'hosts[0].topology: is not declared and host a was not discovered (got nothing). Fix: declare topology: { numaNodes: [{ id: 0, cpus: "0-3" }] }, or make the host reachable so the kit reads it',
            'hosts[0].hugepages[0].size: is not a hugepage size (got "3M"). Fix: write "2M" or "1G"',
            'guests[0].vfs[0].pf: is not a PF of host a of this pod (got "enp9s0"). Fix: did you mean "enp1s0"?',
        ],
    );
});

test("a host whose topology has problems still counts for its guests' links: members on two hosts are refused", (t) => {
    t.deepEqual(
        problems({
            hosts: [
                {
                    name: "a",
                    topology: {
                        numaNodes: [
                            { id: 0, cpus: "0-3" },
                            { id: 0, cpus: "4-7" },
                        ],
                    },
                },
                { name: "b", uri: "qemu+ssh://root@b/system", topology },
            ],
            guests: [
                { name: "g1", host: "a", memory: "256M", vfs: [{ pf: "enp1s0", vf: 0, pciAddress: "0000:01:10.0" }] },
                { name: "g2", host: "b", memory: "256M" },
            ],
            links: [{ name: "ring", members: ["g1", "g2"] }],
        }),
        [
            "hosts[0].topology.numaNodes[1].id: repeats NUMA node 0 (got 0). Fix: give each node its own id",
            'guests[0].vfs[0].pf: is not a PF of host a of this pod (got "enp1s0"). Fix: declare the PF of host a first',
            'links[0].members: has guests on hosts a and b; shared memory exists on one host only (got ["g1","g2"]). Fix: put every member guest on the same host',
        ],
    );
});

test("a PF written with a problem is not blamed again by the VF that names it; other sections are still checked", (t) => {
    t.deepEqual(
        problems({
            hosts: [{ name: "a", topology, pfs: [{ name: "bad name", vfCount: 2 }] }],
            guests: [{ name: "g1", memory: "lots", vfs: [{ pf: "bad name", vf: 0, pciAddress: "0000:01:10.0" }] }],
            links: [{ name: "ring", members: ["g1", "g3"] }],
        }),
        [
            'hosts[0].pfs[0].name: is not a network interface name (got "bad name"). Fix: write the PF\'s name as `ip link` shows it: up to 15 letters, digits, "_", "." and "-", e.g. enp1s0f0',
            'guests[0].memory: is not a memory size (got "lots"). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"',
            'links[0].members[1]: is not a guest of this pod (got "g3"). Fix: did you mean "g1"?',
        ],
    );
});

test("a guest's own shape problems do not hide its VF references, nor another guest's host reference", (t) => {
    t.deepEqual(
        problems({
            hosts: [
                { name: "a", topology, pfs: [{ name: "enp1s0", vfCount: 2 }] },
                { name: "b", uri: "qemu+ssh://root@b/system", topology },
            ],
            guests: [
                { name: "g1", host: "a", vcpus: "two", memory: "256M", vfs: [{ pf: "enp1s0", vf: 5, pciAddress: "0000:01:10.0" }] },
                { name: "g2", host: "c", memory: "256M" },
            ],
        }),
        [
            'guests[0].vcpus: must be a whole number (got "two"). Fix: write a number from 1 to 255',
            "guests[0].vfs[0].vf: is beyond the 2 VFs of PF enp1s0 (VFs 0-1) (got 5). Fix: use a VF below 2, or raise vfCount of PF enp1s0 on host a",
            'guests[1].host: is not a host of this pod (got "c"). Fix: did you mean "a"?',
        ],
    );
});
