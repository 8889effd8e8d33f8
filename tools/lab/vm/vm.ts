/**
 * Runs the emulated lab VM host: QEMU under TCG with an emulated IOMMU and an
 * igb NIC (an SR-IOV PF with 7 VFs), booting through its own GRUB from a
 * qcow2 overlay on the cached image, reached over SSH through QEMU user
 * networking (a forwarded port on 127.0.0.1). State (overlay, console log,
 * pid) lives in /var/lib/nfvkit-vmlab/<name>, apart from the namespace lab's
 * /var/lib/nfvkit-lab.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { hostAccess, HostCommandError, type SshTarget } from "../../../components/host/access";
import { problemError } from "../../../components/spec/problems";
import { vmImage, type VmImage } from "./image";
import { watchBoots, type BootWatch } from "./bootWatch";
import { qmp } from "./qmp";

export const VMLAB_STATE_DIR = "/var/lib/nfvkit-vmlab";
/** The lab VM's SSH port on this machine's loopback; fixed, so the lab-rt stack file can name it. */
export const VMLAB_SSH_PORT = 22022;
/** The VM's name prefix; QEMU's process carries it (-name), so it is found by its pid file, never by a pattern. */
export const VMLAB_NAME_PREFIX = "nfvkit-vmlab";

/**
 * What the VM is given. 2 vCPUs: housekeeping 0 and isolated 1, for the nested guest's one RT vCPU (stacks/Pulumi.lab-rt.yaml).
 * Not 4: on this project's 2-core machines a VM with more vCPUs than cores waits, in every IPI and every CPU's bring-up, for
 * a vCPU thread the host is not running; beside two busy loops the lab-rt test took 754 s with 4 and 607 s with 2 (its nested
 * guest's boot 239 and 167 s), idle 383 and 379 s (docs/rt-hosts.md). 2 GiB for the RT kernel plus a small nested guest.
 */
export interface VmOptions {
    /** @default "nfvkit-vmlab-1" */
    name?: string;
    /** @default 2 */
    cpus?: number;
    /** @default 2048 */
    memoryMiB?: number;
    /** Host port on 127.0.0.1 forwarded to the VM's sshd. @default 22022 (VMLAB_SSH_PORT): stacks/Pulumi.lab-rt.yaml names it */
    sshPort?: number;
    /** Seconds to wait for SSH after start. @default 600: a TCG boot on a loaded 2-core machine */
    bootTimeoutSec?: number;
}

export interface VmState {
    name: string;
    dir: string;
    pid: number;
    sshPort: number;
    console: string;
    /** QEMU's QMP socket. */
    qmpSocket: string;
    /** QEMU's arguments, for a power cycle on the same disk. */
    args: string[];
    image: string;
    /** Seconds from QEMU start to the first SSH login. */
    bootSeconds: number;
}

export interface RunningVm extends VmState {
    /** The SSH target for the kit's HostAccess, with the pinned host key. */
    target: SshTarget;
    imageInfo: VmImage;
    /** The watch that power-cycles a stalled boot (bootWatch.ts), for as long as this process runs or until vmDown. */
    bootWatch: BootWatch;
}

/** The boot watches this process runs, by VM name: vmDown stops its VM's. */
const watches = new Map<string, BootWatch>();

/** This process's watch on the VM's boots, started on first use. */
function bootWatchOf(s: VmState): BootWatch {
    let watch = watches.get(s.name);
    if (!watch) {
        watch = watchBoots({
            console: s.console,
            onStall: async () => {
                const pid = await powerCycle(s.name);
                log(`${s.name}: powered on again, QEMU pid ${pid}`);
            },
            qemuGone: () => {
                // Torn down (vmDown removes the folder): nothing to power on.
                if (!fs.existsSync(stateFile(s.name))) return false;
                const pid = qemuPidIn(s.dir);
                return pid > 0 && !alive(pid);
            },
            log: (line) => log(`${s.name}: ${line}`),
        });
        watches.set(s.name, watch);
    }
    return watch;
}

