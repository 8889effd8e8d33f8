/**
 * What a person checks on the host after a pod operation: which domains exist,
 * which shm files, how many hugepages are reserved. Used by the real tests.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { virsh } from "../../components/host/access/virsh";
import { alive, readSshDirOwner, SSH_DIR_PREFIX } from "../../components/host/access/sshDir";
import { ledgerRoot } from "../../components/host/ledger";
import { inThisLane } from "./lane";

export const LOCAL_URI = "qemu:///system";

/** Names of all domains (running or not) whose name starts with `prefix`. */
export async function domainsWithPrefix(prefix: string, uri = LOCAL_URI): Promise<string[]> {
    const out = await virsh(uri, ["list", "--all", "--name"]);
    return out
        .split("\n")
        .map((l) => l.trim())
        .filter((n) => n.startsWith(prefix));
}

/** Files in /dev/shm whose name starts with `prefix`. */
export function shmFilesWithPrefix(prefix: string): string[] {
    return readdirSync("/dev/shm").filter((f) => f.startsWith(prefix));
}

/** Pages in the 2 MiB pool of NUMA node 0 (the only node on our CI machines). */
export function hugepages2M(node = 0): number {
    return Number(readFileSync(`/sys/devices/system/node/node${node}/hugepages/hugepages-2048kB/nr_hugepages`, "utf8").trim());
}

/** Engine and kit processes still running on this machine (a CLI, its plugins, a provider), by pid, command and working folder. */
export function engineProcesses(): { pid: number; command: string; cwd: string }[] {
    const found: { pid: number; command: string; cwd: string }[] = [];
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        try {
            const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
            if (/(^|\/)pulumi(-language-nodejs|-resource-nfvkit)?( |$)|components\/provider\/server\.ts/.test(command))
                found.push({ pid: Number(entry), command, cwd: readlinkSync(`/proc/${entry}/cwd`) });
        } catch {
            // The process ended while we read it.
        }
    }
    return found;
}

/**
 * Whether an engine process may be an earlier test's, at work on this machine's pool: one started in this
 * checkout, or in a copy of it that a test made under /tmp, in this test's lane. Another checkout's engine (a lab
 * VM test run beside the real-parts tests on a shared machine, under its own lock), and the lab VM test that npm
 * test runs beside the others from this checkout (another lane, tests/helpers/lane.ts), work on other hosts.
 */
function ofThisCheckout(p: { pid: number; command: string; cwd: string }): boolean {
    const root = path.resolve(__dirname, "../..");
    const inside = (dir: string, folder: string) => dir === folder || dir.startsWith(`${folder}/`);
    return (inside(p.cwd, root) || inside(p.cwd, os.tmpdir()) || p.command.includes(root)) && inThisLane(p.pid);
}

/**
 * The kit's ssh folders in /tmp (components/host/access/sshDir.ts) that no live run of another checkout or lane
 * holds: their owner (owner.json) is gone, or is a process of this checkout and lane. A folder whose owner still
 * runs from another checkout or lane (a lab VM test beside the real-parts tests) is that run's, in use; one with
 * no owner record yet is being made by someone right now.
 */
export function sshDirsOfThisCheckout(): string[] {
    return readdirSync(os.tmpdir())
        .filter((name) => name.startsWith(SSH_DIR_PREFIX))
        .filter((name) => {
            const owner = readSshDirOwner(path.join(os.tmpdir(), name));
            if (!owner) return false;
            if (!alive(owner.pid, owner.pidStart)) return true;
            try {
                const command = readFileSync(`/proc/${owner.pid}/cmdline`, "utf8").split("\0").join(" ");
                return ofThisCheckout({ pid: owner.pid, command, cwd: readlinkSync(`/proc/${owner.pid}/cwd`) });
            } catch {
                // It ended while we read it.
                return true;
            }
        });
}

/**
 * The 2 MiB pool of node 0 once the host is quiet: no engine or provider of this checkout left from
 * an earlier test still at work, and the pool the same over two reads a second
 * apart. A test that compares the pool before and after its pod takes its "before"
 * here, so a late release by someone else cannot pass for its own change. Fails
 * (naming the processes) when the host does not settle within a minute.
 */
