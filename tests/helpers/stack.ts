/**
 * Runs the real Pulumi engine on one of the project's stacks for a test, and
 * destroys the stack (and, as a last resort, any domain left with the stack's
 * prefix) when the test ends, even when it fails. A pod shared by the serial
 * tests of one file (`openStack`) is destroyed the same way from the file's
 * `test.after.always` hook.
 */
import type { ExecutionContext } from "ava";
import { runPulumi, selectStack, type PulumiResult } from "../../tools/cli/engine";
import { removeDomainsWithPrefix } from "./host";

export interface OpenStack {
    name: string;
    /** `pulumi <args> --stack <name>`, with `extraEnv` added to its environment; never throws, returns the result. */
    run(args: string[], extraEnv?: Record<string, string>): Promise<PulumiResult>;
    outputs(): Promise<Record<string, unknown>>;
    /**
     * `pulumi destroy`, then removes any domain left with the prefix, then destroys again when the first failed:
     * what every teardown does. Returns the failures it met, in words (empty when all went well).
     */
    destroyAll(): Promise<string[]>;
}

export interface TestStack extends OpenStack {
    /** `pulumi up --yes`; fails the test with the engine's output when it fails. */
    up(extra?: string[]): Promise<PulumiResult>;
}

/**
 * Selects (or creates) the stack and returns its runner, with no test of its own: the caller destroys it with destroyAll().
 * @param opts.backend a state backend URL of the test's own (a `file://` folder), instead of the project's
 * @param opts.removeLeftovers destroy leaves no domain of the prefix behind it, by hand if need be
 *   @default true; false where another backend's stack of the same name owns those domains
 */
export function openStack(name: string, domainPrefix: string, opts: { backend?: string; removeLeftovers?: boolean } = {}): OpenStack {
    const env = opts.backend ? { PULUMI_BACKEND_URL: opts.backend } : {};
    selectStack(name, env);
    const run = (args: string[], extraEnv: Record<string, string> = {}) =>
        runPulumi([...args, "--stack", name], { echo: Boolean(process.env.NFVKIT_TEST_ECHO), env: { ...env, ...extraEnv } });
    return {
        name,
        run,
        async outputs() {
            const r = await run(["stack", "output", "--json", "--show-secrets"]);
            return JSON.parse(r.stdout);
        },
        async destroyAll() {
            const r = await run(["destroy", "--yes", "--skip-preview"]);
            if (opts.removeLeftovers !== false) await removeDomainsWithPrefix(domainPrefix);
            if (r.code === 0) return [];
            // A destroy that failed (a domain that would not stop in time) leaves the pages and ledger entries the
            // domains held: with the domains gone, a second destroy releases them, so the next test starts clean.
            const failures = [`pulumi destroy of ${name} failed:\n${r.stdout}\n${r.stderr}`];
            const again = await run(["destroy", "--yes", "--skip-preview"]);
            if (again.code !== 0) failures.push(`the second pulumi destroy of ${name} failed too:\n${again.stdout}\n${again.stderr}`);
            return failures;
        },
    };
}

/** openStack for one test: the stack is destroyed in the test's teardown. Options as openStack's. */
export function useStack(t: ExecutionContext, name: string, domainPrefix: string, opts: { backend?: string; removeLeftovers?: boolean } = {}): TestStack {
    const stack = openStack(name, domainPrefix, opts);
    t.teardown(async () => {
        for (const failure of await stack.destroyAll()) console.error(`teardown: ${failure}`);
    });
    return {
        ...stack,
        async up(extra = []) {
            const r = await stack.run(["up", "--yes", "--skip-preview", ...extra]);
            if (r.code !== 0) t.fail(`pulumi up --stack ${name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
            return r;
        },
    };
}
