/**
 * `npm run probe -- --stack <name>`: runs the stack's probe suite again
 * against its running pod, without changing the pod, and writes the same
 * reports as `pulumi up` does (results/<stack>/). Exits 1 when the gate
 * enforces and a target is missed. Progress lines come at least every 30 s
 * and figures after every chunk (≤ 50 s); SIGINT or SIGTERM stops the run,
 * writes what was measured marked partial, and exits 130 / 143.
 */
import * as path from "node:path";
import { runPulumi, projectRoot, stackFromArgv, stackOutputs } from "./engine";
import type { PodGuestSummary } from "../../components/pod/TestPod";
import { resolveGate, resolveProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { resolveTargets } from "../../components/probes/targets";
import { probeAndReport } from "./probeRun";

async function stackConfig(stack: string): Promise<Record<string, unknown>> {
    const r = await runPulumi(["config", "--json", "--stack", stack]);
    if (r.code !== 0) throw new Error(`pulumi config --stack ${stack} failed: ${r.stderr}`);
    const raw = JSON.parse(r.stdout) as Record<string, { value?: string; objectValue?: unknown }>;
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.objectValue ?? v.value]));
}

async function main(): Promise<void> {
    const stack = stackFromArgv(process.argv, "local");
    const [config, outputs] = await Promise.all([stackConfig(stack), stackOutputs(stack)]);
    const guests = outputs.guests as Record<string, PodGuestSummary> | undefined;
    if (!guests || Object.keys(guests).length === 0) {
        throw new Error(`stack ${stack} has no guests: bring the pod up first (npm run up -- --stack ${stack})`);
    }
    const suite = resolveProbeSuiteConfig(config["nfv-testpod:probes"]);
    const targets = resolveTargets(config["nfv-testpod:targets"] ?? {}, "nfv-testpod:targets");
    const gate = resolveGate(config["nfv-testpod:gate"]);
    const probeGuests = Object.entries(guests).map(([guest, g]) => ({
        guest,
        uri: g.uri,
        domain: g.domain,
        rtVcpus: g.rtVcpus,
        housekeepingVcpus: g.housekeepingVcpus,
        hostHousekeepingCpus: g.hostHousekeepingCpus,
    }));
    const notes = Object.entries((outputs.hostNotes ?? {}) as Record<string, string[]>).flatMap(([h, ns]) => ns.map((n) => `host ${h}: ${n}`));
    const outcome = await probeAndReport({
        title: `nfv-testpod/${stack}`,
        guests: probeGuests,
        suite,
        targets,
        gate,
        resultsDir: path.join(projectRoot, "results", stack),
        notes,
    });
    process.exitCode = outcome.exitCode;
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