/**
 * Turns the VM off and on again, on the same disk: QEMU is asked to quit
 * through its monitor (which writes back what it holds of the disk; killed,
 * it could lose the overlay's metadata, the disk running with cache=unsafe),
 * then started with the same arguments. Returns the new QEMU's pid.
 */
export async function powerCycle(name: string): Promise<number> {
    const s = JSON.parse(fs.readFileSync(stateFile(name), "utf8")) as VmState;
    // A QEMU that has exited by itself is only started again.
    await stopQemu(qemuPidIn(s.dir), (pid) => qmp(s.qmpSocket, "quit").catch(() => (alive(pid) ? process.kill(pid, "SIGTERM") : undefined)), 60_000);
    await hostAccess().run(["qemu-system-x86_64", ...s.args]);
    const again = qemuPidIn(s.dir);
    fs.writeFileSync(stateFile(name), JSON.stringify({ ...s, pid: again }, null, 2));
    return again;
}

function log(msg: string): void {
    process.stderr.write(`[nfvkit vmlab] ${msg}\n`);
}

async function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.once("error", () => resolve(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
}

/** The last lines of a console log, for an error ("" when it cannot be read). */
function consoleTail(file: string, lines = 8): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "";
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** The pid in a VM folder's QEMU pid file, or 0 when there is none. */
function qemuPidIn(dir: string): number {
    try {
        return Number(fs.readFileSync(path.join(dir, "qemu.pid"), "utf8").trim()) || 0;
    } catch {
        return 0;
    }
}

/**
 * Stops QEMU `pid` when it runs: `ask` asks it to go, it gets `waitMs` to do so, then SIGKILL. Whether it was
 * running.
 */
async function stopQemu(pid: number, ask: (pid: number) => unknown, waitMs: number): Promise<boolean> {
    if (pid <= 0 || !alive(pid)) return false;
    await ask(pid);
    for (let waited = 0; waited < waitMs && alive(pid); waited += 100) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, "SIGKILL");
    return true;
}

/** The QEMU argv, as data so docs and tests can show it. */
export function qemuArgs(o: {
    name: string;
    cpus: number;
    memoryMiB: number;
    sshPort: number;
    disk: string;
    console: string;
    pidFile: string;
    qmpSocket: string;
}): string[] {
    return [
        "-name",
        o.name,
        // q35 for PCIe (SR-IOV needs extended config space); the split irqchip lets intel-iommu remap interrupts.
        // No SVM or VMX: TCG emulates SVM, and the stock kernel then offered KVM on top of it while the RT kernel
        // did not (its kvm_amd refuses to load: "RT requires X86_FEATURE_CONSTANT_TSC", which TCG does not offer,
        // +invtsc included), so the host's facts changed across the kit's reboot and a guest planned for KVM failed
        // to define. A lab host that is TCG all through says so and stays so.
        ...["-machine", "q35,kernel-irqchip=split", "-accel", "tcg", "-cpu", "max,-svm,-vmx"],
        ...["-smp", String(o.cpus), "-m", String(o.memoryMiB)],
        // The emulated IOMMU: VFs bound to vfio-pci need one; caching-mode lets a nested VFIO user map through it.
        ...["-device", "intel-iommu,intremap=on,caching-mode=on,aw-bits=48"],
        ...["-drive", `file=${o.disk},format=qcow2,if=virtio,cache=unsafe`],
        // Management NIC: SSH through a forwarded port on this machine's loopback only.
        ...["-netdev", `user,id=mgmt,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22`, "-device", "virtio-net-pci,netdev=mgmt,addr=0x4"],
        // The SR-IOV PF: QEMU's igb (82576) offers 7 VFs. Its own user network stays closed to the outside.
        // Slot 3 fixed: the PF is enp0s3 and its VFs 0000:00:13.0, .2, .4, ... on every boot (the stack file names them).
        ...["-netdev", "user,id=sriov,restrict=on", "-device", "igb,netdev=sriov,addr=0x3"],
        // The console is appended to, so a power cycle (powerCycle below) keeps the stalled boot's lines.
        ...["-display", "none", "-chardev", `file,id=console,path=${o.console},append=on`, "-serial", "chardev:console"],
        ...["-daemonize", "-pidfile", o.pidFile],
        // The monitor, for the power cycle of a stalled boot (bootWatch.ts): root-only, like the state folder.
        ...["-qmp", `unix:${o.qmpSocket},server=on,wait=off`],
    ];
}

