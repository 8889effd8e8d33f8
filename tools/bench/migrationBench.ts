/**
 * `npm run bench:migration [-- --workload idle|io|memory] [--trips N] [--sets a,b]`:
 * baseline against tuned migration parameters on the lab stack's running pod
 * (npm run lab -- up && npm run up -- --stack lab). Each parameter set moves
 * vnf lab-1 → lab-2 → lab-1 `trips` times with the migration probe and prints
 * one Markdown row per set: medians over its migrations. docs/lab.md keeps
 * the table.
 */
import { closeHostAccesses } from "../../components/host/access";
import { makeHugepageRoom } from "../../components/host/hugepageRoom";
import { guestShell } from "../../components/libvirt/guestAgent";
import { checkMigrationSettings } from "../../components/probes/migrationConfig";
import { migrationGuestViews } from "../../components/probes/migrationPlan";
import { runMigrations } from "../../components/probes/migrationRunner";
import type { MigrationLeg } from "../../components/probes/types";
import { ProblemListError } from "../../components/spec/problems";
import { ensureGuestImage } from "../../guest-images/build";
import { loadCommandStack } from "../cli/stack";
import { readLabState } from "../lab/state";

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

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
    const state = readLabState();
    if (!state) throw new Error("no lab is up: npm run lab -- up && npm run up -- --stack lab first");
    const workload = arg("--workload", "idle");
    const trips = Number(arg("--trips", "2"));
    const sets = arg("--sets", Object.keys(PARAMETER_SETS).join(",")).split(",");
    // The lab stack as up runs it: the lab's config, each host through its pinned access, the stack's name prefix.
    const lab = await loadCommandStack("lab", { log: (line) => console.error(line) });
    if (lab.problems.length > 0) throw new ProblemListError(lab.problems, "the lab stack");
    const spec = lab.config["nfv-testpod:pod"];
    const uris: Record<string, string> = {};
    for (const [host, access] of Object.entries(lab.access)) uris[host] = await access.libvirtUri();
    const image = await ensureGuestImage();
    const rows: string[] = [];
    for (const name of sets) {
        const { settings, problems } = checkMigrationSettings(
            [{ guest: "vnf", from: "lab-1", to: "lab-2", roundTrips: trips, workload, ...PARAMETER_SETS[name] }],
            "bench",
        );
        if (problems.length > 0) throw new ProblemListError(problems, `parameter set ${name}`);
        const [result] = await runMigrations(settings, migrationGuestViews(spec, settings, lab.namePrefix, uris), {
            tool: image.programs!["nfvkit-migload"],
            receiverAddress: state.controlAddress,
            shell: (uri, domain, script, timeoutMs) => guestShell(uri, domain, script, timeoutMs),
            log: (line) => console.error(line),
            makeRoom: (host, need) => makeHugepageRoom(lab.access[host], host, need, (line) => console.error(line)),
        });
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
