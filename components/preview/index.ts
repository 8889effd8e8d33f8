export * from "./engineSteps";
export * from "./podChanges";
export * from "./comment";
export * from "./markdown";
