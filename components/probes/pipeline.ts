/**
 * The probe pipeline: one run of every probe kind the stack names against a
 * running pod, in the registry's order (host gate, latency, inter-VM,
 * migration), one verdict, one set of reports. The ProbeSuite resource runs
 * it after deploy (`pulumi up`), and `npm run probe` runs it again from the
 * inputs that `up` recorded; nothing else runs probes.
 *
 * An interruption (SIGINT/SIGTERM: the caller aborts `signal`) ends the kind
 * in flight early, keeping what it measured, and no later kind starts; the
 * reports are written either way and say what was cut. An enforced host gate
 * stops the pipeline before any probe runs.
 */
import * as path from "node:path";
import { hostAccess, revealSecrets, targetForHost } from "../host/access";
import { guestShell } from "../libvirt/guestAgent";
import type { HostAccess } from "../host/access";
import { problemError } from "../spec/problems";
import { withProgress } from "../progress";
import type { ProbeSuiteInputs } from "./inputs";
import type { AnyProbeKind, ReachedHost, RunContext } from "./kinds/kind";
import { PROBE_KINDS } from "./kinds/registry";
import { writeResults, type PipelinePartial, type ResultFiles } from "./resultsWriter";
import { composeVerdict, type KindVerdict, type Verdict } from "./verdict";

export interface PipelineEnv {
    /**
     * Progress lines: the provider writes them to its stderr (the engine shows them), `npm run probe` to the terminal with the time.
     * A line comes at least every PROGRESS_EVERY_MS (components/progress.ts).
     */
    log: (line: string) => void;
    /** Aborted on the first SIGINT/SIGTERM: what was measured is kept, marked partial. */
    signal?: AbortSignal;
    /** Chunking and heartbeat of long tool runs. */
    longRun?: RunContext<unknown>["longRun"];
    /** Where relative `resultsDir`s are taken from. @default the current folder (the project folder for the provider and the CLI) */
    projectDir?: string;
    /** The kinds to run. @default the registry's: tests hand in their own to see the order and the stops. */
    kinds?: readonly AnyProbeKind[];
    /** Runs a script in a guest, named by its host and domain. @default its QEMU guest agent, through the host's virsh */
    guestShell?: RunContext<unknown>["shellOn"];
}

export interface PipelineOutcome {
    verdict: Verdict;
    files: ResultFiles;
    /** Set when the run was interrupted. */
    partial?: PipelinePartial;
    /** Wall time of the whole pipeline, seconds. */
    seconds: number;
    /** The kinds that ran, in order. */
    ran: string[];
}

/**
 * Runs the pipeline and writes the reports. Throws only when it cannot run at all (a host it cannot reach, a report it cannot write).
 * Whatever a kind runs, the log never stays silent longer than PROGRESS_EVERY_MS: a silence gets a line naming the last thing said.
 */
export async function runProbePipeline(given: ProbeSuiteInputs, env: PipelineEnv): Promise<PipelineOutcome> {
    // The last line, cut short: a line with figures is long, and it was just shown in full.
    const still = (last: string, seconds: number) => `still running, ${seconds} s since "${last.length > 60 ? `${last.slice(0, 59)}…` : last}"`;
    return withProgress("probes", "the start", { write: env.log, still }, (progress) =>
        runPipeline(given, {
            ...env,
            log: (line) => {
                progress.step(line);
                progress.say(line);
            },
        }),
    );
}

async function runPipeline(given: ProbeSuiteInputs, env: PipelineEnv): Promise<PipelineOutcome> {
    const started = Date.now();
    // A pod with an SSH host hands parts of its inputs over as secrets (an element carries the host's private key): open them, in memory only.
    const inputs = revealSecrets(given);
    const kinds = env.kinds ?? PROBE_KINDS;
    const hosts = await reachHosts(inputs);
    const guests = inputs.guests.map((g) => {
        const host = g.host ?? hostOfGuest(inputs, g.uri);
        return { ...g, host, uri: hosts[host]?.uri ?? g.uri };
    });
    const shellOn: RunContext<unknown>["shellOn"] =
        env.guestShell ?? ((host, domain, script, timeoutMs) => guestShell(reachedAccess(hosts, host, domain), domain, script, timeoutMs));
    const parts: { name: string; section: unknown; judged: KindVerdict }[] = [];
    const ran: string[] = [];
    let partial: PipelinePartial | undefined;
    let stopped = false;
    const notRun: string[] = [];
    const dir = path.resolve(env.projectDir ?? process.cwd(), inputs.resultsDir);
    for (const kind of kinds) {
        if (!kind.named(inputs.config)) continue;
        if (stopped || partial) {
            notRun.push(kind.name);
            continue;
        }
        const ctx: RunContext<unknown> = {
            config: inputs.config,
            targets: inputs.targets,
            guests,
            hosts,
            inputs: (inputs.kinds as Record<string, unknown> | undefined)?.[kind.name],
            shell: (g, script, timeoutMs) => shellOn(g.host ?? "", g.domain, script, timeoutMs),
            shellOn,
            log: env.log,
            signal: env.signal,
            longRun: env.longRun,
            resultsDir: dir,
        };
        const section = await kind.run(ctx);
        const judged = kind.judge(section, { targets: inputs.targets, gate: inputs.gate, config: inputs.config });
        parts.push({ name: kind.name, section, judged });
        ran.push(kind.name);
        if (judged.stop) stopped = true;
        if (env.signal?.aborted) {
            const reason = typeof env.signal.reason === "string" ? env.signal.reason : "interrupted";
            partial = { reason, ...(kind.partial?.(section) ?? {}), cut: kind.name, notRun };
        }
    }
    const verdict = composeVerdict(inputs.gate, parts);
    if (notRun.length > 0) verdict.notes.push(`not run, ${stopped ? "the host gate stopped the pipeline" : (partial?.reason ?? "")}: ${notRun.join(", ")}`);
    const seconds = (Date.now() - started) / 1000;
    const files = await writeResults(dir, verdict, { title: inputs.title, notes: inputs.notes, partial, seconds, kinds });
    return { verdict, files, ...(partial ? { partial } : {}), seconds, ran };
}

/**
 * Each host as this process reaches it: over its pinned SSH access when it
 * has one, this machine for the local system libvirt, and not at all for a
 * remote host without access (never this machine in its place).
 */
async function reachHosts(inputs: ProbeSuiteInputs): Promise<Record<string, ReachedHost>> {
    const out: Record<string, ReachedHost> = {};
    for (const h of inputs.hosts ?? []) {
        const target = targetForHost(h, h.access);
        const access = target ? hostAccess(target) : null;
        // virsh to an SSH host rides on that host's pinned, shared connection.
        out[h.name] = { name: h.name, uri: access ? await access.libvirtUri() : h.uri, access, kernelArgs: h.kernelArgs };
    }
    return out;
}

/** The access of a guest's host, which its agent is reached through; a host the kit cannot reach is bad input, said as such. */
function reachedAccess(hosts: Record<string, ReachedHost>, host: string, domain: string): HostAccess {
    const access = hosts[host]?.access;
    if (!access)
        throw problemError(
            "probe suite",
            `hostAccess.${host}`,
            undefined,
            `is needed: the probes run commands in ${domain} on host ${host}`,
            "give the host ssh: access with pinned keys",
        );
    return access;
}

/** The host whose spec URI a guest carries, for guests recorded without their host's name. */
function hostOfGuest(inputs: ProbeSuiteInputs, uri: string): string {
    return (inputs.hosts ?? []).find((h) => h.uri === uri)?.name ?? "";
}
