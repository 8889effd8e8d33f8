export * from "../../../parseError";
export * from "./cyclictest";
export * from "./oslat";
export * from "./timerlat";
export * from "./osnoise";
