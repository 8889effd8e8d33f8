/**
 * Whose is a stack's lock (tools/cli/lockOwner.ts): every case of the
 * decision, with this machine, its records and its processes given as plain
 * data. The lock is removed only where the kit is sure its run is over; the
 * real-engine cases are tests/e2e/staleLock.test.ts.
 */
import test from "ava";
import {
    judgeLock,
    parseRunRecord,
    refusalMessage,
    type HostIdentity,
    type LockFile,
    type ProcessSeen,
    type RecordRead,
    type RunRecord,
} from "../../tools/cli/lockOwner";

const HERE: HostIdentity = { hostname: "debian", machineId: "aaaa1111", bootId: "boot-2", pidNamespace: "pid:[4026531836]" };
const LOCK: LockFile = {
    path: "/srv/state/.pulumi/locks/organization/nfv-testpod/ci/7d3c.json",
    pid: 4242,
    hostname: "debian",
    username: "ci",
    timestamp: "2026-12-05T10:00:01.123456789Z",
};
const RECORD: RunRecord = {
    token: "0b6c1f5e-run",
    command: "up",
    stack: "ci",
    hostname: "debian",
    machineId: "aaaa1111",
    bootId: "boot-2",
    pidNamespace: "pid:[4026531836]",
    pid: 4242,
    pidStart: "880000",
    startedAt: "2026-12-05T10:00:00.500Z",
};
const read = (record: RunRecord, name = "r.json"): RecordRead => ({ path: `/srv/state/.nfvkit/runs/${name}`, record });
const gone = (): ProcessSeen => ({ running: false });
const sameProcess = (): ProcessSeen => ({ running: true, startTicks: "880000", startedAtMs: Date.parse("2026-12-05T10:00:00.400Z") });
const otherProcess = (startedAt: string) => (): ProcessSeen => ({ running: true, startTicks: "990000", startedAtMs: Date.parse(startedAt) });

