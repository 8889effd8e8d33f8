export * from "./types";
export * from "./units";
export * from "./problems";
export * from "./knobs";
export * from "./names";
export * from "./resolved";
export { checkPod, resolvePod, type ResolveOptions } from "./resolve";
