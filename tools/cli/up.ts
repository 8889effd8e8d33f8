/**
 * `npm run up [-- --stack <name>]`: brings up a pod (default: the embedded
 * local pod) and tells how to look at its guests.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { passThroughArgs, projectRoot, recoverInterruptedRun, runPulumi, selectStack, stackFromArgv, stackOutputs } from "./engine";
import { labConfigArgs } from "./labConfig";
import type { ManagedHostSummary } from "../../components/pod/TestPod";

async function main(): Promise<void> {
    const stack = stackFromArgv(process.argv, "local");
    selectStack(stack);
    const configArgs = await labConfigArgs(stack, process.argv, (line) => console.log(line));
    const started = Date.now();
    await recoverInterruptedRun(stack, (line) => console.log(line), configArgs);
    const up = await runPulumi(["up", "--yes", "--stack", stack, "--diff=false", ...passThroughArgs(process.argv), ...configArgs], { echo: true });
    if (up.code !== 0) {
        process.exitCode = up.code;
        return;
    }
    const outputs = await stackOutputs(stack);
    const guests = (outputs.guests ?? {}) as Record<
        string,
        { domain: string; uri: string; consoleLog: string; bootSeconds: number; vcpuPins: Record<string, string> }
    >;
    console.log(`\nPod "${stack}" is up in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    for (const [host, reason] of Object.entries((outputs.accel ?? {}) as Record<string, string>)) {
        console.log(`  host ${host}: ${reason}`);
    }
    // Managed hosts: what the kit made of them, and the readiness table after (the misses in full).
    for (const [host, m] of Object.entries((outputs.managedHosts ?? {}) as Record<string, ManagedHostSummary>)) {
        const misses = m.checks.filter((c) => !c.pass);
        // An up that changes nothing keeps the RtHost's outputs from the up that did: only a change made since this up started is "this up".
        const rebootedNow = m.rebooted && Date.parse(m.convergedAt) >= started;
        console.log(
            `  host ${host}: boots ${m.kernelRelease}${rebootedNow ? `, rebooted by this up in ${m.rebootSeconds.toFixed(0)} s` : ""}; ` +
                `readiness ${m.checks.length - misses.length} of ${m.checks.length} checks pass`,
        );
        for (const c of misses) console.log(`    ✗ ${c.name}: expected ${c.expected}, found ${c.found}`);
    }
    console.log(`\n${outputs.placement ?? ""}`);
    for (const [name, g] of Object.entries(guests)) {
        console.log(`\n  ${name}: domain ${g.domain} on ${g.uri}, booted in ${g.bootSeconds.toFixed(1)} s, vCPU pins ${JSON.stringify(g.vcpuPins)}`);
        console.log(`    console log:  tail -f ${g.consoleLog}`);
        console.log(`    console:      virsh -c ${g.uri} console ${g.domain}   (Ctrl+] to leave)`);
        console.log(
            `    run a command: virsh -c ${g.uri} qemu-agent-command ${g.domain} '{"execute":"guest-exec","arguments":{"path":"/bin/uname","arg":["-a"],"capture-output":true}}'`,
        );
        console.log(`    pinning:      virsh -c ${g.uri} vcpupin ${g.domain}; virsh -c ${g.uri} emulatorpin ${g.domain}`);
    }
    const probes = outputs.probes as { reports?: { markdown?: string }; gate?: string } | undefined;
    if (probes?.reports?.markdown) {
        console.log(`\n${readFileSync(path.resolve(projectRoot, probes.reports.markdown), "utf8")}`);
        console.log(
            `Reports: ${probes.reports.markdown} (and index.html to open in a browser, .json, .junit.xml, history.jsonl, histograms/). Re-run the probes alone: npm run probe${stack === "local" ? "" : ` -- --stack ${stack}`}`,
        );
    }
    console.log(`\nTear it down with: npm run down${stack === "local" ? "" : ` -- --stack ${stack}`}`);
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
