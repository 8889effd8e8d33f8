/**
 * `npm run probe -- --stack <name>`: runs the stack's probe suite again
 * against its running pod, without changing the pod, and writes the same
 * reports as `pulumi up` does (results/<stack>/), then the stack's
 * live-migration probe (probes.migration) when it has one. Exits 1 when the
 * gate enforces and a target is missed. Progress lines come at least every
 * 30 s and figures after every chunk (≤ 50 s); SIGINT or SIGTERM stops the
 * run, writes what was measured marked partial, and exits 130 / 143.
 */
import * as path from "node:path";
import { runPulumi, projectRoot, stackFromArgv, stackOutputs } from "./engine";
import { labConfigArgs } from "./labConfig";
import { probeAndReport } from "./probeRun";
import { guestShell } from "../../components/libvirt/guestAgent";
import type { PodGuestSummary } from "../../components/pod/TestPod";
import { resolveGate, resolveProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { resolveTargets } from "../../components/probes/targets";
import { closeHostAccesses, hostAccess, libvirtUri, sshTargets, targetForHost } from "../../components/host/access";
import { makeHugepageRoom } from "../../components/host/hugepageRoom";
import { ensureGuestImage } from "../../guest-images/build";
import { migrationGuestViews } from "../../components/probes/migrationPlan";
import { runMigrations } from "../../components/probes/migrationRunner";
import { withMigration } from "../../components/probes/migrationVerdict";
import { LAB_CONTROL_ADDRESS } from "../lab/layout";

async function stackConfig(stack: string, configArgs: string[]): Promise<Record<string, unknown>> {
    const r = await runPulumi(["config", "--json", "--show-secrets", "--stack", stack, ...configArgs]);
    if (r.code !== 0) throw new Error(`pulumi config --stack ${stack} failed: ${r.stderr}`);
    const raw = JSON.parse(r.stdout) as Record<string, { value?: string; objectValue?: unknown }>;
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.objectValue ?? v.value]));
}

async function main(): Promise<void> {
    const stack = stackFromArgv(process.argv, "local");
    const configArgs = await labConfigArgs(stack, process.argv, (line) => console.log(line));
    const [config, outputs] = await Promise.all([stackConfig(stack, configArgs), stackOutputs(stack)]);
    const guests = outputs.guests as Record<string, PodGuestSummary> | undefined;
    if (!guests || Object.keys(guests).length === 0) {
        throw new Error(`stack ${stack} has no guests: bring the pod up first (npm run up -- --stack ${stack})`);
    }
    const suite = resolveProbeSuiteConfig(config["nfv-testpod:probes"]);
    const targets = resolveTargets(config["nfv-testpod:targets"] ?? {}, "nfv-testpod:targets");
    const gate = resolveGate(config["nfv-testpod:gate"]);
    // Each host as this process reaches it: over the stack's pinned SSH access where it has one, so virsh needs no key of the user's.
    const spec = config["nfv-testpod:pod"] as { hosts: { name: string; uri: string }[] };
    const ssh = sshTargets(spec, config, "nfv-testpod");
    const uris: Record<string, string> = {};
    for (const h of spec.hosts) uris[h.name] = await libvirtUri(targetForHost(h, ssh[h.name]) ?? { kind: "local", name: h.name });
    const reach = (uri: string) => uris[spec.hosts.find((h) => h.uri === uri)?.name ?? ""] ?? uri;
    const probeGuests = Object.entries(guests).map(([guest, g]) => ({
        guest,
        uri: reach(g.uri),
        domain: g.domain,
        rtVcpus: g.rtVcpus,
        housekeepingVcpus: g.housekeepingVcpus,
        hostHousekeepingCpus: g.hostHousekeepingCpus,
    }));
    const notes = Object.entries((outputs.hostNotes ?? {}) as Record<string, string[]>).flatMap(([h, ns]) => ns.map((n) => `host ${h}: ${n}`));
    try {
        const outcome = await probeAndReport({
            title: `nfv-testpod/${stack}`,
            guests: probeGuests,
            suite,
            targets,
            gate,
            resultsDir: path.join(projectRoot, "results", stack),
            notes,
            after:
                suite.migration.length === 0
                    ? undefined
                    : async (verdict, log) => {
                          const prefix = Object.values(guests)[0].domain.slice(0, -(Object.keys(guests)[0].length + 1));
                          const image = await ensureGuestImage();
                          const migrations = await runMigrations(suite.migration, migrationGuestViews(spec, suite.migration, prefix, uris), {
                              tool: image.programs?.["nfvkit-migload"] ?? "nfvkit-migload",
                              // The lab's bridge address: every lab host reaches it, and so does a guest's user-mode NIC on any of them.
                              receiverAddress: LAB_CONTROL_ADDRESS,
                              shell: (uri, domain, script, timeoutMs) => guestShell(uri, domain, script, timeoutMs),
                              log,
                              makeRoom: async (host, need) => {
                                  const declared = spec.hosts.find((h) => h.name === host)!;
                                  const access = hostAccess(targetForHost(declared, ssh[host]) ?? { kind: "local", name: host });
                                  return makeHugepageRoom(access, host, need, log);
                              },
                          });
                          return withMigration(verdict, migrations, targets);
                      },
        });
        process.exitCode = outcome.exitCode;
    } finally {
        await closeHostAccesses();
    }
}

main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
});
