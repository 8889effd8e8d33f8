/**
 * The emulated multi-host lab: `up`, `down` and `status`. Every command runs
 * through the kit's local HostAccess (zx), with argv arrays; the hosts are
 * entered with `nsenter -t <holder pid>` or reached over SSH with the kit's
 * own SshHostAccess, as the stack reaches them.
 */
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import {
    closeHostAccesses,
    commandFailure,
    hostAccess,
    HostCommandError,
    LocalHostAccess,
    type RunOptions,
    type RunResult,
} from "../../components/host/access";
import { problemError, ProblemListError, type SpecProblem } from "../../components/spec/problems";
import { INIT_SCRIPT, libvirtdConf, qemuConf, sshdConfig } from "./files";
import {
    HOST_SKELETON,
    hostLayout,
    LAB_BRIDGE,
    LAB_DEFAULT_HOSTS,
    LAB_NAMESPACE_PATTERN,
    LAB_STATE_DIR,
    LAB_SUBNET,
    labLayout,
    type LabHostLayout,
    type LabLayout,
} from "./layout";
import { type LabHostState, type LabState, labSshTargets, readLabState } from "./state";
import { namespaceLabKeys, writeStackConfig } from "./stackConfig";

export type Log = (line: string) => void;

const control = new LocalHostAccess("control");
/** libvirtd probes QEMU's capabilities on its first start (a few seconds under TCG); two hosts start at once on 2 cores. */
const READY_TIMEOUT_MS = 120_000;
const TOOLS = ["ip", "unshare", "nsenter", "setsid", "virtlogd", "libvirtd", "virsh", "/usr/sbin/sshd", "ssh", "ssh-keygen"];

/** A lab step's command: its failure is the kit's command-failure error, saying the step, the lab host it was for, and the fix. */
async function run(what: string, host: string | undefined, argv: readonly string[], fix: string, opts: RunOptions = {}): Promise<RunResult> {
    try {
        return await control.run(argv, opts);
    } catch (e) {
        if (e instanceof HostCommandError) throw e.withFix(fix, `lab: ${what}${host ? ` for ${host}` : ""}: ${e.reason}`);
        throw e;
    }
}

async function quietly(argv: readonly string[]): Promise<RunResult> {
    return control.run(argv, { nothrow: true, timeoutMs: 30_000 });
}

async function ourNamespaces(): Promise<string[]> {
    const out = await quietly(["ip", "netns", "list"]);
    // Lines are "name" or "name (id: 3)".
    return out.stdout
        .split("\n")
        .map((l) => l.split(" ")[0])
        .filter((n) => LAB_NAMESPACE_PATTERN.test(n));
}

async function linkExists(name: string): Promise<boolean> {
    return (await quietly(["ip", "link", "show", "dev", name])).exitCode === 0;
}

function alive(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function readPid(file: string): number | undefined {
    try {
        const n = Number(fs.readFileSync(file, "utf8").trim());
        return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
        return undefined;
    }
}

function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host, port, timeout: timeoutMs });
        s.once("connect", () => {
            s.destroy();
            resolve(true);
        });
        s.once("timeout", () => {
            s.destroy();
            resolve(false);
        });
        s.once("error", () => resolve(false));
    });
}

/** Runs argv inside a lab host (its mount, network and UTS namespaces), entered through its holder. */
export async function inHost(holder: number, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return control.run(["nsenter", "-t", String(holder), "-m", "-n", "-u", "--", ...argv], { nothrow: true, timeoutMs: 20_000, ...opts });
}

async function libvirtdAnswers(holder: number): Promise<boolean> {
    return (await inHost(holder, ["virsh", "-c", "qemu:///system", "uri"], { timeoutMs: 10_000 })).exitCode === 0;
}

async function hostPids(holder: number): Promise<LabHostState["pids"]> {
    const pid = async (file: string) => {
        const r = await inHost(holder, ["cat", file]);
        const n = Number(r.stdout.trim());
        return r.exitCode === 0 && Number.isInteger(n) && n > 0 ? n : undefined;
    };
    return { holder, virtlogd: await pid("/run/virtlogd.pid"), libvirtd: await pid("/run/libvirtd.pid"), sshd: await pid("/run/sshd.pid") };
}