function stateFile(name: string): string {
    return path.join(VMLAB_STATE_DIR, name, "state.json");
}

/** The running VM's record, or undefined when it is not running. */
export function vmState(name = `${VMLAB_NAME_PREFIX}-1`): VmState | undefined {
    try {
        const s = JSON.parse(fs.readFileSync(stateFile(name), "utf8")) as VmState;
        return alive(s.pid) ? s : undefined;
    } catch {
        return undefined;
    }
}

export function sshTargetOf(s: VmState, img: VmImage, hostName = "lab-rt-1"): SshTarget {
    return {
        kind: "ssh",
        name: hostName,
        host: "127.0.0.1",
        port: s.sshPort,
        user: "root",
        privateKey: fs.readFileSync(img.clientKey, "utf8"),
        knownHosts: img.hostKeyPub,
        connectTimeoutSec: 20,
    };
}

/**
 * Whether QEMU is gone for good. A pid given as a function is read again for
 * up to 10 s: a power cycle (powerCycle) stops one QEMU and starts another,
 * whose pid the pid file then has.
 */
async function qemuGone(pid: number | (() => number)): Promise<boolean> {
    if (typeof pid === "number") return !alive(pid);
    for (let i = 0; i < 10; i++) {
        const now = pid();
        if (now > 0 && alive(now)) return false;
        await new Promise((r) => setTimeout(r, 1000));
    }
    return true;
}

/** Waits until the VM answers over SSH (a reboot included); returns the seconds it took. */
export async function waitForSsh(
    target: SshTarget,
    timeoutSec: number,
    since = Date.now(),
    /** QEMU's pid, or where to read it (0 while there is none), and its console. */
    qemu?: { pid: number | (() => number); console: string },
): Promise<number> {
    const deadline = since + timeoutSec * 1000;
    let last = "";
    while (Date.now() < deadline) {
        // A QEMU that is gone will never answer: said at once, not after the whole timeout.
        if (qemu && (await qemuGone(qemu.pid))) {
            const tail = consoleTail(qemu.console);
            throw new HostCommandError(
                target.name ?? target.host,
                ["true"],
                null,
                "",
                tail,
                "exit",
                `QEMU (pid ${typeof qemu.pid === "number" ? qemu.pid : qemu.pid()}) exited ${Math.round((Date.now() - since) / 1000)} s into the boot, before SSH answered; its console's last lines:\n${tail}`,
            );
        }
        const access = hostAccess(target);
        try {
            await access.run(["true"], { timeoutMs: 30_000 });
            return (Date.now() - since) / 1000;
        } catch (err) {
            last = (err as Error).message.split("\n")[0];
            await access.close();
        }
        await new Promise((r) => setTimeout(r, 2000));
    }
    throw new HostCommandError(target.name ?? target.host, ["true"], null, "", last, "timeout", `did not answer over SSH within ${timeoutSec} s`);
}

/**
 * Starts the VM (building or finding its image) and waits for SSH, or returns
 * the one already running. Under TCG on a loaded 2-core machine a boot now and
 * then stalls for good early on (an RCU stall with a starved timer, seen in a
 * CI run: the console repeats the stall dump and SSH never comes). The boot
 * watch (bootWatch.ts) power-cycles such a boot as soon as its console says so, and
 * keeps watching the VM's reboots for as long as this process runs; a boot
 * that still never answers is started again once, from a fresh overlay.
 */
