/**
 * Latency probes: command lines, output parsers, targets, the verdict and
 * the report writers. Pure functions only; the runner that executes the
 * commands in guests lives with the libvirt components.
 */
export * from "./types";
export * from "./stats";
export * from "./targets";
export * from "./commands";
export * from "./parse";
export * from "./verdict";
export * from "./reports";