async function checkPrerequisites(): Promise<void> {
    // What this machine lacks for a lab, all at once.
    const problems: SpecProblem[] = [];
    if (process.getuid?.() !== 0)
        problems.push({
            path: "user",
            value: process.getuid?.(),
            reason: "is not root: network and mount namespaces, daemons and bridges need it",
            fix: "sudo npm run lab -- up",
        });
    for (const tool of TOOLS) {
        const r = await quietly(["sh", "-c", 'command -v "$1"', "sh", tool]);
        if (r.exitCode !== 0) problems.push({ path: "PATH", value: tool, reason: "is not installed on this machine", fix: "sudo bash tools/setup-host.sh" });
    }
    if (problems.length > 0) throw new ProblemListError(problems, "this machine, for the lab");
}

/** Refuses to build over an address range something else already uses on this machine. */
async function checkSubnetFree(layout: LabLayout): Promise<void> {
    const addrs = (await run("listing addresses", undefined, ["ip", "-o", "-4", "addr", "show"], "check that iproute2 works: ip -o addr")).stdout;
    const foreign = addrs
        .split("\n")
        .filter((l) => l.includes(` ${LAB_SUBNET}.`))
        .filter((l) => l.split(/\s+/)[1] !== layout.bridge);
    if (foreign.length > 0) {
        throw problemError(
            "this machine, for the lab",
            `${LAB_SUBNET}.0/24`,
            foreign.map((l) => l.trim()).join("; "),
            "is already used here, and the lab's hosts take their addresses from it",
            "remove that address (or wait for the test that made it to end), then run npm run lab -- up again",
        );
    }
}

/** The host's folders, keys and config files, made afresh. */
async function writeHostFiles(host: LabHostLayout, layout: LabLayout, hostUuid: string): Promise<void> {
    fs.rmSync(host.dir, { recursive: true, force: true });
    fs.mkdirSync(host.dir, { recursive: true, mode: 0o755 });
    const qemuUser = Number(
        (await run("looking up libvirt-qemu", host.name, ["id", "-u", "libvirt-qemu"], "install libvirt: sudo bash tools/setup-host.sh")).stdout.trim(),
    );
    const qemuGroup = Number(
        (await run("looking up libvirt-qemu", host.name, ["id", "-g", "libvirt-qemu"], "install libvirt: sudo bash tools/setup-host.sh")).stdout.trim(),
    );
    for (const d of HOST_SKELETON) {
        const p = path.join(host.dir, d.path);
        fs.mkdirSync(p, { recursive: true });
        fs.chmodSync(p, d.mode);
        if (d.owner === "libvirt-qemu") fs.chownSync(p, qemuUser, qemuGroup);
    }
    // /etc/libvirt: the machine's settings, but none of its domains, networks or secrets (other people's), and our own host_uuid.
    const etc = path.join(host.dir, "etc-libvirt");
    fs.mkdirSync(path.join(etc, "qemu", "networks", "autostart"), { recursive: true });
    for (const f of fs.readdirSync("/etc/libvirt")) {
        const src = path.join("/etc/libvirt", f);
        if (f.endsWith(".conf") && fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(etc, f));
    }
    if (fs.existsSync("/etc/libvirt/nwfilter")) fs.cpSync("/etc/libvirt/nwfilter", path.join(etc, "nwfilter"), { recursive: true });
    fs.writeFileSync(path.join(etc, "libvirtd.conf"), libvirtdConf(readOr("/etc/libvirt/libvirtd.conf"), host, hostUuid));
    fs.writeFileSync(path.join(etc, "qemu.conf"), qemuConf(readOr("/etc/libvirt/qemu.conf"), host), { mode: 0o600 });

    await run(
        "making the host key",
        host.name,
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `nfvkit-lab ${host.name}`, "-f", host.ssh.hostKey],
        "check ssh-keygen works",
    );
    fs.copyFileSync(`${layout.clientKey}.pub`, host.ssh.authorizedKeys);
    fs.chmodSync(host.ssh.authorizedKeys, 0o600);
    fs.writeFileSync(host.ssh.config, sshdConfig(host), { mode: 0o600 });
    fs.writeFileSync(host.initScript, INIT_SCRIPT, { mode: 0o700 });
}

function readOr(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return "";
    }
}

function hostKeyLine(host: LabHostLayout): string {
    const [type, key] = fs.readFileSync(`${host.ssh.hostKey}.pub`, "utf8").trim().split(/\s+/);
    return `${host.address} ${type} ${key}`;
}

