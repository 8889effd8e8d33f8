/**
 * Runs the real Pulumi engine on one of the project's stacks for a test, and
 * registers a teardown that destroys the stack (and, as a last resort, any
 * domain left with the stack's prefix) even when the test fails.
 */
import type { ExecutionContext } from "ava";
import { runPulumi, selectStack, type PulumiResult } from "../../tools/cli/engine";
import { removeDomainsWithPrefix } from "./host";

export interface TestStack {
    name: string;
    /** `pulumi <args> --stack <name>`; never throws, returns the result. */
    run(args: string[]): Promise<PulumiResult>;
    /** `pulumi up --yes`; fails the test with the engine's output when it fails. */
    up(extra?: string[]): Promise<PulumiResult>;
    outputs(): Promise<Record<string, unknown>>;
}

/**
 * @param opts.backend a state backend URL of the test's own (a `file://` folder), instead of the project's
 * @param opts.removeLeftovers destroy leaves no domain of the prefix behind it, by hand if need be
 *   @default true; false where another backend's stack of the same name owns those domains
 */
export function useStack(t: ExecutionContext, name: string, domainPrefix: string, opts: { backend?: string; removeLeftovers?: boolean } = {}): TestStack {
    const env = opts.backend ? { PULUMI_BACKEND_URL: opts.backend } : {};
    selectStack(name, env);
    const run = (args: string[]) => runPulumi([...args, "--stack", name], { echo: Boolean(process.env.NFVKIT_TEST_ECHO), env });
    t.teardown(async () => {
        const r = await run(["destroy", "--yes", "--skip-preview"]);
        if (opts.removeLeftovers !== false) await removeDomainsWithPrefix(domainPrefix);
        if (r.code === 0) return;
        // A destroy that failed (a domain that would not stop in time) leaves the pages and ledger entries the
        // domains held: with the domains gone, a second destroy releases them, so the next test starts clean.
        console.error(`teardown: pulumi destroy of ${name} failed:\n${r.stdout}\n${r.stderr}`);
        const again = await run(["destroy", "--yes", "--skip-preview"]);
        if (again.code !== 0) console.error(`teardown: the second pulumi destroy of ${name} failed too:\n${again.stdout}\n${again.stderr}`);
    });
    return {
        name,
        run,
        async up(extra = []) {
            const r = await run(["up", "--yes", "--skip-preview", ...extra]);
            if (r.code !== 0) t.fail(`pulumi up --stack ${name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
            return r;
        },
        async outputs() {
            const r = await run(["stack", "output", "--json", "--show-secrets"]);
            return JSON.parse(r.stdout);
        },
    };
}
