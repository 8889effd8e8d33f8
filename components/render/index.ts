export * from "./domainXml";
