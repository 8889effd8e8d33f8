/**
 * Whether libvirt may lock guest memory on a host. `<memoryBacking><locked/>`
 * makes libvirtd raise the QEMU process's RLIMIT_MEMLOCK, which needs
 * CAP_SYS_RESOURCE; containers and some sandboxes drop it, and then every
 * guest fails to start with "cannot limit locked memory ... Operation not
 * permitted". libvirt applies a memtune hard_limit as the memlock limit too. The kit checks first and turns the knob off with a stated reason
 * rather than failing the pod.
 */
import type { HostAccess } from "./access";

const CAP_SYS_RESOURCE = 24;

export interface MemoryLockingSupport {
    supported: boolean;
    reason: string;
}

/** Reads a host's capability bounding set (local hosts; remote ones are assumed able). */
/** Reads the host's capability bounding set through its access; a host the kit cannot read is assumed able. */
export async function discoverMemoryLocking(host: HostAccess | undefined): Promise<MemoryLockingSupport> {
    if (!host) return { supported: true, reason: "assumed on a host whose files the kit cannot read" };
    return memoryLockingSupport(await host.readFile("/proc/self/status"));
}

/** Whether a process with this /proc/<pid>/status may raise RLIMIT_MEMLOCK. */
export function memoryLockingSupport(status: string): MemoryLockingSupport {
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
