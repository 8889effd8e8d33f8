/**
 * The bench's pure parts: the resource graph the floor program registers
 * again, read from a captured `pulumi preview --json` of the kit, and the
 * `up` breakdown built from timing-log spans.
 */
import test from "ava";
import { readFileSync } from "node:fs";
import { countByType, floorGraphOf } from "../../tools/bench/floorGraph";
import { stepTimings } from "../../tools/bench/upBench";

const preview = readFileSync("tests/fixtures/preview/bench-1-host.json", "utf8");

test("the floor's graph is the kit's: every resource but the stack and providers, by type, parents first", (t) => {
    const graph = floorGraphOf(preview);
    t.deepEqual(
        countByType(graph).map((c) => `${c.count} ${c.type} (${c.kind})`),
        [
            "8 nfvkit:guest:NfvGuest (component)",
            "8 nfvkit:libvirt:Domain (custom)",
            "4 nfvkit:libvirt:ShmRegion (custom)",
            "4 nfvkit:link:IvshmemLink (component)",
            "2 nfvkit:host:HugepageReservation (custom)",
            "1 nfvkit:host:GuestImage (custom)",
            "1 nfvkit:pod:TestPod (component)",
            "1 nfvkit:probes:ProbeSuite (custom)",
        ],
    );
    graph.nodes.forEach((node, i) => {
        t.true(node.parent < i, `${node.name}: parent registered first`);
        for (const d of node.dependsOn) t.true(d < i, `${node.name}: dependency registered first`);
    });
    const byName = (name: string) => graph.nodes.find((n) => n.name === name)!;
    const domain = byName("pod-h0-g0-domain");
    t.is(graph.nodes[domain.parent].name, "pod-h0-g0");
    t.is(graph.nodes[byName("pod-h0-g0").parent].name, "pod");
    // A domain's inputs are its XML and guest facts: a few KB, which the floor's string input matches.
    t.true(domain.inputBytes > 3000 && domain.inputBytes < 5000, String(domain.inputBytes));
    t.is(byName("pod-h0-g0").inputBytes, 0);
    // A guest waits for its host's image, reservations and links (the SDK records a dependency on the
    // IvshmemLink component as one on the resource inside it, its ShmRegion).
    t.deepEqual(
        byName("pod-h0-g0")
            .dependsOn.map((i) => graph.nodes[i].type)
            .sort(),
        ["nfvkit:host:GuestImage", "nfvkit:host:HugepageReservation", "nfvkit:host:HugepageReservation", "nfvkit:libvirt:ShmRegion"],
    );
});

test("with keepInputs the floor's resources carry the kit's own inputs, as the preview showed them", (t) => {
    const plain = floorGraphOf(preview);
    const kept = floorGraphOf(preview, { keepInputs: true });
    t.true(
        plain.nodes.every((n) => n.inputs === undefined),
        "by default one string of the same length, no inputs",
    );
    const domain = kept.nodes.find((n) => n.name === "pod-h0-g0-domain")!;
    const inputs = domain.inputs as { xml: string; facts: Record<string, string>; name: string };
    t.true(inputs.xml.startsWith("<domain"), "the domain XML itself");
    t.is(typeof inputs.facts.memory, "string", "the guest facts, one value each");
    t.is(JSON.stringify(inputs).length, domain.inputBytes, "the same bytes the string floor stands in for");
    t.is(kept.nodes.find((n) => n.name === "pod-h0-g0")!.inputs, undefined, "components carry none");
});

test("the up breakdown: each step's start after the CLI's, its wall time over all guests and its longest guest", (t) => {
    const t0 = 1_000_000;
    const steps = stepTimings(
        [
            { what: "program: guest image check", subject: "", start: t0 + 7_700, end: t0 + 7_710 },
            { what: "domain: boot (console ready line)", subject: "vnf", start: t0 + 22_000, end: t0 + 53_000 },
            { what: "domain: boot (console ready line)", subject: "peer", start: t0 + 22_100, end: t0 + 50_100 },
        ],
        t0,
    );
    t.deepEqual(steps, [
        { what: "program: guest image check", subjects: 1, startsAt: 7.7, wall: 0.01, longest: 0.01 },
        { what: "domain: boot (console ready line)", subjects: 2, startsAt: 22, wall: 31, longest: 31 },
    ]);
});
