/**
 * `npm run up [-- --stack <name>]`: brings up a pod (default: the embedded
 * local pod) and prints what fits a screen: each resource as it is done and
 * what the long steps say (upDisplay.ts), then the hosts, the placement table,
 * the guests and how to look at them, and the probe table. The rest is where
 * it says: each check with its figures, charts and the host readiness table
 * in the reports, every output in `pulumi stack output --json`.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { passThroughArgs, projectRoot, recoverInterruptedRun, runPulumi, selectStack, stackFromArgv, stackOutputs } from "./engine";
import { labConfigArgs } from "./labConfig";
import { currentAccessEnvOf } from "./stack";
import { isKitLanguageHostWarning, UpDisplay } from "./upDisplay";
import type { ManagedHostSummary, PodGuestSummary } from "../../components/pod/TestPod";
import { PROGRESS_EVERY_MS, withProgress } from "../../components/progress";
import { markdownVerdict } from "../../components/probes/reports/markdown";
import type { ResultFiles } from "../../components/probes/resultsWriter";

async function main(): Promise<void> {
    const stack = stackFromArgv(process.argv, "local");
    const stackFlag = stack === "local" ? "" : ` -- --stack ${stack}`;
    selectStack(stack);
    const configArgs = await labConfigArgs(stack, process.argv, (line) => console.log(line));
    const started = Date.now();
    // Refresh and the deletes of a replacement reach the hosts with the stack's current access (docs/pod-spec.md, "Rotating access").
    const env = await currentAccessEnvOf(stack, [...passThroughArgs(process.argv), ...configArgs], (line) => console.log(line));
    await recoverInterruptedRun(stack, (line) => console.log(line), configArgs, "adopt", env);
    console.log(`pulumi up --stack ${stack}: each resource as it is done, and what the long steps say`);
    // No preview pass: the program validates everything before it registers anything, and one run of it reads the hosts once.
    const display = new UpDisplay();
    // The providers' long steps say they are still at work every PROGRESS_EVERY_MS; this covers the engine's own silences
    // (the program reading the hosts), a second later than theirs so that it stays quiet while theirs come.
    const still = (_step: string, seconds: number) => `  pulumi up: still ${display.doing()}, ${seconds} s since the last line`;
    const everyMs = PROGRESS_EVERY_MS + 1000;
    const up = await withProgress("pulumi up", "", { write: (line) => console.log(line), still, everyMs }, (progress) =>
        runPulumi(["up", "--yes", "--skip-preview", "--json", "--color", "never", "--stack", stack, ...passThroughArgs(process.argv), ...configArgs], {
            env,
            onStderrLine: (line) => {
                if (!isKitLanguageHostWarning(line)) console.error(line);
            },
            onStdoutLine: (line) =>
                display.line(line).forEach((l) => {
                    progress.step("");
                    progress.say(l);
                }),
        }),
    );
    if (up.code !== 0) {
        console.log(`\npulumi up failed (exit ${up.code}): the errors are above. Run it again once fixed: npm run up${stackFlag}`);
        process.exitCode = up.code;
        return;
    }
    const outputs = await stackOutputs(stack);
    console.log(`\nPod "${stack}" is up in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    const readiness = (outputs.hostReadiness ?? {}) as Record<string, string>;
    for (const [host, reason] of Object.entries((outputs.accel ?? {}) as Record<string, string>)) {
        console.log(`  host ${host}: ${reason}`);
        if (typeof readiness[host] === "string") console.log(`  host ${host}: readiness ${readiness[host]}`);
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
    for (const [name, g] of Object.entries((outputs.guests ?? {}) as Record<string, PodGuestSummary>)) {
        console.log(`\n  ${name}: domain ${g.domain} on ${g.uri}, booted in ${g.bootSeconds.toFixed(1)} s, vCPU pins ${JSON.stringify(g.vcpuPins)}`);
        console.log(`    console log:  tail -f ${g.consoleLog}`);
        console.log(`    console:      virsh -c ${g.uri} console ${g.domain}   (Ctrl+] to leave)`);
        console.log(
            `    run a command: virsh -c ${g.uri} qemu-agent-command ${g.domain} '{"execute":"guest-exec","arguments":{"path":"/bin/uname","arg":["-a"],"capture-output":true}}'`,
        );
        console.log(`    pinning:      virsh -c ${g.uri} vcpupin ${g.domain}; virsh -c ${g.uri} emulatorpin ${g.domain}`);
    }
    const reports = (outputs.probes as { reports?: ResultFiles } | undefined)?.reports;
    if (reports?.json) {
        // The verdict and its table; the kinds' sections (percentiles, tools, rates, host readiness, notes) are in the reports.
        const verdict = JSON.parse(readFileSync(path.resolve(projectRoot, reports.json), "utf8")) as Parameters<typeof markdownVerdict>[0];
        console.log(`\n${markdownVerdict(verdict)}`);
        console.log(`Every figure, chart and note, the host readiness table and the trend over the last runs: ${reports.html} (open it in a browser)`);
        console.log(`  also ${reports.markdown}, ${reports.json}, ${reports.junit}, ${reports.history}`);
        console.log(`Re-run the probes alone: npm run probe${stackFlag}`);
    }
    console.log(`Every stack output (the README's "Using pulumi directly" sets up the engine): pulumi stack output --json --stack ${stack}`);
    console.log(`Tear it down with: npm run down${stackFlag}`);
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
