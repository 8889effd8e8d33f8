/**
 * A real OpenSSH server for tests, in a network namespace of its own: a veth
 * pair joins it to this namespace on a private /30 (10.213.N.1 here, .2 in
 * there), so nothing outside the namespaces this helper creates is touched and
 * the system sshd is never involved. Host and client keys are generated per
 * test. t.teardown kills sshd and deletes the namespace and the files, also
 * when the test fails.
 */
import type { ExecutionContext } from "ava";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { OWN_ROOT_HOME } from "../../tools/lab/files";

const SSHD = "/usr/sbin/sshd";

/** True when this machine can run the helper: root, OpenSSH server and client, iproute2 with netns. */
export function sshdAvailable(): boolean {
    if (process.getuid?.() !== 0) return false;
    for (const bin of [SSHD, "ssh", "ssh-keygen", "ip"]) {
        try {
            execFileSync("sh", ["-c", 'command -v "$1"', "sh", bin], { stdio: "ignore" });
        } catch {
            return false;
        }
    }
    return true;
}

export interface TestSshd {
    /** The helper's own folder (the server's keys and the client's key file a user would have): not the kit's. */
    dir: string;
    /** Address sshd listens on (inside its namespace). */
    host: string;
    port: number;
    user: string;
    /** The client's private key text, as a stack secret would hold it. */
    privateKey: string;
    /** The pinned known_hosts line for host:port. */
    knownHosts: string;
    /** An address routed into the namespace that nothing answers: connections to it hang until ConnectTimeout. */
    silentAddress: string;
    /** A fresh ed25519 public key line that is not the server's ("ssh-ed25519 AAAA..."), to pin a wrong key. */
    otherHostKey: string;
    /** What sshd has logged so far. */
    log(): string;
    /** Logins sshd accepted: one per SSH handshake. */
    acceptedLogins(): number;
    /** TCP connections sshd took, logged in or not (counted only when started with `logLevel: "VERBOSE"`). */
    connections(): number;
}

export interface SshdOptions {
    /** sshd's LogLevel: VERBOSE also logs every connection, before any login. @default "INFO" */
    logLevel?: "INFO" | "VERBOSE";
}

