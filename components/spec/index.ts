export * from "./types";
export * from "./units";
export * from "./problems";
export * from "./knobs";
export * from "./names";
export * from "./checked";
export { checkPod, type ResolveOptions } from "./check";
