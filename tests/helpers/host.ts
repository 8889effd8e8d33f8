/**
 * What a person checks on the host after a pod operation: which domains exist,
 * which shm files, how many hugepages are reserved. Used by the real tests.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { virsh } from "../../components/host/access/virsh";
import { ledgerRoot } from "../../components/host/ledger";

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
