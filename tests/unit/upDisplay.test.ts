/**
 * What `npm run up` prints from the engine's event stream, on real captured
 * `pulumi up --json` runs (tests/fixtures/engine): one line per resource the
 * kit works on, when done, with its time; the program's and the providers'
 * messages, progress included; errors in full; the totals. No components,
 * providers, debug messages, stack outputs or inputs.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { UpDisplay } from "../../tools/cli/upDisplay";

/** The fixture's events, its `#` header left out. */
function events(file: string): string[] {
    return readFileSync(`tests/fixtures/engine/${file}`, "utf8")
        .split("\n")
        .filter((l) => !l.startsWith("#"));
}

/** Replays a capture on the events' own clock (their timestamps, in seconds). */
function replay(file: string): { lines: string[]; display: UpDisplay; doingAt: Map<string, string> } {
    let now = 0;
    const display = new UpDisplay(() => now);
    const lines: string[] = [];
    const doingAt = new Map<string, string>();
    for (const line of events(file)) {
        const ts = /"timestamp":(\d+)/.exec(line);
        if (ts) now = Number(ts[1]) * 1000;
        lines.push(...display.line(line));
        const pre = /"resourcePreEvent":\{"metadata":\{"op":"create","urn":"[^"]*::([^":]+)"/.exec(line);
        if (pre) doingAt.set(pre[1], display.doing());
    }
    return { lines, display, doingAt };
}

test("a successful up: each resource once when done, with its time; messages as they came; the totals", (t) => {
    const { lines } = replay("up-json-ci-3.260.jsonl");
    t.log(lines.join("\n"));
    const done = lines.filter((l) => /^ {2}[+~-] /.test(l));
    t.deepEqual(done.map((l) => l.replace(/ \([\d.]+ s\)$/, "")).sort(), [
        "  + Domain pod-peer-domain created",
        "  + Domain pod-vnf-domain created",
        "  + GuestImage pod-image-local created",
        "  + HugepageReservation pod-hugepages-local-node0-2048k created",
        "  + ShmRegion pod-link-ring0-shm created",
    ]);
    for (const l of done) t.regex(l, / \([\d.]+ s\)$/, "with the time its step took");
    t.regex(
        done.find((l) => l.includes("pod-vnf-domain"))!,
        /\((\d{2,}|[5-9])\.\d s\)$/,
        "a TCG boot takes seconds",
    );
    // The program's notes and the Domains' progress, the latter named by their resource.
    t.true(
        lines.includes(
            "  host local: memory locking and memtune hard_limit off: this host has no CAP_SYS_RESOURCE (a container or sandbox), so libvirt cannot raise RLIMIT_MEMLOCK for QEMU",
        ),
    );
    t.true(lines.some((l) => /^ {2}pod-vnf-domain: still booting \(waiting for the ready line on its console \S+; timeout 180 s\), \d+ s so far$/.test(l)));
    // What is left out: the engine's debug messages, its warning about the kit's own language host, components, outputs.
    t.false(lines.some((l) => /debug|pulumi-language-nodejs|NfvGuest|IvshmemLink|TestPod|hostReadiness/.test(l)));
    t.is(lines[lines.length - 1], "Resources: 10 created; pulumi up took 20 s");
    t.true(lines.length <= 15, `${lines.length} lines`);
});

test("while steps run, the display says which: the line the engine's silences get", (t) => {
    const { display, doingAt } = replay("up-json-ci-3.260.jsonl");
    t.is(doingAt.get("nfv-testpod-ci"), "running the program", "the stack is not a step of its own");
    t.regex(doingAt.get("pod-vnf-domain")!, /^at (create \S+, )*create pod-vnf-domain$/);
    t.is(display.doing(), "running the program", "nothing left under way at the end");
});

test("an up the program's validation stops: the problem in full, and the totals say it failed", (t) => {
    const { lines } = replay("up-json-ci-bad-config-3.260.jsonl");
    t.log(lines.join("\n"));
    t.true(lines.includes("  error: the stack config has 1 problem; nothing was created:"));
    t.true(
        lines.includes(
            '  nfv-testpod:pod.guests[0].memory: has an unknown unit "Q" (got "256Q"). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"',
        ),
    );
    t.is(lines[lines.length - 1], "Resources: 1 created; pulumi up failed after 16 s");
});

test("what is not an event is shown as it is", (t) => {
    t.deepEqual(new UpDisplay().line("Permalink: file:///x"), ["Permalink: file:///x"]);
    t.deepEqual(new UpDisplay().line(""), []);
});

test("a resource that fails: the provider's error in full, named by its resource, and a ✗ line with its time", (t) => {
    const { lines } = replay("up-json-ci-boot-timeout-3.260.jsonl");
    t.log(lines.join("\n"));
    for (const guest of ["vnf", "peer"]) {
        t.true(
            lines.some((l) =>
                new RegExp(
                    `^ {2}error: pod-${guest}-domain: nfv-testpod-ci-${guest}: no "NFVKIT-READY name=${guest}" line in \\S+ within 3 s; the console's last lines:`,
                ).test(l),
            ),
        );
        t.true(lines.some((l) => new RegExp(`^ {2}✗ Domain pod-${guest}-domain: create failed \\([\\d.]+ s\\)$`).test(l)));
    }
    t.false(
        lines.some((l) => /\+ Domain/.test(l)),
        "no Domain is said to be created",
    );
    t.regex(lines[lines.length - 1], /^Resources: \d+ created; pulumi up failed after \d+ s$/);
});
