export * from "./domainXml";
export * from "./liveTunables";