/** Network namespace, veth into the bridge, address; then the holder, which starts the daemons. */
async function startHost(host: LabHostLayout, layout: LabLayout, log: Log): Promise<number> {
    const fix = `see what is left with ip netns list and ip link, then npm run lab -- down and up again`;
    await run("creating the network namespace", host.name, ["ip", "netns", "add", host.namespace], fix);
    await run(
        "creating the veth pair",
        host.name,
        ["ip", "link", "add", host.vethOutside, "type", "veth", "peer", "name", host.vethInside, "netns", host.namespace],
        fix,
    );
    await run("joining the bridge", host.name, ["ip", "link", "set", host.vethOutside, "master", layout.bridge, "up"], fix);
    // A fixed MAC per host: a rebuilt host keeps its link address, so the neighbour caches of the control side and the other hosts stay right
    // (with a new random one, connections to a rebuilt host stall until the old entry expires, about 30 s).
    await run("setting the host's MAC address", host.name, ["ip", "-n", host.namespace, "link", "set", host.vethInside, "address", host.mac], fix);
    await run(
        "setting the host's address",
        host.name,
        ["ip", "-n", host.namespace, "addr", "add", `${host.address}/${layout.prefixLength}`, "dev", host.vethInside],
        fix,
    );
    await run("bringing up eth0", host.name, ["ip", "-n", host.namespace, "link", "set", host.vethInside, "up"], fix);
    await run("bringing up lo", host.name, ["ip", "-n", host.namespace, "link", "set", "lo", "up"], fix);

    const binds = host.binds.flatMap((b) => [b.source, b.target]);
    // setsid -f: the holder outlives this process; its own first line sends its output to holder.log, so we do not wait on it.
    const holderArgv = [
        "setsid",
        "-f",
        "ip",
        "netns",
        "exec",
        host.namespace,
        "unshare",
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "sh",
        host.initScript,
        host.name,
        host.holderPid,
        host.holderLog,
        host.ssh.config,
        host.ssh.log,
        ...binds,
    ];
    await run("starting the host's holder", host.name, holderArgv, fix);

    const started = Date.now();
    let lastSaid = started;
    for (;;) {
        const holder = readPid(host.holderPid);
        const logText = readOr(host.holderLog);
        const failed = (holder !== undefined && !alive(holder)) || (holder === undefined && Date.now() - started > 10_000);
        if (failed) {
            const libvirtdLog = readOr(path.join(host.dir, "log-libvirt", "libvirtd.log"))
                .split("\n")
                .slice(-5)
                .join("\n");
            throw new HostCommandError(
                host.name,
                holderArgv,
                null,
                "",
                `${logText}${libvirtdLog}`,
                "exit",
                `lab: the holder stopped; its log is ${host.holderLog}`,
                {
                    fix: "read the log above (a missing tool: sudo bash tools/setup-host.sh), then npm run lab -- down and up again",
                },
            );
        }
        if (holder !== undefined && logText.includes(" started") && (await libvirtdAnswers(holder)) && (await tcpOpen(host.address, 22))) {
            log(`  ${host.name}: libvirtd and sshd answer (${((Date.now() - started) / 1000).toFixed(1)} s)`);
            return holder;
        }
        if (Date.now() - started > READY_TIMEOUT_MS) {
            const ask = ["virsh", "-c", "qemu:///system", "uri"];
            throw new HostCommandError(
                host.name,
                ask,
                null,
                "",
                logText,
                "timeout",
                `lab: libvirtd and sshd did not answer within ${READY_TIMEOUT_MS / 1000} s`,
                {
                    fix: `look inside: ip netns exec ${host.namespace} ss -ltnp; ${path.join(host.dir, "log-libvirt", "libvirtd.log")}; ${host.ssh.log}`,
                },
            );
        }
        if (Date.now() - lastSaid >= 5000) {
            lastSaid = Date.now();
            const last = logText.trim().split("\n").pop() ?? "";
            log(`  ${host.name}: waiting for libvirtd and sshd (${Math.round((Date.now() - started) / 1000)} s; ${last.replace(/^\S+ /, "")})`);
        }
        await new Promise((r) => setTimeout(r, 300));
    }
}

/** True when the recorded host still runs whole: its namespace, its holder, libvirtd and sshd. */
async function hostRuns(host: LabHostLayout, recorded: LabHostState | undefined, namespaces: string[]): Promise<boolean> {
    if (!recorded || !namespaces.includes(host.namespace) || !alive(recorded.pids.holder)) return false;
    return (await libvirtdAnswers(recorded.pids.holder)) && (await tcpOpen(host.address, 22));
}