export async function vmUp(opts: VmOptions = {}): Promise<RunningVm> {
    const first = await startVm(opts, opts.bootTimeoutSec ?? 360);
    if (!("hung" in first)) return first;
    log(`${first.hung.message}; starting it again once (a TCG boot can stall for good; the console log had the first try)`);
    const second = await startVm(opts, opts.bootTimeoutSec ?? 600);
    if ("hung" in second) throw second.hung;
    return second;
}

/** The VM, or `hung`: SSH never answered within `bootTimeoutSec` (the VM is stopped again). */
async function startVm(opts: VmOptions, bootTimeoutSec: number): Promise<RunningVm | { hung: HostCommandError }> {
    const name = opts.name ?? `${VMLAB_NAME_PREFIX}-1`;
    const img = await vmImage();
    const running = vmState(name);
    if (running) {
        log(`${name} already runs (pid ${running.pid}, ssh 127.0.0.1:${running.sshPort})`);
        return { ...running, target: sshTargetOf(running, img), imageInfo: img, bootWatch: bootWatchOf(running) };
    }
    const dir = path.join(VMLAB_STATE_DIR, name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const disk = path.join(dir, "disk.qcow2");
    const local = hostAccess();
    // A fresh overlay each time: the VM always starts from the image as built.
    await local.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", img.disk, disk]);
    const sshPort = opts.sshPort ?? VMLAB_SSH_PORT;
    if (!(await portFree(sshPort))) {
        throw problemError(
            "lab VM",
            "sshPort",
            sshPort,
            "is taken on 127.0.0.1, and the lab VM's SSH is forwarded there",
            `stop what listens on it (ss -ltnp 'sport = :${sshPort}')`,
        );
    }
    const pidFile = path.join(dir, "qemu.pid");
    const console = path.join(dir, "console.log");
    const qmpSocket = path.join(dir, "qmp.sock");
    const args = qemuArgs({ name, cpus: opts.cpus ?? 2, memoryMiB: opts.memoryMiB ?? 2048, sshPort, disk, console, pidFile, qmpSocket });
    const started = Date.now();
    await local.run(["qemu-system-x86_64", ...args]);
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    const partial: VmState = { name, dir, pid, sshPort, console, qmpSocket, args, image: img.disk, bootSeconds: 0 };
    fs.writeFileSync(stateFile(name), JSON.stringify(partial, null, 2));
    const bootWatch = bootWatchOf(partial);
    log(`${name}: QEMU pid ${pid}, console ${console}, waiting for SSH on 127.0.0.1:${sshPort}`);
    const target = sshTargetOf(partial, img);
    let waited: number;
    try {
        // The pid as the pid file has it: a power cycle by the boot watch starts another QEMU.
        waited = await waitForSsh(target, bootTimeoutSec, started, { pid: () => qemuPidIn(dir), console });
    } catch (err) {
        // waitForSsh's failures: SSH did not answer in time, or QEMU exited first.
        await vmDown(name);
        if (err instanceof HostCommandError) return { hung: err };
        throw err;
    }
    try {
        const bootSeconds = Math.round(waited);
        const state = { ...partial, bootSeconds };
        fs.writeFileSync(stateFile(name), JSON.stringify(state, null, 2));
        log(`${name} booted in ${bootSeconds} s`);
        return { ...state, target, imageInfo: img, bootWatch };
    } catch (err) {
        await vmDown(name);
        throw err;
    }
}

/** Stops the VM (by its recorded pid) and removes its overlay and state. */
export async function vmDown(name = `${VMLAB_NAME_PREFIX}-1`): Promise<void> {
    watches.get(name)?.stop();
    watches.delete(name);
    const dir = path.join(VMLAB_STATE_DIR, name);
    const pid = qemuPidIn(dir);
    if (await stopQemu(pid, () => process.kill(pid, "SIGTERM"), 5_000)) log(`${name}: stopped QEMU pid ${pid}`);
    fs.rmSync(dir, { recursive: true, force: true });
}
