/** The one stack loader (loadStack.ts): config, secrets, each host's access and facts, the problems and the plan. */
export { loadStack, namesAFile, readProject, type LoadStackOptions, type LoadedStack } from "./loadStack";
