/** The pod spec check, one module per section of the spec (see pod.ts). */
export { checkPod, type ResolveOptions } from "./pod";
