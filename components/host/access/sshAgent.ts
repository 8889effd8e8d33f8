/**
 * The ssh-agent ssh logs in with, so that no private key is ever a file
 * (OpenSSH's agent holds a key in memory, and no process needs the file).
 *
 * - A key from the stack (`privateKey`): a private agent per host and process,
 *   bound to a socket in the host's 0700 directory and fed the key through
 *   `ssh-add -` on stdin. It runs as `ssh-agent -a <socket> sh -c '...; cat'`:
 *   the agent checks every 10 s that the command it started is alive, and the
 *   `cat` reads a pipe only this process holds, so the agent ends with this
 *   process even when that is killed with SIGKILL. close() and the exit hooks
 *   kill it at once.
 * - `agent: true`: the running user's agent (SSH_AUTH_SOCK), for a person at
 *   a terminal. It is checked before ssh runs, so a missing or stopped agent is
 *   said in words, with the host and the fix, not as ssh's "Permission denied".
 */
import * as path from "node:path";
import { HostCommandError } from "./errors";
import { spawnArgv, startTied } from "./process";
import type { SshDir } from "./sshDir";
import type { ResolvedSshTarget } from "./target";

/** Prints the agent's pid (its first line) and then waits on the pipe this process holds; a constant script. */
const HOLD = 'echo "$SSH_AGENT_PID"; exec cat >/dev/null';

/** Starts the private agent of a host's directory and gives it the key; resolves with its socket. */
export async function startPrivateAgent(dir: SshDir, target: ResolvedSshTarget & { privateKey: string }): Promise<string> {
    const socket = dir.file("agent");
    const tied = await startTied(["ssh-agent", "-a", socket, "sh", "-c", HOLD], { timeoutMs: 10_000 });
    const pid = Number(tied.firstLine.trim());
    dir.recordAgent(Number.isInteger(pid) && pid > 0 ? pid : 0, tied.release);
    // The key goes in through a pipe and stays in the agent's memory. No prompt can be answered (a key
    // with a passphrase fails instead of waiting); ssh-add's words name "(stdin)", never the key.
    const argv = ["ssh-add", "-q", "-"];
    const added = await spawnArgv(argv, { input: target.privateKey, timeoutMs: 10_000, env: { SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: "never" } });
    if (added.exitCode !== 0) {
        const said = added.stderr
            .trim()
            .split("\n")
            .filter((l) => !/PRIVATE KEY/.test(l));
        throw new HostCommandError(
            target.name,
            argv,
            added.exitCode,
            "",
            "",
            "exit",
            `the private key for ${target.name} could not be given to the kit's ssh-agent (ssh-add: ${said.join("; ") || `exit code ${added.exitCode}`})`,
            { fix: "set the secret to an OpenSSH private key without a passphrase: pulumi config set --secret <name> < ~/.ssh/id_ed25519" },
        );
    }
    return socket;
}

/**
 * The socket of the running user's agent, checked: set, answering, and holding
 * at least one key. Throws a HostCommandError (failure "no-agent") naming the
 * host, what is wrong and what to do.
 */
export async function userAgentSocket(target: ResolvedSshTarget, env: NodeJS.ProcessEnv = process.env): Promise<string> {
    const socket = env.SSH_AUTH_SOCK ?? "";
    const missing = (why: string, fix = AGENT_FIX) =>
        new HostCommandError(
            target.name,
            ["ssh", `${target.user}@${target.host}`],
            null,
            "",
            "",
            "no-agent",
            `host ${target.name} is reached with the key in your ssh-agent (ssh.agent: true), but ${why}, so the kit cannot log in there`,
            { fix },
        );
    if (socket === "") throw missing("no ssh-agent is running for this command: SSH_AUTH_SOCK is not set");
    if (/[\0\n]/.test(socket)) throw missing("SSH_AUTH_SOCK does not hold a socket path");
    const listed = await spawnArgv(["ssh-add", "-l"], { timeoutMs: 10_000, env: { SSH_AUTH_SOCK: socket } });
    // ssh-add -l: 0 keys listed, 1 the agent holds no key, 2 no agent answers there.
    if (listed.exitCode === 1) {
        throw missing(`the ssh-agent at SSH_AUTH_SOCK=${socket} holds no key`, "add the key whose public half the host accepts: ssh-add ~/.ssh/id_ed25519");
    }
    if (listed.exitCode !== 0) throw missing(`no ssh-agent answers at SSH_AUTH_SOCK=${socket} (it has stopped, or belongs to another session)`);
    // Absolute: the caller links to it from another folder.
    return path.resolve(socket);
}

const AGENT_FIX =
    'start an agent and add your key in the shell you run from (eval "$(ssh-agent)"; ssh-add ~/.ssh/id_ed25519), then run the command again there; ' +
    "or give the host ssh.privateKeySecret (a secret stack config value holding the key), as CI does";