const cases: { name: string; reads: RecordRead[]; here?: HostIdentity; seen: (pid: number) => ProcessSeen; remove: boolean; live?: boolean; why: RegExp }[] = [
    { name: "this machine, this boot, the pid is gone", reads: [read(RECORD)], seen: gone, remove: true, why: /^pid 4242 no longer runs$/ },
    {
        name: "this machine, an earlier boot (whatever runs as that pid now)",
        reads: [read({ ...RECORD, bootId: "boot-1" })],
        seen: sameProcess,
        remove: true,
        why: /before this machine last booted/,
    },
    {
        name: "the pid is another process, started after the lock was taken",
        reads: [read(RECORD)],
        seen: otherProcess("2026-12-05T10:30:00Z"),
        remove: true,
        why: /now another process, started after the lock was taken/,
    },
    {
        name: "the pid is another process that was already running when the lock was taken",
        reads: [read(RECORD)],
        seen: otherProcess("2026-12-05T09:00:00Z"),
        remove: false,
        why: /cannot tell from the run that took the lock/,
    },
    { name: "the run is still going", reads: [read(RECORD)], seen: sameProcess, remove: false, live: true, why: /pid 4242 is still running \(pulumi up\)/ },
    {
        name: "another machine-id with the same hostname, its pid not running here",
        reads: [read({ ...RECORD, machineId: "bbbb2222" })],
        seen: gone,
        remove: false,
        why: /another machine \(machine-id bbbb2222, this one is aaaa1111\) that has the same hostname debian/,
    },
    {
        name: "a record with no machine-id",
        reads: [read({ ...RECORD, machineId: null })],
        seen: gone,
        remove: false,
        why: /another machine \(machine-id unknown/,
    },
    {
        name: "another container on this kernel (same machine-id and boot id, another pid namespace)",
        reads: [read({ ...RECORD, pidNamespace: "pid:[4026532999]" })],
        seen: gone,
        remove: false,
        why: /another pid namespace of this machine/,
    },
    {
        name: "this machine has no machine-id",
        reads: [read(RECORD)],
        here: { ...HERE, machineId: undefined },
        seen: gone,
        remove: false,
        why: /no \/etc\/machine-id/,
    },
    { name: "no record at all (plain pulumi)", reads: [], seen: gone, remove: false, why: /no kit record names this lock: it was taken by pulumi run by hand/ },
    {
        name: "records of other pids and hosts only",
        reads: [read({ ...RECORD, pid: 1 }), read({ ...RECORD, hostname: "other" }, "o.json")],
        seen: gone,
        remove: false,
        why: /no kit record names this lock/,
    },
    {
        name: "a record begun after the lock was taken is another run's",
        reads: [read({ ...RECORD, startedAt: "2026-12-05T11:00:00Z" })],
        seen: gone,
        remove: false,
        why: /no kit record names this lock/,
    },
    {
        name: "an unreadable record and none that names the lock",
        reads: [{ path: "/srv/state/.nfvkit/runs/x.json", unreadable: "not JSON (Unexpected end of JSON input)" }],
        seen: gone,
        remove: false,
        why: /1 record\(s\) could not be read/,
    },
    {
        name: "two records name the same host and pid (two containers, one hostname, same pid)",
        reads: [read(RECORD), read({ ...RECORD, token: "other-run", machineId: "bbbb2222" }, "b.json")],
        seen: gone,
        remove: false,
        why: /2 kit records name the same host debian and pid 4242/,
    },
];

for (const c of cases) {
    test(`judgeLock: ${c.name}`, (t) => {
        const verdict = judgeLock(LOCK, c.reads, c.here ?? HERE, c.seen);
        t.is(verdict.remove, c.remove);
        t.regex(verdict.why, c.why);
        if (!verdict.remove) t.is(verdict.live, c.live ?? false);
    });
}

test("an unreadable record next to the lock's own does not stop a sure removal", (t) => {
    const verdict = judgeLock(LOCK, [read(RECORD), { path: "/srv/state/.nfvkit/runs/x.json", unreadable: "not JSON" }], HERE, gone);
    t.true(verdict.remove);
});

test("the refusal names the holder, the reason, pulumi cancel and the rm line", (t) => {
    const verdict = judgeLock(LOCK, [read({ ...RECORD, machineId: "bbbb2222" })], HERE, gone);
    if (verdict.remove) return t.fail("removed");
    t.is(
        refusalMessage("ci", LOCK, verdict),
        [
            "Stack ci is locked by pid 4242 on host debian (user ci), taken at 2026-12-05T10:00:01.123456789Z; the kit's record of that run: pulumi up, run token 0b6c1f5e-run.",
            "The kit leaves the lock alone because it cannot be sure that run is over: it was taken on another machine (machine-id bbbb2222, this one is aaaa1111) that has the same hostname debian.",
            "Make sure nothing runs on stack ci any more (ask whoever uses host debian), then remove the lock by hand, either with",
            '  pulumi cancel --stack ci --yes      (removes every lock of the stack; from this checkout, put .state/bin first on PATH and set PULUMI_BACKEND_URL as the README\'s "Using pulumi directly" says)',
            "or with",
            "  rm -f /srv/state/.pulumi/locks/organization/nfv-testpod/ci/7d3c.json /srv/state/.pulumi/locks/organization/nfv-testpod/ci/7d3c.json.attrs",
        ].join("\n"),
    );
});

test("a refusal lists the unreadable records, and quotes a path with a space", (t) => {
    const lock = { ...LOCK, path: "/srv/my state/.pulumi/locks/organization/nfv-testpod/ci/7d3c.json" };
    const verdict = judgeLock(lock, [{ path: "/srv/my state/.nfvkit/runs/x.json", unreadable: "not JSON" }], HERE, gone);
    if (verdict.remove) return t.fail("removed");
    const message = refusalMessage("ci", lock, verdict);
    t.true(
        message.includes(
            "  rm -f '/srv/my state/.pulumi/locks/organization/nfv-testpod/ci/7d3c.json' '/srv/my state/.pulumi/locks/organization/nfv-testpod/ci/7d3c.json.attrs'",
        ),
        message,
    );
    t.true(message.endsWith("The kit's records it could not read (remove them once no run uses them): /srv/my state/.nfvkit/runs/x.json (not JSON)"), message);
});

test("a live run's refusal says to wait, or how to stop it", (t) => {
    const verdict = judgeLock(LOCK, [read(RECORD)], HERE, sameProcess);
    if (verdict.remove) return t.fail("removed");
    const message = refusalMessage("ci", LOCK, verdict);
    t.true(message.includes("That run is still going (pid 4242 is still running (pulumi up)). Wait for it to end."), message);
    t.true(message.includes("kill 4242"), message);
});

test("parseRunRecord: a whole record reads back; a missing or mistyped field makes it unreadable", (t) => {
    t.deepEqual(parseRunRecord(JSON.stringify(RECORD)), RECORD);
    const { stack: _stack, ...noStack } = RECORD;
    t.deepEqual(parseRunRecord(JSON.stringify(noStack)), noStack, "stack is optional");
    const { machineId: _m, ...noMachine } = RECORD;
    t.is(parseRunRecord(JSON.stringify(noMachine)), 'field "machineId" is missing');
    t.is(parseRunRecord(JSON.stringify({ ...RECORD, pid: "4242" })), 'field "pid" is not a number');
    t.is(parseRunRecord("[1]"), "not a JSON object");
    t.regex(parseRunRecord("{") as string, /^not JSON/);
});
