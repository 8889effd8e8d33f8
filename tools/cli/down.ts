/**
 * `npm run down [-- --stack <name>]`: destroys a pod: domains, shm files,
 * hugepage reservations. After a run that was killed half-way it first takes
 * what that run's unfinished creates made into the state, so that destroy
 * removes it too (engine.ts recoverInterruptedRun, interruptedCreates.ts).
 */
import { passThroughArgs, recoverInterruptedRun, runPulumi, selectStack, stackFromArgv } from "./engine";
import { labConfigArgs } from "./labConfig";
import { currentAccessEnvOf } from "./stack";

async function main(): Promise<void> {
    const stack = stackFromArgv(process.argv, "local");
    selectStack(stack);
    const configArgs = await labConfigArgs(stack, process.argv, (line) => console.log(line));
    // The hosts are reached with the access the stack's config gives now, not the one stored by the last up:
    // a host re-pinned after a reinstall, or a key rotated, is still taken down (docs/pod-spec.md, "Rotating access").
    const env = await currentAccessEnvOf(stack, [...passThroughArgs(process.argv), ...configArgs], (line) => console.log(line));
    await recoverInterruptedRun(stack, (line) => console.log(line), configArgs, "remove", env);
    const r = await runPulumi(["destroy", "--yes", "--stack", stack, ...passThroughArgs(process.argv), ...configArgs], { echo: true, env });
    process.exitCode = r.code;
    if (r.code === 0) console.log(`\nPod "${stack}" is gone: no domains, no shm files, hugepages given back.`);
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
