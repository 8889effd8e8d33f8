/**
 * `npm test` runs the unit tests, the real-parts tests and, beside them, the
 * tests that share nothing with those, in three ava runs (tools/ci/suite.sh).
 * A test file that no run names would never run in CI, silently, and one that
 * two runs name would run twice, once beside the tests it must not meet: this
 * checks that every test file under tests/ is in exactly one of them, that the
 * run beside the others marks its processes with its lane, and that npm test
 * is that script.
 */
import test from "ava";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { BESIDE_LANE_DOMAIN_PREFIX } from "../helpers/lane";

const root = path.resolve(__dirname, "../..");

/** The test files under a folder or file of the repo, as repo paths. */
function testFiles(entry: string): string[] {
    const full = path.join(root, entry);
    if (!existsSync(full)) return [];
    if (!statSync(full).isDirectory()) return entry.endsWith(".test.ts") ? [entry] : [];
    return (readdirSync(full, { recursive: true }) as string[]).filter((f) => f.endsWith(".test.ts")).map((f) => path.join(entry, f));
}

const script = readFileSync(path.join(root, "tools", "ci", "suite.sh"), "utf8");

/** The entries of one of suite.sh's lists (REAL_PARTS, BESIDE). */
const list = (name: string) => new RegExp(`^${name}=\\(([^)]*)\\)$`, "m").exec(script)?.[1].trim().split(/\s+/) ?? [];

test("every test file runs in npm test, in exactly one run: unit, the real parts, or the run beside them in its own lane", (t) => {
    t.true(/^ava tests\/unit --concurrency 2$/m.test(script), "the unit tests run");
    t.true(/^ava "\$\{REAL_PARTS\[@\]\}"$/m.test(script), "the real-parts files run");
    t.true(/^ {4}NFVKIT_TEST_LANE=beside ava "\$\{BESIDE\[@\]\}" 2>&1$/m.test(script), "the files beside them run, in their lane");
    t.true(/^ {2}\) \| sed -u 's\/\^\/\[beside\] \/'\n\) &\nbeside=\$!$/m.test(script), "their lines are marked with the lane, and they run in the background");
    t.true(/^wait "\$beside"$/m.test(script), "and are waited for");
    const runs = [["tests/unit"], list("REAL_PARTS"), list("BESIDE")].map((entries) => entries.flatMap(testFiles));
    for (const entry of [...list("REAL_PARTS"), ...list("BESIDE")]) t.not(testFiles(entry).length, 0, `${entry} names test files`);
    const named = runs.flat();
    t.deepEqual(
        named.filter((f, i) => named.indexOf(f) !== i),
        [],
        "no file is in two runs",
    );
    t.deepEqual([...named].sort(), testFiles("tests").sort(), "every test file is in a run");
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    t.true(pkg.scripts.test.endsWith("&& bash tools/ci/suite.sh"), pkg.scripts.test);
});

test("a guest the run beside may define on this machine's libvirt is named as the other run's checks expect (tests/helpers/lane.ts)", (t) => {
    const beside = list("BESIDE").flatMap(testFiles);
    // Guests are defined on this machine's libvirt through the known-answer helpers or the Domain provider's operations.
    const definesGuests = (f: string) => /from "\.\.\/helpers\/kat(Guest|Link)"|domainOperations/.test(readFileSync(path.join(root, f), "utf8"));
    t.deepEqual(
        beside.filter((f) => definesGuests(f) && !f.startsWith("tests/kat/")),
        [],
        "no file beside but the known answers defines guests here",
    );
    const kat = testFiles("tests/kat");
    t.true(kat.filter(definesGuests).length >= 4, `the known-answer files define guests: ${kat.join(", ")}`);
    for (const file of kat) {
        const prefix = /^const PREFIX = "([^"]+)";$/m.exec(readFileSync(path.join(root, file), "utf8"))?.[1];
        t.true(prefix?.startsWith(BESIDE_LANE_DOMAIN_PREFIX) === true, `${file}: its domains, ${prefix}-*, start with ${BESIDE_LANE_DOMAIN_PREFIX}`);
    }
});
