/**
 * `npm run bench:migration [-- --workload idle|io|memory] [--trips N] [--sets a,b]`:
 * baseline against tuned migration parameters on the lab stack's running pod
 * (npm run lab -- up && npm run up -- --stack lab). Each parameter set runs
 * the probe pipeline (the one `pulumi up` and `npm run probe` run) on the
 * lab stack's recorded inputs with only its migration, the stack's first
 * migration entry with the set's parameters, `trips` round trips; one
 * Markdown row per set: medians over its migrations. docs/lab.md keeps the table.
 */
import * as path from "node:path";
import { closeHostAccesses } from "../../components/host/access";
import { checkMigrationSettings } from "../../components/probes/kinds/migration/config";
import type { MigrationLeg } from "../../components/probes/kinds/migration/types";
import { runProbePipeline } from "../../components/probes/pipeline";
import { PROBE_KINDS } from "../../components/probes/kinds/registry";
import { problemError, ProblemListError } from "../../components/spec/problems";
import { projectRoot } from "../cli/engine";
import { loadRecordedProbes } from "../cli/stack";
import { median } from "./report";

/** The parameter sets compared. `baseline` is QEMU's and libvirt's defaults, as the issue's feasibility run had them. */
export const PARAMETER_SETS: Record<string, Record<string, unknown>> = {
    baseline: {},
    "downtime 30 ms": { downtimeLimitMs: 30 },
    "multifd 2": { multifdChannels: 2 },
    "auto-converge": { autoConverge: true },
    tuned: { downtimeLimitMs: 30, multifdChannels: 2, autoConverge: true },
};

function arg(name: string, fallback: string): string {
    const i = process.argv.indexOf(name);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
    const stack = arg("--stack", "lab");
    const workload = arg("--workload", "idle");
    const trips = Number(arg("--trips", "2"));
    const sets = arg("--sets", Object.keys(PARAMETER_SETS).join(",")).split(",");
    const recorded = await loadRecordedProbes(stack);
    const [entry] = recorded.config.migration;
    const [move] = recorded.kinds.migration?.moves ?? [];
    if (!entry || !move)
        throw problemError(
            `stack ${stack}`,
            "nfv-testpod:probes.migration",
            recorded.config.migration,
            "names no migration: nothing to compare",
            "add a migration entry to the stack (docs/probes.md), then npm run up -- --stack lab",
        );
    const rows: string[] = [];
    for (const name of sets) {
        const { settings, problems } = checkMigrationSettings(
            [{ ...entry, from: entry.from || undefined, roundTrips: trips, workload, ...PARAMETER_SETS[name] }],
            "bench",
        );
        if (problems.length > 0) throw new ProblemListError(problems, `parameter set ${name}`);
        // Only the migration kind runs: the pipeline is handed that one kind of the registry.
        const outcome = await runProbePipeline(
            {
                ...recorded,
                config: { ...recorded.config, migration: settings },
                resultsDir: path.join("results", "bench-migration", name.replace(/[^A-Za-z0-9-]/g, "_")),
            },
            { log: (line) => console.error(line), projectDir: projectRoot, kinds: PROBE_KINDS.filter((k) => k.name === "migration") },
        );
        const [result] = outcome.verdict.sections.migration ?? [];
        const legs = result.legs.filter((l) => !l.error);
        const m = (pick: (l: MigrationLeg) => number | null) => Math.round(median(legs.map(pick).filter((v): v is number => v !== null)) * 100) / 100;
        rows.push(
            `| ${name} | ${result.parameters} | ${legs.length}${legs.length < result.legs.length ? ` (${result.legs.length - legs.length} failed)` : ""} | ${m((l) => l.totalMs)} | ${m((l) => l.downtimeMs)} | ${m((l) => l.downtimeQemuMs)} | ${m((l) => l.networkDowntimeMs)} | ${m((l) => l.iterations)} | ${Math.round(m((l) => l.bytes) / 1024 ** 2)} | ${m((l) => l.resolutionMs)} |`,
        );
        console.error(rows[rows.length - 1]);
    }
    console.log(`\nworkload ${workload}, ${trips} round trip(s) per set (medians over the migrations):\n`);
    console.log(
        "| set | parameters | migrations | total ms | downtime ms (libvirt) | w/o network ms | network downtime ms | iterations | MiB sent | resolution ms |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) console.log(r);
    await closeHostAccesses();
}

main().catch(async (err) => {
    console.error(err instanceof Error ? err.message : err);
    await closeHostAccesses();
    process.exitCode = 1;
});
