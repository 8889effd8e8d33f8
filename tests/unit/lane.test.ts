/**
 * The lane a process belongs to (tests/helpers/lane.ts) is read from its
 * environment, which every process the kit starts inherits: a check in one
 * lane must tell the other lane's processes from its own, and a process that
 * has ended counts as its own (what it left is for it to find).
 */
import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { inThisLane, LANE_VARIABLE, laneOf, THIS_LANE } from "../helpers/lane";

function sleeper(lane: string | undefined) {
    const env = { ...process.env };
    delete env[LANE_VARIABLE];
    if (lane !== undefined) env[LANE_VARIABLE] = lane;
    // Through a shell, as the engine starts its plugins: the lane is inherited, not passed on by hand.
    return spawn("sh", ["-c", "exec sleep 30"], { env });
}

test("a process started with the lane's variable, and its children, are in that lane; one without it is in the main one", async (t) => {
    const beside = sleeper("beside");
    const main = sleeper(undefined);
    t.teardown(() => [beside, main].forEach((p) => p.kill()));
    await new Promise((r) => setTimeout(r, 200));
    t.is(laneOf(beside.pid!), "beside");
    t.is(laneOf(main.pid!), "");
    t.is(inThisLane(beside.pid!), THIS_LANE === "beside");
    t.is(inThisLane(main.pid!), THIS_LANE === "");
    const gone = spawnSync("true").pid;
    t.is(laneOf(gone), undefined);
    t.true(inThisLane(gone), "an ended process counts as this lane's");
});
