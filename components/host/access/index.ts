/** Host access: the one seam through which the kit runs commands and touches files on a host. */
export type { HostAccess, RunOptions, RunResult, RunningCommand, FileStat } from "./types";
export { HostCommandError, HostFileError, commandFailure, hostTargetProblem, type HostCommandFailure } from "./errors";
export type { HostTarget, LocalTarget, SshTarget } from "./target";
export { shQuote, shJoin } from "./quote";
export { LocalHostAccess } from "./local";
export { SshHostAccess } from "./ssh";
export { LOCAL_LIBVIRT_URI, isLocalLibvirtUri, libvirtSshUri } from "./libvirtUri";
export { hostAccess, libvirtUri, closeHostAccesses } from "./factory";
export { accessOf, revealSecrets } from "./inputs";
export { CURRENT_ACCESS_ENV, currentAccessEnv, newestAccess, sameAccess, type CurrentAccess } from "./currentAccess";
export { virsh, isNoDomain, isNotRunning, type VirshOptions } from "./virsh";
export { targetForHost } from "./forHost";
export { sshTargets, knownHostsFiles } from "./sshTargets";
export { sweepStaleSshDirs, SSH_DIR_PREFIX } from "./sshDir";
