/**
 * Boots a guest image directly with qemu-system-x86_64 (no libvirt) for tests,
 * reads its serial console and talks to its QEMU guest agent over a unix
 * socket. The guest is always killed in t.teardown, also when the test fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecutionContext } from "ava";

/** How to boot the guest. */
export interface BootOptions {
    /** Kernel image path. Required. */
    kernel: string;
    /** Initramfs path. Required. */
    initrd: string;
    /** Guest name, passed as `nfvkit.name=` on the kernel command line. Required. */
    name: string;
    /** Guest memory in MiB. @default 256 (what the RT kernel plus the initramfs need under TCG) */
    memoryMiB?: number;
    /** Extra kernel command line words. @default '' */
    append?: string;
    /** Extra QEMU arguments. @default [] */
    qemuArgs?: string[];
}

/** Result of a command run in the guest through guest-exec. */
export interface GuestExecResult {
    /** Exit code, or null if the process was killed by a signal. */
    exitCode: number | null;
    stdout: string;
    stderr: string;
}

/** A running guest. */
export interface BootedGuest {
    /** Everything the guest printed on its serial console so far. */
    console(): string;
    /** Resolves with the first console match of `re` (searched in all output so far), or rejects after `timeoutMs`. */
    waitForConsole(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
    /** Milliseconds since QEMU was started. */
    elapsedMs(): number;
    /** The guest agent, connected on first use. */
    agent: GuestAgent;
    /** Resolves with how QEMU exited once it has, or rejects after `timeoutMs`. */
    waitForExit(timeoutMs: number): Promise<string>;
    /** Stops QEMU (also done by the test's teardown). */
    kill(): Promise<void>;
}

/** Starts QEMU under TCG with a virtio-serial port for the guest agent bound to a unix socket. */
export function bootGuest(t: ExecutionContext, opts: BootOptions): BootedGuest {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nfvkit-qemu-"));
    const agentSocket = path.join(dir, "qga.sock");
    const args = [
        "-accel",
        "tcg",
        "-m",
        String(opts.memoryMiB ?? 256),
        "-nographic",
        "-no-reboot",
        "-kernel",
        opts.kernel,
        "-initrd",
        opts.initrd,
        "-append",
        `console=ttyS0 nfvkit.name=${opts.name} ${opts.append ?? ""}`.trim(),
        "-chardev",
        `socket,path=${agentSocket},server=on,wait=off,id=qga0`,
        "-device",
        "virtio-serial",
        "-device",
        "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
        ...(opts.qemuArgs ?? []),
    ];
    const started = Date.now();
    const child: ChildProcess = spawn("qemu-system-x86_64", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let exited: string | undefined;
    const waiters = new Set<() => void>();
    const notify = () => waiters.forEach((w) => w());
    child.stdout!.on("data", (b: Buffer) => {
        output += b.toString("utf8");
        notify();
    });
    child.stderr!.on("data", (b: Buffer) => {
        output += b.toString("utf8");
        notify();
    });
    child.on("error", (e) => {
        exited = `qemu-system-x86_64 could not start: ${e.message} (install the qemu-system-x86 package)`;
        notify();
    });
    child.on("exit", (code, signal) => {
        exited = `QEMU exited (code ${code}, signal ${signal})`;
        notify();
    });

    const agent = new GuestAgent(agentSocket);
    const kill = async () => {
        agent.close();
        if (exited === undefined && child.exitCode === null) {
            const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
            child.kill("SIGKILL");
            await gone;
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    t.teardown(kill);

    return {
        console: () => output,
        elapsedMs: () => Date.now() - started,
        agent,
        kill,
        waitForExit(timeoutMs: number) {
            return waitFor<string>(
                () => (exited === undefined ? undefined : { value: exited }),
                timeoutMs,
                () => new Error(`QEMU still running after ${timeoutMs} ms; console tail:\n${output.slice(-2000)}`),
            );
        },
        waitForConsole(re: RegExp, timeoutMs: number) {
            return waitFor<RegExpExecArray>(
                () => {
                    const m = re.exec(output);
                    if (m) return { value: m };
                    if (exited !== undefined) return { error: new Error(`${exited} before the console showed ${re}; console tail:\n${output.slice(-3000)}`) };
                    return undefined;
                },
                timeoutMs,
                () => new Error(`console did not show ${re} within ${timeoutMs} ms; console tail:\n${output.slice(-3000)}`),
            );
        },
    };

    /** Settles when `poll` (run now and on every console change or exit) has an answer, or at the timeout. */
    function waitFor<T>(poll: () => { value: T } | { error: Error } | undefined, timeoutMs: number, timedOut: () => Error): Promise<T> {
        return new Promise((resolve, reject) => {
            const check = () => {
                const answer = poll();
                if (!answer) return;
                done();
                if ("error" in answer) reject(answer.error);
                else resolve(answer.value);
            };
            const timer = setTimeout(() => {
                done();
                reject(timedOut());
            }, timeoutMs);
            const done = () => {
                clearTimeout(timer);
                waiters.delete(check);
            };
            waiters.add(check);
            check();
        });
    }
}

/** A client for the QEMU guest agent's line-delimited JSON protocol. */
export class GuestAgent {
    private socket: net.Socket | undefined;
    private buffer = "";
    private lineWaiters: Array<(line: string) => void> = [];
    private lines: string[] = [];
    private syncId = Math.floor(Math.random() * 1e9);

    constructor(readonly socketPath: string) {}

    private async connect(): Promise<net.Socket> {
        if (this.socket) return this.socket;
        const socket = await new Promise<net.Socket>((resolve, reject) => {
            const s = net.createConnection(this.socketPath);
            s.once("connect", () => resolve(s));
            s.once("error", reject);
        });
        socket.setEncoding("utf8");
        socket.on("data", (chunk: string) => {
            this.buffer += chunk;
            let i: number;
            while ((i = this.buffer.indexOf("\n")) >= 0) {
                const line = this.buffer.slice(0, i).replace(/^\xff/, "").trim();
                this.buffer = this.buffer.slice(i + 1);
                if (line === "") continue;
                const w = this.lineWaiters.shift();
                if (w) w(line);
                else this.lines.push(line);
            }
        });
        this.socket = socket;
        return socket;
    }

    private nextLine(timeoutMs: number): Promise<string> {
        const queued = this.lines.shift();
        if (queued !== undefined) return Promise.resolve(queued);
        return new Promise((resolve, reject) => {
            const waiter = (line: string) => {
                clearTimeout(timer);
                resolve(line);
            };
            const timer = setTimeout(() => {
                this.lineWaiters = this.lineWaiters.filter((w) => w !== waiter);
                reject(new Error(`guest agent sent no reply within ${timeoutMs} ms`));
            }, timeoutMs);
            this.lineWaiters.push(waiter);
        });
    }

    /** Sends one command and returns its `return` value; an agent `error` becomes an exception. */
    async execute<T = unknown>(command: string, args?: Record<string, unknown>, timeoutMs = 30_000): Promise<T> {
        const socket = await this.connect();
        socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
        const reply = JSON.parse(await this.nextLine(timeoutMs)) as { return?: T; error?: { class: string; desc: string } };
        if (reply.error) throw new Error(`guest agent ${command} failed: ${reply.error.class}: ${reply.error.desc}`);
        return reply.return as T;
    }

    /** Sends a command that has no reply on success, such as guest-shutdown. */
    async send(command: string, args?: Record<string, unknown>): Promise<void> {
        const socket = await this.connect();
        socket.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
    }

    /**
     * guest-sync until the agent echoes our id, dropping stale replies: the
     * protocol's way to start talking on a channel that may hold old data.
     */
    async sync(timeoutMs = 30_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const id = ++this.syncId;
            try {
                const got = await this.execute<number>("guest-sync", { id }, Math.max(1, Math.min(3000, deadline - Date.now())));
                while (got !== id) {
                    const stale = JSON.parse(await this.nextLine(3000)) as { return?: unknown };
                    if (stale.return === id) return;
                }
                return;
            } catch (e) {
                if (Date.now() >= deadline) throw new Error(`guest agent did not answer guest-sync within ${timeoutMs} ms: ${(e as Error).message}`);
            }
        }
    }

    /** Runs a program in the guest with guest-exec and waits for it with guest-exec-status. */
    async exec(pathInGuest: string, args: string[] = [], timeoutMs = 60_000): Promise<GuestExecResult> {
        const { pid } = await this.execute<{ pid: number }>("guest-exec", { path: pathInGuest, arg: args, "capture-output": true });
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const st = await this.execute<{ exited: boolean; exitcode?: number; "out-data"?: string; "err-data"?: string }>("guest-exec-status", { pid });
            if (st.exited) {
                return {
                    exitCode: st.exitcode ?? null,
                    stdout: Buffer.from(st["out-data"] ?? "", "base64").toString("utf8"),
                    stderr: Buffer.from(st["err-data"] ?? "", "base64").toString("utf8"),
                };
            }
            if (Date.now() > deadline) throw new Error(`guest command ${pathInGuest} ${args.join(" ")} still running after ${timeoutMs} ms`);
            await new Promise((r) => setTimeout(r, 100));
        }
    }

    /** Runs a shell command line in the guest. */
    sh(command: string, timeoutMs?: number): Promise<GuestExecResult> {
        return this.exec("/bin/sh", ["-c", command], timeoutMs);
    }

    close(): void {
        this.socket?.destroy();
        this.socket = undefined;
    }
}
