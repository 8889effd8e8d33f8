/**
 * Tests that need a real part of the machine (libvirt, rt-tests, root) run it
 * for real. Where the part is missing on a developer's machine the test is
 * skipped, and says so loudly; under CI (CI=true) a missing part fails.
 */
import test, { type ExecutionContext } from "ava";

/** `test.serial` when `available`, else a loud skip (or a failure under CI). */
export function realTest(available: boolean, what: string): typeof test.serial {
    if (available) return test.serial;
    if (process.env.CI) {
        return ((title: string) =>
            test.serial(title, (t: ExecutionContext) => {
                t.fail(`${what} is missing: CI must run this real test, not skip it`);
            })) as unknown as typeof test.serial;
    }
    console.warn(`\n*** SKIPPING REAL TEST(S): ${what} is missing on this machine. CI runs them. ***\n`);
    return test.skip as unknown as typeof test.serial;
}
