export * from "./domainXml";
export * from "./cputune";
