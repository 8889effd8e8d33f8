export * from "./errors";
export * from "./cyclictest";
export * from "./oslat";
export * from "./timerlat";
export * from "./osnoise";
export * from "./ring";
