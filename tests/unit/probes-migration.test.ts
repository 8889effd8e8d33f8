/**
 * The live-migration probe's pure parts: settings and their problems, the
 * parsers against real captured output, the destination XML, the verdict's
 * messages and the network-downtime cross-check.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { checkMigrationSettings } from "../../components/probes/kinds/migration/config";
import type { ProbePodView } from "../../components/probes/kinds/podView";
import {
    dirtyRateAllowancePercent,
    dirtyRateCalcArgv,
    dirtyRatePeriodSec,
    jobBytes,
    migrateArgv,
    networkDowntime,
    parseDirtyRate,
    parseJobInfo,
    parseReceiver,
    parseVcpupin,
    streamResolutionMs,
} from "../../components/probes/kinds/migration/commands";
import { migrationMoves } from "../../components/probes/kinds/migration/moves";
import { resolvePod } from "../../components/plan/resolvePod";
import { migrationCause } from "../../components/probes/kinds/migration/commands";
import { destinationXml, missingCputune } from "../../components/probes/kinds/migration/moves";
import { judgeMigration, migrationNotes } from "../../components/probes/kinds/migration/verdict";
import { DEFAULT_TARGETS, resolveTargets } from "../../components/probes/targets";
import type { MigrationLeg, MigrationResult } from "../../components/probes/kinds/migration/types";
import { validateStack } from "../../components/validate";

const fixture = (name: string) => readFileSync(path.join(__dirname, "..", "fixtures", "probes", name), "utf8");

test("settings: defaults filled, units in the names", (t) => {
    const { settings, problems } = checkMigrationSettings([{ guest: "vnf", to: "lab-2" }], "nfv-testpod:probes.migration");
    t.deepEqual(problems, []);
    t.like(settings[0], {
        guest: "vnf",
        from: "",
        to: "lab-2",
        roundTrips: 1,
        workload: "idle",
        downtimeLimitMs: null,
        multifdChannels: 0,
        packetRateHz: 10000,
    });
});

test("settings: every problem at once, with path, value, reason and fix", (t) => {
    const { problems } = checkMigrationSettings(
        [{ guest: "vnf", from: "lab-1", to: "lab-1", workload: "cpu", downtimeLimit: 50, packetRateHz: 100, postcopy: true, multifdChannels: 2 }],
        "nfv-testpod:probes.migration",
    );
    t.deepEqual(
        problems.map((p) => [p.path, p.value, p.reason, p.fix]),
        [
            ["nfv-testpod:probes.migration[0].downtimeLimit", 50, "is not a migration setting", 'did you mean "downtimeLimitMs"?'],
            ["nfv-testpod:probes.migration[0].workload", "cpu", "is not a migration workload", 'write "idle", "io", "memory"'],
            ["nfv-testpod:probes.migration[0].packetRateHz", 100, "must be a whole number from 1000 to 100000", "write e.g. 10000"],
            [
                "nfv-testpod:probes.migration[0].postcopy",
                true,
                "cannot be combined with multifdChannels: QEMU refuses post-copy over multifd",
                "choose one: postcopy: false, or multifdChannels: 0",
            ],
            ["nfv-testpod:probes.migration[0].to", "lab-1", "is the host it starts on: a migration needs another host", "name another host of the pod"],
        ],
    );
});

test("settings against the pod: unknown guest, wrong source, unknown destination, no user-mode NIC", (t) => {
    const pod: ProbePodView = {
        hosts: [
            { name: "lab-1", remote: true, ssh: true },
            { name: "lab-2", remote: true, ssh: true },
        ],
        guests: [{ name: "vnf", host: "lab-1", userNic: false, vfs: [] }],
        links: [],
        plan: null,
    };
    const { problems } = checkMigrationSettings(
        [
            { guest: "vnf", from: "lab-2", to: "lab-3" },
            { guest: "vfn", to: "lab-2" },
        ],
        "p",
        pod,
    );
    t.deepEqual(
        problems.map((p) => `${p.path}: ${p.reason}. Fix: ${p.fix}`),
        [
            'p[0].to: is not a host of the pod. Fix: did you mean "lab-2"?',
            "p[0].from: is not where vnf runs (lab-1). Fix: write from: lab-1, or leave it out",
            "p[0].guest: has no user-mode NIC for the packet stream that measures network downtime. Fix: set knobs: { userNic: true } on guest vnf",
            "p[1].guest: is not a guest of the pod. Fix: use one of vnf",
        ],
    );
});

test("the lab stack file validates its migration setting with the rest (line numbers included)", (t) => {
    const config = {
        "nfv-testpod:pod": {
            hosts: [
                {
                    name: "a",
                    uri: "qemu+ssh://root@a/system",
                    hugepages: [{ node: 0, size: "2M", count: 128 }],
                    housekeepingCpus: "0",
                    isolatedCpus: "1",
                    topology: { numaNodes: [{ id: 0, cpus: "0-1" }] },
                },
                {
                    name: "b",
                    uri: "qemu+ssh://root@b/system",
                    hugepages: [{ node: 0, size: "2M", count: 128 }],
                    housekeepingCpus: "0",
                    isolatedCpus: "1",
                    topology: { numaNodes: [{ id: 0, cpus: "0-1" }] },
                },
            ],
            guests: [{ name: "vnf", host: "a", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" }],
        },
        "nfv-testpod:probes": { migration: [{ guest: "vnf", to: "b" }] },
    };
    const r = validateStack({ config, secretKeys: [], namePrefix: "p", kind: "spec" });
    t.true(
        r.problems.some((p) => p.path === "nfv-testpod:probes.migration[0].guest" && /user-mode NIC/.test(p.reason)),
        JSON.stringify(r.problems),
    );
});

test("domjobinfo --completed (libvirt 11.3, real capture): every figure the probe reports", (t) => {
    const job = parseJobInfo(fixture("domjobinfo-libvirt-11.3-completed-outgoing.txt"));
    t.is(job["Time elapsed"].value, 2811);
    t.is(job["Setup time"].value, 11);
    t.is(job["Iteration"].value, 3);
    t.is(jobBytes(job["Data processed"]), Math.round(127.245 * 1024 ** 2));
    t.is(job["Dirty rate"].value, 0);
    t.is(job["Total downtime"].value, 83);
    t.is(job["Downtime w/o network"].value, 76);
});

test("domstats --dirtyrate (libvirt 11.3, real captures): measuring has no rate yet; measured gives whole MiB/s", (t) => {
    t.deepEqual(parseDirtyRate(fixture("domstats-dirtyrate-libvirt-11.3-measuring.txt")), {
        status: 1,
        startSec: 1796128507,
        periodSec: 2,
        mode: "page-sampling",
        mibps: null,
    });
    t.is(parseDirtyRate(fixture("domstats-dirtyrate-libvirt-11.3-idle.txt")).mibps, 0);
    const dirtying = parseDirtyRate(fixture("domstats-dirtyrate-libvirt-11.3-dirtying.txt"));
    t.is(dirtying.status, 2);
    t.is(dirtying.periodSec, 4);
    t.is(dirtying.mibps, 57);
    // A domain that was never measured says nothing of it.
    t.deepEqual(parseDirtyRate("Domain: 'vnf'\n\n"), { status: null, startSec: null, periodSec: null, mode: null, mibps: null });
});

test("the hypervisor's dirty rate: page sampling, over at most one pass of the working set, 1-10 s", (t) => {
    t.deepEqual(dirtyRateCalcArgv("vnf", 4), ["domdirtyrate-calc", "vnf", "--seconds", "4", "--mode", "page-sampling"]);
    // The defaults (64 MiB at 64 MiB/s): one pass per second.
    t.is(dirtyRatePeriodSec({ dirtyMiB: 64, dirtyMiBps: 64 }), 1);
    t.is(dirtyRatePeriodSec({ dirtyMiB: 1536, dirtyMiBps: 128 }), 10);
    t.is(dirtyRatePeriodSec({ dirtyMiB: 512, dirtyMiBps: 128 }), 4);
    // Faster than the working set in a second: virsh takes no less than 1 s.
    t.is(dirtyRatePeriodSec({ dirtyMiB: 16, dirtyMiBps: 256 }), 1);
});

test("the hypervisor's dirty rate is good to 3 standard deviations of QEMU's sample, plus its whole-MiB rounding", (t) => {
    // The KAT's guest: 2 GiB, 1024 pages sampled, half of them changed in 8 s at 128 MiB/s: sd 3.1 %, 3 sd 9.4 %, + 0.8 %.
    t.is(dirtyRateAllowancePercent(2048, 128, 8), 11);
    // The lab's vnf, 256 MiB (128 pages sampled), 16 MiB/s over 4 s: a quarter changed, sd 15.3 %, + 6.3 % rounding.
    t.is(dirtyRateAllowancePercent(256, 16, 4), 53);
    // All of RAM changed: no sampling error left, only the rounding.
    t.is(dirtyRateAllowancePercent(256, 256, 2), 1);
    t.is(dirtyRateAllowancePercent(256, 0, 4), null);
});

test("vcpupin and the receiver's lines", (t) => {
    t.deepEqual(parseVcpupin(" 0      0\n 1      1\n"), { "0": "0", "1": "1" });
    t.deepEqual(parseVcpupin(" VCPU   CPU Affinity\n----------------------\n 0      0-1\n"), { "0": "0-1" });
    const out = [
        '{"mode":"recv","ready":true,"port":47800}',
        '{"gap":{"startNs":1000000000,"endNs":1003000000,"us":3000.0,"seqBefore":9,"seqAfter":10}}',
        '{"gap":{"startNs":2000000000,"endNs":2150000000,"us":150000.0,"seqBefore":19,"seqAfter":20}}',
        '{"mode":"recv","packets":100,"lost":0,"reordered":0,"bytes":2400,"firstNs":1,"lastNs":2,"maxGapUs":150000.0,"medianIntervalUs":100}',
    ].join("\n");
    const r = parseReceiver(out);
    t.is(r.packets, 100);
    t.is(streamResolutionMs({ ...r, firstNs: 0, lastNs: 99_000_000 }), 1, "100 packets over 99 ms: one every 1 ms");
    // Migration from 1.9 s to 2.2 s: the 150 ms gap is inside, the 3 ms one is near it.
    const nd = networkDowntime(r, 1900, 2200);
    t.is(nd.downtimeMs, 150);
    t.deepEqual(
        nd.gaps.map((g) => [g.startMs, g.gapMs]),
        [
            [-900, 3],
            [100, 150],
        ],
    );
    t.throws(() => parseReceiver('{"mode":"recv","ready":true}'), { message: /printed no summary/ });
});

test("virsh migrate argv carries each parameter; the destination XML carries the plan's cputune for that host", (t) => {
    const { settings } = checkMigrationSettings([{ guest: "vnf", to: "b", bandwidthMiBps: 500, multifdChannels: 2, autoConverge: true }], "p");
    t.deepEqual(migrateArgv(settings[0], "dom", "qemu+ssh://b/system", "/tmp/x.xml"), [
        "migrate",
        "--live",
        "--persistent",
        "--xml",
        "/tmp/x.xml",
        "--persistent-xml",
        "/tmp/x.xml",
        "--bandwidth",
        "500",
        "--parallel",
        "--parallel-connections",
        "2",
        "--auto-converge",
        "dom",
        "qemu+ssh://b/system",
    ]);
    const xml = "<domain>\n  <vcpu placement='static'>2</vcpu>\n  <cputune>\n    <vcpupin vcpu='0' cpuset='5'/>\n  </cputune>\n</domain>\n";
    t.is(
        destinationXml(xml, ["<cputune>", "  <vcpupin vcpu='0' cpuset='1'/>", "</cputune>"]),
        "<domain>\n  <vcpu placement='static'>2</vcpu>\n  <cputune>\n    <vcpupin vcpu='0' cpuset='1'/>\n  </cputune>\n</domain>\n",
    );
});

test("placement is planned for the destination host, from the plan and that host's CPUs", (t) => {
    const host = (name: string, isolated: string) => ({
        name,
        uri: `qemu+ssh://root@${name}/system`,
        hugepages: [{ node: 0, size: "2M", count: 256 }],
        housekeepingCpus: "0",
        isolatedCpus: isolated,
        topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
    });
    const spec = {
        hosts: [host("a", "1"), host("b", "3")],
        guests: [{ name: "vnf", host: "a", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" }],
    };
    const { settings } = checkMigrationSettings([{ guest: "vnf", to: "b" }], "p");
    const [view] = migrationMoves(resolvePod(spec, { namePrefix: "p" }), settings);
    t.is(view.domain, "p-vnf");
    t.is(view.memoryMiB, 256);
    t.is(view.hosts.a.pins["1"], "1");
    t.is(view.hosts.b.pins["1"], "3", "on b the RT vCPU goes to b's isolated CPU");
    t.true(view.hosts.b.cputune.some((l) => /vcpusched vcpus='1' scheduler='fifo'/.test(l)));
});

test("the plan's emulator pin and FIFO priorities are looked for in the destination's live XML", (t) => {
    const planned = [
        "<cputune>",
        "  <vcpupin vcpu='1' cpuset='1'/>",
        "  <emulatorpin cpuset='0'/>",
        "  <vcpusched vcpus='1' scheduler='fifo' priority='1'/>",
        "</cputune>",
    ];
    const live = "<domain>\n  <cputune>\n    <vcpupin vcpu='1' cpuset='1'/>\n    <emulatorpin cpuset='0'/>\n  </cputune>\n</domain>";
    t.deepEqual(missingCputune(planned, live), ["<vcpusched vcpus='1' scheduler='fifo' priority='1'/>"]);
    t.deepEqual(missingCputune(planned, live.replace("</cputune>", "<vcpusched vcpus='1' scheduler='fifo' priority='1'/></cputune>")), []);
    const checks = judgeMigration([result([leg({ cputuneMissing: ["<vcpusched vcpus='1' scheduler='fifo' priority='1'/>"] })])], DEFAULT_TARGETS);
    t.is(
        checks.find((c) => c.metric === "migration.pins")!.message,
        "vCPU pins after migration of vnf (lab-1 → lab-2): the destination lacks <vcpusched vcpus='1' scheduler='fifo' priority='1'/>",
    );
});

test("failure causes name the host", (t) => {
    t.is(
        migrationCause(
            "error: internal error: qemu unexpectedly closed the monitor: unable to map backing store for guest RAM: Cannot allocate memory",
            "lab-2",
            "256 MiB",
        ),
        "host lab-2 has no free hugepages for the guest's 256 MiB (QEMU on lab-2 could not map its memory)",
    );
    t.is(
        migrationCause("error: Failed to connect socket to '/var/run/libvirt/libvirt-sock': No such file or directory", "lab-2", "256 MiB"),
        "host lab-2's libvirtd does not answer (stopped or unreachable)",
    );
});

function leg(over: Partial<MigrationLeg>): MigrationLeg {
    return {
        from: "lab-1",
        to: "lab-2",
        error: null,
        runsOn: "lab-2",
        wallMs: 4000,
        totalMs: 2811,
        setupMs: 11,
        iterations: 3,
        bytes: 1,
        dirtyPagesPerSec: 0,
        dirtyMiBps: 0,
        downtimeMs: 83,
        downtimeQemuMs: 76,
        jobInfo: "",
        networkDowntimeMs: 120,
        resolutionMs: 0.1,
        packets: 1000,
        lost: 0,
        gaps: [],
        pins: [{ vcpu: 1, expected: "1", actual: "1" }],
        cputuneMissing: [],
        workloadNote: null,
        hypervisorDirtyMiBps: null,
        ...over,
    };
}

const result = (legs: MigrationLeg[], workload: MigrationResult["workload"] = "idle"): MigrationResult => ({
    guest: "vnf",
    from: "lab-1",
    to: "lab-2",
    workload,
    parameters: "",
    packetRateHz: 10000,
    legs,
    commands: [],
    notes: [],
});

test("verdict at the seed targets: messages name the guest, the move, the figure and the target", (t) => {
    const checks = judgeMigration([result([leg({ pins: [{ vcpu: 1, expected: "1", actual: "0" }] })])], DEFAULT_TARGETS);
    t.deepEqual(
        checks.filter((c) => !c.pass).map((c) => c.message),
        [
            "migration total time of vnf (lab-1 → lab-2): 2811 ms ≥ target < 2000 ms",
            "migration downtime of vnf (lab-1 → lab-2): 83 ms > target 10 ms",
            "network downtime of vnf (lab-1 → lab-2): 120 ms > target 25 ms",
            "vCPU pins after migration of vnf (lab-1 → lab-2): vCPU 1 on 0, plan says 1",
        ],
    );
    // Memory-bound: held to < 500 ms, which 83 ms meets.
    t.true(judgeMigration([result([leg({})], "memory")], DEFAULT_TARGETS).find((c) => c.metric === "migration.downtimeMs")!.pass);
    const loose = resolveTargets({ migration: { totalMs: 60000, downtimeIoMs: 5000, networkDowntimeMs: 5000 } }, "t");
    t.true(judgeMigration([result([leg({})])], loose).every((c) => c.pass));
    const failed = judgeMigration([result([leg({ error: "migrating vnf from lab-1 to lab-2 failed: host lab-2's libvirtd does not answer" })])], loose);
    t.deepEqual(
        failed.map((c) => c.message),
        ["migration total time of vnf (lab-1 → lab-2): no figure (migrating vnf from lab-1 to lab-2 failed: host lab-2's libvirtd does not answer)"],
    );
});

test("cross-check: network downtime within the stated tolerance of libvirt's, a note beyond it", (t) => {
    t.deepEqual(migrationNotes([result([leg({ downtimeMs: 83, networkDowntimeMs: 200 })])]), []);
    t.regex(migrationNotes([result([leg({ downtimeMs: 83, networkDowntimeMs: 20 })])])[0], /differ by -63 ms, outside the tolerance/);
    t.regex(migrationNotes([result([leg({ downtimeMs: 83, networkDowntimeMs: 1200 })])])[0], /differ by 1117 ms/);
});
