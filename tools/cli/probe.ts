/**
 * `npm run probe -- --stack <name>`: runs the stack's probe suite again
 * against its running pod, without changing the pod: the same pipeline as
 * `pulumi up`'s ProbeSuite (host gate, latency, inter-VM, migration, each as
 * the stack names them), on the inputs that `up` recorded in the stack's
 * state, with the same gate and the same reports (results/<stack>/). Exits 1
 * when the gate fails. Progress lines come at least every 30 s and figures
 * after every chunk (≤ 50 s); SIGINT or SIGTERM stops the run, writes what
 * was measured marked partial, and exits 130 / 143. `--compare <run or
 * file>` then prints each figure's change against an earlier run: a run of
 * results/<stack>/history.jsonl by its number (-1: the last) or time, or a
 * probes.json file (components/probes/compare.ts).
 */
import { closeHostAccesses } from "../../components/host/access";
import { projectRoot, stackFromArgv } from "./engine";
import { probeAndReport } from "./probeRun";
import { loadRecordedProbes } from "./stack";

async function main(): Promise<void> {
    const inputs = await loadRecordedProbes(stackFromArgv(process.argv, "local"));
    try {
        const outcome = await probeAndReport(inputs, { projectDir: projectRoot }, { compare: optionFromArgv(process.argv, "--compare") });
        process.exitCode = outcome.exitCode;
    } finally {
        await closeHostAccesses();
    }
}

/** The value after `name`; throws when it is the last word. */
function optionFromArgv(argv: string[], name: string): string | undefined {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    if (argv[i + 1] === undefined || argv[i + 1].startsWith("--"))
        throw new Error(`${name} needs a value, e.g. ${name} -1 (the last run) or ${name} results/main/probes.json`);
    return argv[i + 1];
}

main().catch(async (err) => {
    console.error(err instanceof Error ? err.message : err);
    await closeHostAccesses();
    process.exitCode = 1;
});
