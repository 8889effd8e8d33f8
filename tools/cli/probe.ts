/**
 * `npm run probe -- --stack <name>`: runs the stack's probe suite again
 * against its running pod, without changing the pod: the same pipeline as
 * `pulumi up`'s ProbeSuite (host gate, latency, inter-VM, migration, each as
 * the stack names them), on the inputs that `up` recorded in the stack's
 * state, with the same gate and the same reports (results/<stack>/). Exits 1
 * when the gate fails. Progress lines come at least every 30 s and figures
 * after every chunk (≤ 50 s); SIGINT or SIGTERM stops the run, writes what
 * was measured marked partial, and exits 130 / 143.
 */
import { closeHostAccesses } from "../../components/host/access";
import { projectRoot, stackFromArgv } from "./engine";
import { probeAndReport } from "./probeRun";
import { loadRecordedProbes } from "./stack";

async function main(): Promise<void> {
    const inputs = await loadRecordedProbes(stackFromArgv(process.argv, "local"));
    try {
        const outcome = await probeAndReport(inputs, { projectDir: projectRoot });
        process.exitCode = outcome.exitCode;
    } finally {
        await closeHostAccesses();
    }
}

main().catch(async (err) => {
    console.error(err instanceof Error ? err.message : err);
    await closeHostAccesses();
    process.exitCode = 1;
});
