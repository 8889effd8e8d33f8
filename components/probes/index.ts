/**
 * Latency probes: command lines, output parsers, targets, the verdict and
 * the report writers (pure); the suite settings; the runner that executes
 * them in guests through the guest agent, the results writer and the
 * ProbeSuite resource.
 */
export * from "./types";
export * from "./stats";
export * from "./targets";
export * from "./commands";
export * from "./parse";
export * from "./verdict";
export * from "./reports";
export * from "./suiteConfig";
export { runProbeSuite, type ProbeGuest, type GuestShell, type ProbeRun, type SuiteRun } from "./runner";
export { writeResults, type ResultFiles, type ResultContext } from "./resultsWriter";
export { ProbeSuite, type ProbeSuiteArgs } from "./ProbeSuite";
