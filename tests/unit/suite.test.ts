/**
 * `npm test` runs the unit tests and the real-parts tests in two ava runs
 * (tools/ci/suite.sh). A folder of tests that neither run names would never
 * run in CI, silently: this checks that every folder under tests/ that holds a
 * test file is in one of them, and that npm test is that script.
 */
import test from "ava";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "../..");

/** The top folders under tests/ that hold at least one *.test.ts, at any depth. */
function foldersWithTests(): string[] {
    const files = readdirSync(path.join(root, "tests"), { recursive: true }) as string[];
    return [...new Set(files.filter((f) => f.endsWith(".test.ts")).map((f) => `tests/${f.split(path.sep)[0]}`))].sort();
}

test("every folder of tests runs in npm test: unit in the first ava run, each other one in the second", (t) => {
    const script = readFileSync(path.join(root, "tools", "ci", "suite.sh"), "utf8");
    const realParts = /^REAL_PARTS=\(([^)]*)\)$/m.exec(script)?.[1].trim().split(/\s+/) ?? [];
    t.true(/^ava tests\/unit --concurrency 2$/m.test(script), "the unit tests run");
    t.true(/^ava "\$\{REAL_PARTS\[@\]\}"$/m.test(script), "the real-parts folders run");
    t.deepEqual(["tests/unit", ...realParts].sort(), foldersWithTests());
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string> };
    t.true(pkg.scripts.test.endsWith("&& bash tools/ci/suite.sh"), pkg.scripts.test);
});