/** Stops every process in a host's network namespace (holder, daemons, QEMU, ssh sessions) and removes the namespace. */
async function removeHost(namespace: string, log: Log): Promise<void> {
    const pidsOf = async () =>
        (await quietly(["ip", "netns", "pids", namespace])).stdout
            .split("\n")
            .map((l) => Number(l.trim()))
            .filter((n) => Number.isInteger(n) && n > 0);
    const found = await pidsOf();
    if (found.length > 0) {
        log(`  ${namespace}: stopping ${found.length} process${found.length === 1 ? "" : "es"} (guests, libvirtd, virtlogd, sshd, holder)`);
        // Everything in a namespace the lab made is the lab's: nothing else enters it.
        for (const p of found) signal(p, "SIGTERM");
        // A process leaves the namespace's list as it starts to exit, before it is gone: wait for the processes themselves.
        const left = async () => [...new Set([...found, ...(await pidsOf())])].filter(running);
        const deadline = Date.now() + 10_000;
        let pids: number[];
        while ((pids = await left()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
        if (pids.length > 0) log(`  ${namespace}: still running after 10 s: ${pids.map((p) => `${p} (${commOf(p)})`).join(", ")}; killing`);
        for (const p of pids) signal(p, "SIGKILL");
        const killDeadline = Date.now() + 5000;
        while ((pids = await left()).length > 0 && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 100));
        if (pids.length > 0) {
            throw new HostCommandError(
                "control",
                ["kill", "-KILL", ...pids.map(String)],
                null,
                "",
                "",
                "timeout",
                `lab: ${namespace}'s processes ${pids.join(", ")} still run 5 s after SIGKILL`,
                { fix: `see what they wait for: ps -o pid,stat,wchan,args -p ${pids.join(",")}; then npm run lab -- down again` },
            );
        }
    }
    const del = await quietly(["ip", "netns", "del", namespace]);
    if (del.exitCode !== 0) {
        throw commandFailure("control", ["ip", "netns", "del", namespace], del).withFix(
            `see what still runs in it: ip netns pids ${namespace}; stop those, then npm run lab -- down again`,
        );
    }
    log(`  ${namespace}: removed`);
}

/** True while the process exists and has not finished exiting (a zombie only waits to be reaped). */
export function running(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        // The state letter follows the command name, which is in parentheses and may hold spaces.
        const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
        return state !== "Z" && state !== "X";
    } catch {
        return false;
    }
}

function commOf(pid: number): string {
    try {
        return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {
        return "gone";
    }
}

function signal(pid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(pid, sig);
    } catch {
        // Already gone.
    }
}

export interface UpOptions {
    hosts?: number;
    stateDir?: string;
    log?: Log;
}

