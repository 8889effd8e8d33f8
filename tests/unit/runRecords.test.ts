/**
 * The kit's run records on disk (tools/cli/runRecords.ts), in a file backend
 * folder of the test's own, with real processes of this machine: a record of
 * a run that is over and holds no lock is swept, one of another machine or of
 * a live process stays, and a lock file the kit cannot read is never removed.
 * The engine's own locks are tests/e2e/staleLock.test.ts.
 */
import test from "ava";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clearDeadLocks, hostIdentity, processSeen, recordRun, runRecordsDir, StaleLockError } from "../../tools/cli/runRecords";

function backend(t: { teardown(fn: () => void): void }): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "nfvkit-records-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
}

/** A pid that ran on this machine and has exited. */
function deadPid(): number {
    const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
    return Number(r.stdout.trim());
}

test("recordRun writes the record of a process, with no secret, and its finish removes it when no lock is left", (t) => {
    const dir = backend(t);
    const finish = recordRun(
        process.pid,
        ["up", "--yes", "--stack", "ci", "--config", "nfv-testpod:token=s3cret"],
        { PULUMI_BACKEND_URL: `file://${dir}` },
        new Date(),
    );
    const [name] = readdirSync(runRecordsDir(dir));
    const text = readFileSync(path.join(runRecordsDir(dir), name), "utf8");
    const record = JSON.parse(text);
    const here = hostIdentity();
    t.like(record, {
        command: "up",
        stack: "ci",
        pid: process.pid,
        hostname: os.hostname(),
        machineId: here.machineId,
        bootId: here.bootId,
        pidNamespace: here.pidNamespace,
    });
    t.is(record.pidStart, (processSeen(process.pid) as { startTicks: string }).startTicks);
    t.false(text.includes("s3cret"), "no argument value is recorded");
    finish();
    t.deepEqual(readdirSync(runRecordsDir(dir)), []);
});

test("recordRun's finish keeps the record while a lock of that pid is left (pulumi killed with -9)", (t) => {
    const dir = backend(t);
    const pid = deadPid();
    const finish = recordRun(pid, ["up", "--stack", "ci"], { PULUMI_BACKEND_URL: `file://${dir}` }, new Date());
    const locks = path.join(dir, ".pulumi", "locks", "organization", "nfv-testpod", "ci");
    mkdirSync(locks, { recursive: true });
    writeFileSync(path.join(locks, "l.json"), JSON.stringify({ pid, username: "ci", hostname: os.hostname(), timestamp: new Date().toISOString() }));
    finish();
    t.is(readdirSync(runRecordsDir(dir)).length, 1);
    // The next run knows it is dead: the lock, its attributes and the record go.
    writeFileSync(path.join(locks, "l.json.attrs"), "{}");
    const said: string[] = [];
    clearDeadLocks(`file://${dir}`, "nfv-testpod", "ci", (l) => said.push(l));
    t.deepEqual(readdirSync(locks), []);
    t.deepEqual(readdirSync(runRecordsDir(dir)), []);
    t.regex(said.join("\n"), new RegExp(`^Removed the lock on stack ci left by pulumi up \\(pid ${pid}, taken .*\\): pid ${pid} no longer runs\\.$`));
});

test("no record for a backend the kit does not read (neither file:// nor s3://)", (t) => {
    const finish = recordRun(process.pid, ["up"], { PULUMI_BACKEND_URL: "gs://bucket" }, new Date());
    t.notThrows(finish);
    t.notThrows(() => clearDeadLocks("gs://bucket", "nfv-testpod", "ci", () => t.fail("nothing to say")));
});

test("the sweep removes this machine's records of runs that are over and hold no lock, and keeps the others", (t) => {
    const dir = backend(t);
    const here = hostIdentity();
    const runs = runRecordsDir(dir);
    mkdirSync(runs, { recursive: true });
    const base = {
        command: "up",
        hostname: here.hostname,
        machineId: here.machineId ?? null,
        bootId: here.bootId ?? null,
        pidNamespace: here.pidNamespace ?? null,
        startedAt: new Date().toISOString(),
    };
    const live = processSeen(process.pid) as { startTicks: string };
    const write = (token: string, fields: object) => writeFileSync(path.join(runs, `${token}.json`), JSON.stringify({ ...base, token, ...fields }));
    write("dead", { pid: deadPid(), pidStart: "1" });
    write("earlier-boot", { pid: process.pid, pidStart: live.startTicks, bootId: "00000000-0000-0000-0000-000000000000" });
    write("reused", { pid: process.pid, pidStart: "1" });
    write("live", { pid: process.pid, pidStart: live.startTicks });
    write("other-machine", { pid: deadPid(), pidStart: "1", machineId: "0123456789abcdef0123456789abcdef" });
    write("other-container", { pid: deadPid(), pidStart: "1", pidNamespace: "pid:[1]" });
    writeFileSync(path.join(runs, "broken.json"), "{");
    clearDeadLocks(`file://${dir}`, "nfv-testpod", "ci", () => {});
    t.deepEqual(readdirSync(runs).sort(), ["broken.json", "live.json", "other-container.json", "other-machine.json"]);
});

test("a lock file the kit cannot read stays, and the error says how to remove it", (t) => {
    const dir = backend(t);
    const locks = path.join(dir, ".pulumi", "locks", "organization", "nfv-testpod", "ci");
    mkdirSync(locks, { recursive: true });
    const file = path.join(locks, "l.json");
    writeFileSync(file, "not json");
    const err = t.throws(() => clearDeadLocks(`file://${dir}`, "nfv-testpod", "ci", () => {}), { instanceOf: StaleLockError });
    t.is(
        err?.message,
        `Stack ci is locked by ${file}, which the kit cannot read as a lock. Make sure nothing runs on stack ci, then remove it by hand:\n  rm -f ${file} ${file}.attrs`,
    );
    t.true(existsSync(file));
});
