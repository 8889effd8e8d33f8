/**
 * What a probe kind is to the pipeline. A kind is one folder under
 * `components/probes/kinds/` holding its settings check, commands, parser,
 * run, verdict and report, and one module object of this shape, listed once
 * in `registry.ts`. The pipeline (`pipeline.ts`) knows nothing of any kind:
 * it runs the registered kinds the stack names, in the registry's order, and
 * composes their checks and sections into one verdict and one set of reports.
 * Like a node_exporter collector or an ESLint rule.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { HostAccess, HostTarget } from "../../host/access";
import type { GuestExecResult } from "../../libvirt/guestAgent";
import type { PodPlan } from "../../plan/podPlan";
import type { SpecProblem } from "../../spec/problems";
import type { GuestShell, ProbeGuest } from "../inputs";
import type { KindHtml } from "../reports/htmlBlocks";
import type { ProbeSuiteConfig } from "../suiteConfig";
import type { Targets } from "../targets";
import type { Gate, KindVerdict, Verdict } from "../verdict";
import type { ProbePodView } from "./podView";

/** What a kind's settings check may look at. */
export interface SettingsContext {
    /** YAML path of the probe settings, e.g. `nfv-testpod:probes`. */
    path: string;
    /** What the kinds before this one in the registry resolved (the inter-VM probe takes its default duration from the latency probes'). */
    resolved: Partial<ProbeSuiteConfig>;
    /** The pod, to check names and placements against; absent when nothing of the pod is known. */
    pod?: ProbePodView;
}

/** What a kind may use to derive its inputs when TestPod builds the ProbeSuite. */
export interface PodInputsContext {
    plan: PodPlan;
    /** The checked probe settings (this kind's among them). */
    config: ProbeSuiteConfig;
    /** The guest image's programs by name: host paths of nfvkit-ring, nfvkit-migload. */
    programs: pulumi.Output<Record<string, string>>;
    /** How a host is reached; undefined for this machine's own libvirt. */
    access(host: string): pulumi.Input<HostTarget> | undefined;
}

/** A host of the pod as a run reaches it. */
export interface ReachedHost {
    name: string;
    /** The libvirt URI virsh uses from here (through the host's pinned SSH connection for an SSH host). */
    uri: string;
    /** Null when the kit has no way to reach it (a remote host without `ssh:`). */
    access: HostAccess | null;
    kernelArgs: string[];
}

/** What a kind's run gets. */
export interface RunContext<Inputs> {
    config: ProbeSuiteConfig;
    targets: Targets;
    /** The guests, each with its `host` and, as `uri`, the one virsh uses from here. */
    guests: ProbeGuest[];
    /** Every host of the pod, by name. */
    hosts: Record<string, ReachedHost>;
    /** What `podInputs` recorded for this kind. */
    inputs: Inputs | undefined;
    /** Runs a script in a guest through its agent. */
    shell: GuestShell;
    /** The same, for a guest named by its host's name and its domain (a guest that moves between hosts). */
    shellOn: (host: string, domain: string, script: string, timeoutMs: number) => Promise<GuestExecResult>;
    log: (line: string) => void;
    /** Aborted on SIGINT/SIGTERM: stop early and keep what was measured. */
    signal?: AbortSignal;
    /** Chunking and heartbeat of long tool runs (the latency probes). */
    longRun?: { chunkSec?: number; heartbeatSec?: number };
    /** Where this run's reports go, absolute: the stack's history.jsonl is there (a median baseline reads it). */
    resultsDir: string;
}

export interface JudgeContext {
    targets: Targets;
    gate: Gate;
    config: ProbeSuiteConfig;
}

/** A kind's lines in a preview's comment. */
export interface KindPreview {
    /** e.g. `cyclictest, timerlat on vnf`; null to say nothing on the probe line. */
    summary: string | null;
    rows: { probe: string; where: string; metric: string; target: string }[];
}

/** A chart to write under the results' `histograms/` folder. */
export interface Chart {
    fileName: string;
    svg: string;
}

export interface KindReport<Section> {
    /** Its Markdown section, after the checks table ("" for none). */
    markdown(section: Section, verdict: Verdict): string;
    /** Its top-level keys in probes.json. */
    json(section: Section, verdict: Verdict): Record<string, unknown>;
    charts(section: Section, verdict: Verdict): Chart[];
    /** Properties of a guest's JUnit test suite (tool versions, commands). */
    junitProperties?(section: Section, guest: string): { name: string; value: string }[];
    /**
     * Its sections of the HTML report (index.html), as plain blocks the page renders and escapes
     * (reports/htmlBlocks.ts), placing its `charts` where they read best, and the tools it ran.
     * Without it the page shows the kind's charts and its Markdown section as text.
     */
    html?(section: Section, verdict: Verdict, charts: Chart[]): KindHtml;
}

export interface ProbeKindModule<Name extends string, Settings extends object, Section, Inputs = never> {
    /** The kind's name: its key in the verdict's sections and in `ProbeSuiteInputs.kinds`. */
    readonly name: Name;
    /** The keys it reads under `nfv-testpod:probes`, with their defaults. */
    readonly defaults: Readonly<Settings>;
    /**
     * Reads its keys of the probe settings: shape and cross-references to the
     * pod (when known) in one pass, every problem with its YAML path. Never throws.
     */
    check(given: Record<string, unknown>, ctx: SettingsContext): { settings: Settings; problems: SpecProblem[] };
    /** Whether the stack names this kind: the pipeline runs only those. */
    named(config: ProbeSuiteConfig): boolean;
    /** What it needs of the pod beyond guests and hosts, derived from the plan when TestPod builds the ProbeSuite. */
    podInputs?(ctx: PodInputsContext): pulumi.Input<Inputs>;
    /** Runs it against the running pod. Never throws for a missed target; a failure to measure is a result that fails its check. */
    run(ctx: RunContext<Inputs>): Promise<Section>;
    judge(section: Section, ctx: JudgeContext): KindVerdict;
    /**
     * What it will judge, for the pull request comment of a preview (components/preview):
     * a summary for the comment's probe line, and one row per figure with its target.
     */
    preview?(config: ProbeSuiteConfig, targets: Targets, plan: PodPlan): KindPreview;
    /** Set when the run was cut short: what was kept, for the report's `partial`. */
    partial?(section: Section): Record<string, unknown> | undefined;
    report: KindReport<Section>;
}

/** Any registered kind, for the code that walks the registry. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProbeKind = ProbeKindModule<string, object, any, any>;
