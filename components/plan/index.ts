export * from "./placement";
export * from "./guestCmdline";
export * from "./hostCmdline";
export * from "./hugepages";
export * from "./guestFacts";
export * from "./podPlan";
export * from "./resolvePod";
export * from "./migration";