/** Brings the lab up, or says what already runs; a host left half-made by an earlier run is rebuilt. */
export async function labUp(opts: UpOptions = {}): Promise<LabState> {
    const log = opts.log ?? console.log;
    const stateDir = opts.stateDir ?? LAB_STATE_DIR;
    const before = readLabState(stateDir);
    const count = opts.hosts ?? before?.hosts.length ?? LAB_DEFAULT_HOSTS;
    if (before && before.hosts.length !== count) {
        throw problemError(
            "npm run lab arguments",
            "--hosts",
            count,
            `asks for ${count} hosts while the lab runs ${before.hosts.length}: a running lab is not resized`,
            `take the lab down first: npm run lab -- down && npm run lab -- up --hosts ${count}`,
        );
    }
    const layout = labLayout(count, stateDir);
    await checkPrerequisites();
    const t0 = Date.now();
    const namespaces = await ourNamespaces();

    // Keep what runs whole; rebuild the rest.
    const keep = new Map<string, LabHostState>();
    for (const host of layout.hosts) {
        const recorded = before?.hosts.find((h) => h.name === host.name);
        if (await hostRuns(host, recorded, namespaces)) keep.set(host.name, recorded!);
    }
    if (before && keep.size === count && (await linkExists(layout.bridge))) {
        log(`lab: already up since ${before.createdAt}: ${before.hosts.map((h) => `${h.name} ${h.address}`).join(", ")}; nothing to do`);
        await writeStackConfig(namespaceLabKeys(layout, before), log);
        return before;
    }
    if (!(await linkExists(layout.bridge))) await checkSubnetFree(layout);

    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(stateDir, 0o700);
    if (!fs.existsSync(layout.clientKey)) {
        log(`lab: generating the lab's SSH key (${layout.clientKey})`);
        await run(
            "generating the lab key",
            undefined,
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nfvkit-lab", "-f", layout.clientKey],
            "check ssh-keygen works",
        );
    }
    if (!(await linkExists(layout.bridge))) {
        log(`lab: bridge ${layout.bridge} ${layout.controlAddress}/${layout.prefixLength}`);
        const fix = `remove what is left with npm run lab -- down, then up again`;
        await run("creating the bridge", undefined, ["ip", "link", "add", layout.bridge, "type", "bridge"], fix);
        await run("addressing the bridge", undefined, ["ip", "addr", "add", `${layout.controlAddress}/${layout.prefixLength}`, "dev", layout.bridge], fix);
        await run("bringing up the bridge", undefined, ["ip", "link", "set", layout.bridge, "up"], fix);
    } else {
        log(`lab: bridge ${layout.bridge} exists`);
    }

    const hosts: LabHostState[] = [];
    // One at a time: each libvirtd probes QEMU at its first start, and the machine has few cores.
    for (const host of layout.hosts) {
        const kept = keep.get(host.name);
        if (kept) {
            log(`lab: ${host.name} runs (holder ${kept.pids.holder}), kept`);
            hosts.push(kept);
            continue;
        }
        if (namespaces.includes(host.namespace) || fs.existsSync(host.dir)) {
            log(`lab: ${host.name} is incomplete (an earlier up stopped, or a daemon died); rebuilding it`);
            if (namespaces.includes(host.namespace)) await removeHost(host.namespace, log);
        }
        if (await linkExists(host.vethOutside)) await quietly(["ip", "link", "del", host.vethOutside]);
        log(`lab: ${host.name} ${host.address} (namespace ${host.namespace}): starting virtlogd, libvirtd, sshd`);
        const hostUuid = randomUUID();
        await writeHostFiles(host, layout, hostUuid);
        const holder = await startHost(host, layout, log);
        hosts.push({
            name: host.name,
            namespace: host.namespace,
            address: host.address,
            port: 22,
            user: "root",
            hostUuid,
            knownHosts: hostKeyLine(host),
            pids: await hostPids(holder),
            dir: host.dir,
        });
    }

    const state: LabState = {
        version: 1,
        createdAt: before?.createdAt ?? new Date(t0).toISOString(),
        upSeconds: Math.round((Date.now() - t0) / 100) / 10,
        bridge: layout.bridge,
        controlAddress: layout.controlAddress,
        prefixLength: layout.prefixLength,
        clientKey: layout.clientKey,
        clientPublicKey: fs.readFileSync(`${layout.clientKey}.pub`, "utf8").trim(),
        knownHostsFile: layout.knownHosts,
        stackConfig: layout.stackConfig,
        hosts,
    };
    fs.writeFileSync(layout.knownHosts, hosts.map((h) => h.knownHosts).join("\n") + "\n");
    fs.writeFileSync(layout.stateFile, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
    log(`lab: up in ${state.upSeconds} s (${hosts.length} hosts); state in ${layout.stateFile}`);
    await writeStackConfig(namespaceLabKeys(layout, state), log);
    for (const h of hosts) log(`  ${h.name}: ssh -i ${layout.clientKey} -o UserKnownHostsFile=${layout.knownHosts} root@${h.address}`);
    return state;
}

export interface DownOptions {
    stateDir?: string;
    log?: Log;
}

/** Removes everything the lab made, whatever state it is in: namespaces (and every process in them), veths, the bridge, the state folder. */
export async function labDown(opts: DownOptions = {}): Promise<void> {
    const log = opts.log ?? console.log;
    const stateDir = opts.stateDir ?? LAB_STATE_DIR;
    const t0 = Date.now();
    const state = readLabState(stateDir);
    const namespaces = new Set(await ourNamespaces());
    for (const h of state?.hosts ?? []) {
        if (namespaces.has(h.namespace)) continue;
        // A recorded holder whose namespace is already gone still holds its mounts: stop it.
        if (alive(h.pids.holder)) signal(h.pids.holder, "SIGKILL");
    }
    if (namespaces.size === 0 && !state && !(await linkExists(LAB_BRIDGE)) && !fs.existsSync(stateDir)) {
        log("lab: nothing to take down");
        return;
    }
    warnAboutReservations(stateDir, log);
    for (const ns of [...namespaces].sort()) await removeHost(ns, log);
    // veths whose namespace never got them (an up that stopped between the two steps).
    const links = (await quietly(["ip", "-o", "link", "show"])).stdout;
    for (const m of links.matchAll(/^\d+:\s+(nfvkit-lab\d+v)[@:]/gm)) await quietly(["ip", "link", "del", m[1]]);
    if (await linkExists(LAB_BRIDGE)) {
        await run("removing the bridge", undefined, ["ip", "link", "del", LAB_BRIDGE], `remove it by hand: ip link del ${LAB_BRIDGE}`);
        log(`  bridge ${LAB_BRIDGE}: removed`);
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
    log(`lab: down in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${stateDir} removed`);
}

/** Hugepages a lab host reserved come from the machine's one pool: taking the host away does not give them back. */
function warnAboutReservations(stateDir: string, log: Log): void {
    const hostsDir = path.join(stateDir, "hosts");
    if (!fs.existsSync(hostsDir)) return;
    for (const name of fs.readdirSync(hostsDir)) {
        const ledger = path.join(hostsDir, name, "lib-nfvkit", "ledger", "hugepages");
        const entries = fs.existsSync(ledger) ? fs.readdirSync(ledger) : [];
        if (entries.length > 0) {
            log(
                `  ${name}: its ledger holds ${entries.length} hugepage reservation(s) of a stack that was not taken down; the machine's pool keeps them (npm run down -- --stack lab first, or lower /sys/kernel/mm/hugepages/*/nr_hugepages by hand)`,
            );
        }
    }
}

export interface HostStatus {
    name: string;
    address: string;
    namespace: boolean;
    holder: boolean;
    libvirtd: boolean;
    sshd: boolean;
    /** libvirt answered over SSH through the kit's pinned, shared connection. */
    overSsh: boolean;
    domains?: string[];
}

/** What runs and whether each host's libvirtd and sshd answer. Returns the statuses (empty when there is no lab). */
export async function labStatus(opts: { stateDir?: string; log?: Log } = {}): Promise<{ state?: LabState; hosts: HostStatus[]; leftovers: string[] }> {
    const log = opts.log ?? console.log;
    const state = readLabState(opts.stateDir ?? LAB_STATE_DIR);
    const namespaces = await ourNamespaces();
    const leftovers = [...namespaces.filter((ns) => !state?.hosts.some((h) => h.namespace === ns))];
    if (!state) {
        log(namespaces.length > 0 ? `lab: no state file, but namespaces are left: ${namespaces.join(", ")} (npm run lab -- down removes them)` : "lab: not up");
        return { hosts: [], leftovers };
    }
    log(`lab: ${state.hosts.length} hosts, up since ${state.createdAt} (up took ${state.upSeconds} s)`);
    log(`  bridge ${state.bridge} ${state.controlAddress}/${state.prefixLength}: ${(await linkExists(state.bridge)) ? "present" : "MISSING"}`);
    log(`  key ${state.clientKey}; pinned host keys ${state.knownHostsFile}; stack config ${state.stackConfig}`);
    const targets = labSshTargets(state);
    const hosts: HostStatus[] = [];
    for (const [i, h] of state.hosts.entries()) {
        const holder = alive(h.pids.holder);
        const libvirtd = holder && (await libvirtdAnswers(h.pids.holder));
        const sshd = await tcpOpen(h.address, h.port);
        let overSsh = false;
        let domains: string[] | undefined;
        if (sshd) {
            const r = await hostAccess(targets[i])
                .run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"], { nothrow: true, timeoutMs: 20_000 })
                .catch(() => undefined);
            overSsh = r?.exitCode === 0;
            domains = overSsh ? r!.stdout.split("\n").filter((l) => l.trim() !== "") : undefined;
        }
        const status: HostStatus = { name: h.name, address: h.address, namespace: namespaces.includes(h.namespace), holder, libvirtd, sshd, overSsh, domains };
        hosts.push(status);
        const word = (ok: boolean) => (ok ? "answers" : "DOES NOT ANSWER");
        log(
            `  ${h.name} ${h.address} ns ${h.namespace}${status.namespace ? "" : " MISSING"}: holder ${h.pids.holder} ${holder ? "alive" : "GONE"}, ` +
                `libvirtd ${h.pids.libvirtd ?? "?"} ${word(libvirtd)}, sshd ${h.pids.sshd ?? "?"} ${word(sshd)}, ` +
                `libvirt over SSH ${word(overSsh)}${domains ? `, domains: ${domains.length === 0 ? "none" : domains.join(" ")}` : ""}; host_uuid ${h.hostUuid}`,
        );
    }
    await closeHostAccesses();
    if (leftovers.length > 0) log(`  namespaces not in the state: ${leftovers.join(", ")}`);
    return { state, hosts, leftovers };
}

export { hostLayout };