/** Starts sshd in a new network namespace; everything it made is removed in t.teardown. */
export async function startSshd(t: ExecutionContext, options: SshdOptions = {}): Promise<TestSshd> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nfvkit-sshd-"));
    const tag = randomBytes(3).toString("hex");
    const ns = `nfvkit-sshd-${tag}`;
    const vethHere = `nfvs${tag}`;
    const vethThere = `nfvp${tag}`;
    let sshd: ChildProcess | undefined;
    let nsMade = false;
    let vethMade = false;
    t.teardown(async () => {
        if (sshd && sshd.exitCode === null && sshd.signalCode === null) {
            const gone = new Promise((resolve) => sshd!.once("exit", resolve));
            sshd.kill("SIGTERM");
            await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
            if (sshd.exitCode === null && sshd.signalCode === null) sshd.kill("SIGKILL");
        }
        // sshd's per-login processes outlive it while a client's shared connection
        // (ControlPersist) is open, and hold its log pipe, which would keep this test
        // process alive: end everything left in the namespace.
        if (nsMade) {
            const left = execFileSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).split(/\s+/).filter(Boolean);
            for (const pid of left) quietly(["kill", "-KILL", pid]);
        }
        sshd?.stderr?.destroy();
        // Deleting the namespace destroys the veth end inside it, and with it the pair.
        if (vethMade) quietly(["ip", "link", "del", vethHere]);
        if (nsMade) quietly(["ip", "netns", "del", ns]);
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const keygen = (file: string) => execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "nfvkit-test", "-f", file], { stdio: "ignore" });
    keygen(path.join(dir, "host_key"));
    keygen(path.join(dir, "client_key"));
    keygen(path.join(dir, "other_host_key"));
    fs.copyFileSync(path.join(dir, "client_key.pub"), path.join(dir, "authorized_keys"));

    const subnet = freeSubnet();
    const here = `10.213.${subnet}.1`;
    const there = `10.213.${subnet}.2`;
    const silent = `10.213.${subnet}.100`;
    ip(["netns", "add", ns]);
    nsMade = true;
    ip(["link", "add", vethHere, "type", "veth", "peer", "name", vethThere]);
    vethMade = true;
    ip(["link", "set", vethThere, "netns", ns]);
    ip(["addr", "add", `${here}/30`, "dev", vethHere]);
    ip(["link", "set", vethHere, "up"]);
    ip(["-n", ns, "addr", "add", `${there}/30`, "dev", vethThere]);
    ip(["-n", ns, "link", "set", vethThere, "up"]);
    ip(["-n", ns, "link", "set", "lo", "up"]);
    // Sent into the namespace, which does not forward: dropped without an answer, as a dead host's packets are.
    ip(["route", "add", `${silent}/32`, "via", there, "dev", vethHere]);

    const port = 2222;
    const config = [
        `ListenAddress ${there}:${port}`,
        `HostKey ${path.join(dir, "host_key")}`,
        `PidFile ${path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        // The temp dir sits in /tmp (mode 1777), which StrictModes would reject for the authorized_keys path.
        "StrictModes no",
        "UsePAM no",
        `LogLevel ${options.logLevel ?? "INFO"}`,
        "",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "sshd_config"), config);
    // sshd's privilege separation directory; Debian creates it only when its service starts.
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });

    let log = "";
    // In a mount namespace of its own with an empty home for root (OWN_ROOT_HOME says why). Each exec replaces the
    // last, so the process spawned is sshd itself.
    const ownHome = `${OWN_ROOT_HOME} && exec "$@"`;
    const inOwnMounts = ["unshare", "--mount", "--propagation", "private", "sh", "-c", ownHome, "sh"];
    const argv = ["netns", "exec", ns, ...inOwnMounts, SSHD, "-D", "-e", "-f", path.join(dir, "sshd_config")];
    sshd = spawn("ip", argv, { stdio: ["ignore", "ignore", "pipe"] });
    sshd.stderr!.on("data", (b: Buffer) => (log += b.toString("utf8")));
    await waitForPort(there, port, 5000, () => (sshd!.exitCode !== null ? `sshd exited (${sshd!.exitCode}): ${log}` : undefined));

    const hostPub = fs.readFileSync(path.join(dir, "host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" ");
    return {
        dir,
        host: there,
        port,
        user: "root",
        privateKey: fs.readFileSync(path.join(dir, "client_key"), "utf8"),
        knownHosts: `[${there}]:${port} ${hostPub}`,
        silentAddress: silent,
        otherHostKey: fs.readFileSync(path.join(dir, "other_host_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" "),
        log: () => log,
        acceptedLogins: () => (log.match(/Accepted publickey for /g) ?? []).length,
        connections: () => (log.match(/Connection from /g) ?? []).length,
    };
}

function ip(args: string[]): void {
    try {
        execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
        throw new Error(`ip ${args.join(" ")} failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? e}`);
    }
}

function quietly(argv: string[]): void {
    try {
        execFileSync(argv[0], argv.slice(1), { stdio: "ignore" });
    } catch {
        // Teardown goes on: the next step may still clean up what is left.
    }
}

/** A third octet for 10.213.N.0/24 that no interface of this namespace uses yet. */
function freeSubnet(): number {
    const used = execFileSync("ip", ["-o", "addr"], { encoding: "utf8" });
    for (let i = 0; i < 50; i++) {
        const n = 1 + Math.floor(Math.random() * 254);
        if (!used.includes(`10.213.${n}.`)) return n;
    }
    throw new Error("no free 10.213.N.0/24 subnet for the test sshd");
}

/** Resolves once host:port accepts TCP connections. */
async function waitForPort(host: string, port: number, timeoutMs: number, failed: () => string | undefined): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const why = failed();
        if (why) throw new Error(why);
        const open = await new Promise<boolean>((resolve) => {
            const s = net.connect({ host, port });
            s.once("connect", () => {
                s.destroy();
                resolve(true);
            });
            s.once("error", () => resolve(false));
        });
        if (open) return;
        if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${port} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
    }
}
