/**
 * npm test runs the lab VM test beside the other real-parts tests, from the
 * same checkout (tools/ci/suite.sh). Its processes, and every process they
 * start (the engine, its plugins, ssh-agents), carry NFVKIT_TEST_LANE in their
 * environment. A check that looks machine-wide for the kit's processes or ssh
 * folders keeps to its own lane, so it neither waits for the other one's work
 * nor counts it as left behind, and a test that kills "the kit's processes"
 * never kills the other lane's.
 */
import { readFileSync } from "node:fs";

export const LANE_VARIABLE = "NFVKIT_TEST_LANE";

/** This test process's lane: "" for the main one. */
export const THIS_LANE = process.env[LANE_VARIABLE] ?? "";

/** The lane a running process belongs to, from its environment ("" when it names none); undefined once it is gone. */
export function laneOf(pid: number): string | undefined {
    try {
        const entry = readFileSync(`/proc/${pid}/environ`, "utf8")
            .split("\0")
            .find((e) => e.startsWith(`${LANE_VARIABLE}=`));
        return entry === undefined ? "" : entry.slice(LANE_VARIABLE.length + 1);
    } catch {
        return undefined;
    }
}

/** Whether `pid` runs in this test's lane. A process that ended meanwhile counts as ours: what it left is ours to find. */
export function inThisLane(pid: number): boolean {
    const lane = laneOf(pid);
    return lane === undefined || lane === THIS_LANE;
}

/**
 * The only guests a file of the lane beside may define on this machine's
 * libvirt are the known-answer tests' (tests/kat), all named so; the lab VM
 * test's guests live in the VM's own libvirt. tests/unit/suite.test.ts checks
 * both the names and that no other file beside defines guests here.
 */
export const BESIDE_LANE_DOMAIN_PREFIX = "nfvkit-kat-";

/** Whether a domain on this machine's libvirt belongs to this test's lane: a machine-wide "other domains are as they were" leaves the other lane's out, since they come and go with its tests. */
export function domainInThisLane(name: string): boolean {
    return name.startsWith(BESIDE_LANE_DOMAIN_PREFIX) === (THIS_LANE === "beside");
}
