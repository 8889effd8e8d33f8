/**
 * Whether libvirt may lock guest memory on a host. `<memoryBacking><locked/>`
 * makes libvirtd raise the QEMU process's RLIMIT_MEMLOCK, which needs
 * CAP_SYS_RESOURCE; containers and some sandboxes drop it, and then every
 * guest fails to start with "cannot limit locked memory ... Operation not
 * permitted". libvirt applies a memtune hard_limit as the memlock limit too. The kit checks first and turns the knob off with a stated reason
 * rather than failing the pod.
 */
import { readFileSync } from "node:fs";
import { isLocalUri } from "../libvirt/virsh";

const CAP_SYS_RESOURCE = 24;

export interface MemoryLockingSupport {
    supported: boolean;
    reason: string;
}

/** Reads a host's capability bounding set (local hosts; remote ones are assumed able). */
export function memoryLockingSupport(uri: string, statusText?: string): MemoryLockingSupport {
    if (!isLocalUri(uri) && statusText === undefined) {
        return { supported: true, reason: "assumed on a remote host" };
    }
    const status = statusText ?? readFileSync("/proc/self/status", "utf8");
    const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (!bounding) return { supported: true, reason: "capabilities unknown; assumed" };
    const has = (BigInt(`0x${bounding}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n;
    return has
        ? { supported: true, reason: "CAP_SYS_RESOURCE present: libvirt can raise RLIMIT_MEMLOCK" }
        : {
              supported: false,
              reason: "memory locking and memtune hard_limit off: this host has no CAP_SYS_RESOURCE (a container or sandbox), so libvirt cannot raise RLIMIT_MEMLOCK for QEMU",
          };
}
