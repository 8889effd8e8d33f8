export * from "./escape";
export * from "./json";
export * from "./markdown";
export * from "./junit";
export * from "./svg";
