/**
 * Talks to the QEMU guest agent inside a guest through libvirt
 * (`virsh qemu-agent-command`), so commands reach guests on any host without
 * guest networking. The kit uses it to know a guest is up and to run probes
 * inside it. Each call names the guest's host by its HostAccess, which owns
 * the host's libvirt: no caller builds a URI.
 */
import { commandFailure, HostCommandError, isNotRunning, type HostAccess } from "../host/access";
import { pauseBeforeNextAsk } from "./waitCadence";

/** What the agent needs of a host: its name for messages, and virsh on its libvirt. */
export type AgentHost = Pick<HostAccess, "name" | "virsh">;

/** What a command run in a guest returned. */
export interface GuestExecResult {
    exitCode: number;
    stdout: string;
    stderr: string;
    /** True when the agent truncated the captured output. */
    truncated: boolean;
}

/** Sends one agent command and returns its `return` member. */
export async function agentCommand<T = unknown>(host: AgentHost, domain: string, command: string, args?: Record<string, unknown>, timeoutSec = 10): Promise<T> {
    const payload = JSON.stringify(args ? { execute: command, arguments: args } : { execute: command });
    const out = await host.virsh(agentArgs(domain, payload, timeoutSec), { timeoutMs: (timeoutSec + 20) * 1000 });
    return (JSON.parse(out) as { return: T }).return;
}

/** The agent's answer to guest-exec-status. */
interface ExecStatus {
    exited: boolean;
    exitcode?: number;
    signal?: number;
    "out-data"?: string;
    "err-data"?: string;
    "out-truncated"?: boolean;
    "err-truncated"?: boolean;
}

/** virsh's arguments for one agent command. */
function agentArgs(domain: string, payload: string, timeoutSec: number): string[] {
    return ["qemu-agent-command", domain, "--timeout", String(timeoutSec), payload];
}

/**
 * Resolves once the agent answers guest-ping; rejects after `timeoutMs` (a
 * HostCommandError of the ping, `failure: "timeout"`), or at once with
 * libvirt's error when the domain is not running.
 */
export async function waitForAgent(host: AgentHost, domain: string, timeoutMs: number): Promise<number> {
    const start = Date.now();
    let last: unknown;
    while (Date.now() - start < timeoutMs) {
        try {
            await agentCommand(host, domain, "guest-ping", undefined, 2);
            return Date.now() - start;
        } catch (err) {
            // A stopped guest will not answer however long we ask: say so now.
            if (isNotRunning(err)) throw err;
            last = err;
            await sleep(pauseBeforeNextAsk(Date.now() - start, 500));
        }
    }
    const why = last instanceof HostCommandError ? last.stderr.trim() : String(last ?? "");
    const ping = ["virsh", ...agentArgs(domain, JSON.stringify({ execute: "guest-ping" }), 2)];
    throw new HostCommandError(
        host.name,
        ping,
        null,
        "",
        why,
        "timeout",
        `the guest agent in ${domain} did not answer within ${Math.round(timeoutMs / 1000)} s`,
    );
}

/**
 * Runs `path args...` in the guest and waits for it to exit.
 * @param timeoutMs how long the command may run; the agent is polled until then.
 */
export async function guestExec(host: AgentHost, domain: string, path: string, args: string[], timeoutMs: number): Promise<GuestExecResult> {
    const { pid } = await agentCommand<{ pid: number }>(host, domain, "guest-exec", {
        path,
        arg: args,
        "capture-output": true,
    });
    const start = Date.now();
    for (;;) {
        // A busy real-time workload can keep the agent from answering for a while;
        // that is not the command failing, so keep asking until the deadline.
        const status = await agentCommand<ExecStatus>(host, domain, "guest-exec-status", { pid }).catch((err: unknown) => {
            if (err instanceof HostCommandError && /timed out|not responding/i.test(err.stderr) && Date.now() - start < timeoutMs) {
                return { exited: false } as ExecStatus;
            }
            throw err;
        });
        if (status.exited) {
            return {
                exitCode: status.exitcode ?? 128 + (status.signal ?? 0),
                stdout: Buffer.from(status["out-data"] ?? "", "base64").toString("utf8"),
                stderr: Buffer.from(status["err-data"] ?? "", "base64").toString("utf8"),
                truncated: Boolean(status["out-truncated"] || status["err-truncated"]),
            };
        }
        if (Date.now() - start > timeoutMs) {
            throw new HostCommandError(`guest ${domain}`, [path, ...args], null, "", "", "timeout", `still running after ${Math.round(timeoutMs / 1000)} s`);
        }
        await sleep(Math.min(1000, 100 + (Date.now() - start) / 10));
    }
}

/** Runs a shell command line in the guest (busybox sh). */
export function guestShell(host: AgentHost, domain: string, script: string, timeoutMs = 60_000): Promise<GuestExecResult> {
    return guestExec(host, domain, "/bin/sh", ["-c", script], timeoutMs);
}

/**
 * A command in a guest that failed, as the kit's one command-failure error:
 * the guest as the host it ran on, the argv, the exit code and what it
 * printed; `what` says what it was for ("the packet stream did not start").
 */
export function guestCommandFailure(
    domain: string,
    argv: readonly string[],
    r: Pick<GuestExecResult, "stdout" | "stderr"> & { exitCode: number | null },
    what?: string,
): HostCommandError {
    const failed = commandFailure(`guest ${domain}`, argv, r);
    return what === undefined
        ? failed
        : new HostCommandError(failed.host, failed.argv, failed.exitCode, failed.stdout, failed.stderr, failed.failure, `${what} (${failed.reason})`);
}

function sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
}
