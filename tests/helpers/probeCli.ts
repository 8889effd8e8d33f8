/**
 * `npm run probe` against one running guest, for tests: the same code the
 * CLI runs after reading its stack's recorded inputs (tools/cli/probeRun.ts:
 * the probe pipeline, progress lines, SIGINT/SIGTERM handling, reports, the
 * gate's exit code), given inputs for the guest directly so a test needs no
 * engine stack. Usage:
 *   tsx tests/helpers/probeCli.ts <domain> <results dir> <probes,comma,separated> <duration s> [--compare <run or file>]
 * Exits like the CLI: 0, 1 (enforced gate missed), 130 / 143 (interrupted).
 */
import { DEFAULT_PROBE_SUITE } from "../../components/probes/suiteConfig";
import { DEFAULT_TARGETS } from "../../components/probes/targets";
import type { ProbeKind } from "../../components/probes/kinds/latency/types";
import { probeAndReport } from "../../tools/cli/probeRun";
import { LOCAL_URI } from "./host";

async function main(): Promise<void> {
    const [domain, resultsDir, probes, duration] = process.argv.slice(2);
    if (!domain || !resultsDir || !probes || !duration) throw new Error("usage: probeCli.ts <domain> <results dir> <probes> <duration s>");
    const outcome = await probeAndReport(
        {
            title: `probe CLI test on ${domain}`,
            guests: [{ guest: "kat", host: "local", uri: LOCAL_URI, domain, rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0] }],
            guestIds: [],
            config: { ...DEFAULT_PROBE_SUITE, probes: probes.split(",") as ProbeKind[], durationSec: Number(duration) },
            targets: DEFAULT_TARGETS,
            gate: "report",
            resultsDir,
            notes: [],
            // The host gate reads this machine's kernel, as it reads every host of a pod.
            hosts: [{ name: "local", uri: LOCAL_URI, kernelArgs: [] }],
            kinds: {},
        },
        {},
        { compare: process.argv.includes("--compare") ? process.argv[process.argv.indexOf("--compare") + 1] : undefined },
    );
    process.exitCode = outcome.exitCode;
}

main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exitCode = 1;
});