export async function hugepagesSettled(node = 0, timeoutMs = 60_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const before = hugepages2M(node);
        await new Promise((r) => setTimeout(r, 1_000));
        const busy = engineProcesses().filter(ofThisCheckout);
        if (busy.length === 0 && hugepages2M(node) === before) return before;
        if (Date.now() > deadline) {
            throw new Error(
                `the host did not settle before the test: ${busy.map((p) => `${p.pid} ${p.command}`).join("; ") || "the hugepage pool kept changing"}`,
            );
        }
    }
}

/** "hugepages: urn:pulumi:ci::...": this machine's ledger entries (components/host/ledger.ts), of every stack or of `stack`. */
export function ledgerEntries(stack?: string): string[] {
    if (!existsSync(ledgerRoot)) return [];
    const found: string[] = [];
    for (const kind of readdirSync(ledgerRoot)) {
        const dir = path.join(ledgerRoot, kind);
        for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
            const urn = (JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { urn: string }).urn;
            if (stack === undefined || urn.startsWith(`urn:pulumi:${stack}::`)) found.push(`${kind}: ${urn}`);
        }
    }
    return found.sort();
}

/**
 * The ledger's files of `stack` on this machine, by path, with their text as
 * they are (URN, lineage and what each holds): two reads compare equal only
 * when nothing was written, taken or removed in between.
 */
export function ledgerFiles(stack: string): Record<string, string> {
    const files: Record<string, string> = {};
    if (!existsSync(ledgerRoot)) return files;
    for (const kind of readdirSync(ledgerRoot)) {
        const dir = path.join(ledgerRoot, kind);
        for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
            const text = readFileSync(path.join(dir, file), "utf8");
            if ((JSON.parse(text) as { urn: string }).urn.startsWith(`urn:pulumi:${stack}::`)) files[path.join(dir, file)] = text;
        }
    }
    return files;
}

/** The kernel's count of hugepages of the default size, as /proc/meminfo says it (HugePages_Total). */
export function meminfoHugePages(): number {
    return Number(/^HugePages_Total:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]);
}

/** Removes every domain with the prefix: the last line of defence in a test teardown. */
export async function removeDomainsWithPrefix(prefix: string, uri = LOCAL_URI): Promise<void> {
    for (const name of await domainsWithPrefix(prefix, uri)) {
        await virsh(uri, ["destroy", name]).catch(() => undefined);
        await virsh(uri, ["undefine", name]).catch(() => undefined);
    }
}

/**
 * Every thread of a local guest's QEMU at nice −20, so that on this shared
 * host other engineers' guests do not keep it from its CPU for hundreds of
 * ms in the middle of a known-answer run (its FIFO vCPU threads are not
 * affected by nice).
 */
export function favourGuest(domain: string): void {
    const pid = readFileSync(`/run/libvirt/qemu/${domain}.pid`, "utf8").trim();
    for (const tid of readdirSync(`/proc/${pid}/task`)) execFileSync("renice", ["-n", "-20", "-p", tid], { stdio: "ignore" });
}

/**
 * The accelerator this host's guests must get, read by the test from the host itself: KVM when /dev/kvm
 * is there and is not PVM (kvm_pvm runs only guests built for it), else TCG.
 */
export function expectedAccel(): "kvm" | "tcg" {
    return existsSync("/dev/kvm") && !existsSync("/sys/module/kvm_pvm") ? "kvm" : "tcg";
}

/** What QEMU runs a local domain's vCPUs with, from its vCPU threads' names ("CPU 0/KVM", "CPU 1/TCG"). */
export function vcpuThreadAccels(domain: string): string[] {
    const pid = readFileSync(`/run/libvirt/qemu/${domain}.pid`, "utf8").trim();
    const accels = new Set<string>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const m = /^CPU \d+\/(\w+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8"));
        if (m) accels.add(m[1]);
    }
    return [...accels];
}
