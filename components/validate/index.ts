export * from "./limits";
export * from "./stackFile";
export * from "./engineConfig";
export * from "./validateStack";
export * from "./hostAccess";
export * from "./report";
export { LineIndex } from "./sourceMap";
