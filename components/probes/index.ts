/**
 * Probes: one pipeline (pipeline.ts) that runs the registered kinds
 * (kinds/registry.ts: host gate, latency, inter-VM, migration) against a
 * running pod, one verdict and one set of reports; the shared machinery
 * (statistics, targets, baseline, report writers, interruption); the
 * ProbeSuite resource that `pulumi up` runs after deploy.
 */
export * from "./types";
export * from "./stats";
export * from "./targets";
export * from "./verdict";
export * from "./reports";
export * from "./suiteConfig";
export * from "./inputs";
export { runProbePipeline, type PipelineEnv, type PipelineOutcome } from "./pipeline";
export { PROBE_KINDS, type KindName, type VerdictSections } from "./kinds/registry";
export type { ProbeKindModule } from "./kinds/kind";
export * from "./kinds/latency/types";
export * from "./kinds/latency/commands";
export * from "./kinds/latency/parse";
export { judge, METRIC_RULES } from "./kinds/latency/verdict";
export { histogramSvgs } from "./kinds/latency/report";
export { runProbeSuite } from "./kinds/latency/run";
export { writeResults, type ResultFiles, type ResultContext } from "./resultsWriter";
export { ProbeSuite, type ProbeSuiteArgs } from "./ProbeSuite";
