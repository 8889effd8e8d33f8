/**
 * The probes run twice against one real guest through `npm run probe`'s
 * code (tools/cli/probeRun.ts, by tests/helpers/probeCli.ts), the second time
 * with `--compare -1`. What a user checks: history.jsonl gains one line per
 * run with this run's figures, index.html's trend of each check draws both
 * runs against its target, and the second run prints each figure's change
 * against the first: the figures both lines hold and their relative change.
 * Nothing here depends on the figures' size, so it holds on KVM as on TCG.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { useKatGuest } from "../helpers/katGuest";
import { realTest } from "../helpers/realParts";

const PREFIX = "nfvkit-kat-history";
const real = realTest(existsSync("/run/libvirt/libvirt-sock") || existsSync("/var/run/libvirt/libvirt-sock"), "the libvirt daemon");

function probeCli(args: string[]): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
        const child = spawn(path.resolve("node_modules/.bin/tsx"), ["tests/helpers/probeCli.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        child.stdout.on("data", (d: Buffer) => (out += d));
        child.stderr.on("data", (d: Buffer) => (out += d));
        child.on("close", (code) => resolve({ code, out }));
    });
}

interface Line {
    time: string;
    hosts: { host: string; kernel: string | null; accel: string | null }[];
    checks: { id: string; figure: number | null; unit: string; target: { op: string; value: number } }[];
}

real("two probe runs: history.jsonl grows, the trends draw both runs, and --compare prints the change", async (t) => {
    const g = await useKatGuest(t, PREFIX);
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-kat-history-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const history = path.join(dir, "history.jsonl");
    const lines = (): Line[] =>
        readFileSync(history, "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));

    // A reference to a run that is not there fails before anything is probed.
    const early = await probeCli([g.probeGuest.domain, dir, "cyclictest", "5", "--compare", "-1"]);
    t.is(early.code, 1);
    t.regex(early.out, new RegExp(`--compare -1: no such run \\(${dir}/history\\.jsonl holds no run yet\\)`));
    t.false(existsSync(history), "nothing ran, nothing was written");

    const first = await probeCli([g.probeGuest.domain, dir, "cyclictest", "5"]);
    t.log(first.out);
    t.is(first.code, 0, "gate: report");
    t.is(lines().length, 1);
    const second = await probeCli([g.probeGuest.domain, dir, "cyclictest", "5", "--compare", "-1"]);
    t.log(second.out);
    t.is(second.code, 0);
    const [a, b] = lines();
    t.is(lines().length, 2, "one line per run");
    t.true(b.time > a.time);
    // The host's facts as the run read them: this machine's kernel, and the accelerator the guest runs under.
    t.deepEqual(
        b.hosts.map((h) => [h.host, h.kernel, h.accel]),
        [["local", readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(), b.hosts[0].accel]],
    );
    t.true(["kvm", "tcg"].includes(b.hosts[0].accel ?? ""), `accelerator ${b.hosts[0].accel}`);
    const id = "kat/cyclictest/timer.maxUs/max/timer latency";
    const before = a.checks.find((c) => c.id === id)!.figure!;
    const after = b.checks.find((c) => c.id === id)!.figure!;
    t.true(before > 0 && after > 0, `timer max ${before} µs, then ${after} µs`);

    // The page: the trend of the timer max draws both runs, the newest last, against its target.
    const html = readFileSync(path.join(dir, "index.html"), "utf8");
    const trend = html
        .split('<svg class="trend"')
        .find((s) => s.includes("<title>trend of timer latency (max) on kat, cyclictest</title>"))!
        .split("</svg>")[0];
    t.deepEqual(
        [...trend.matchAll(/<circle class="run"[^>]*><title>run #(\d) \([^)]+\): ([\d.]+) µs/g)].map((m) => [Number(m[1]), Number(m[2])]),
        [
            [1, before],
            [2, after],
        ],
    );
    t.regex(trend, /target ≤ 15 µs/);

    // --compare -1 against the run before: the same two figures and their relative change.
    t.regex(second.out, /Changes from run #1 \([^)]+\) to this run #2 \([^)]+\): \d+ worse, \d+ better, \d+ other/);
    const row = second.out.split("\n").find((l) => l.includes("timer latency (max) on kat, cyclictest"))!;
    t.truthy(row, second.out);
    const relative = ((after - before) / before) * 100;
    const kind = after > before ? "worse" : after < before ? "better" : "same";
    t.regex(row, new RegExp(`^  ${kind} +timer latency \\(max\\) on kat, cyclictest +${before} µs +→ +${after} µs +`));
    if (kind !== "same") t.true(row.includes(`${relative >= 0 ? "+" : ""}${relative.toFixed(1)} %`), row);
});
