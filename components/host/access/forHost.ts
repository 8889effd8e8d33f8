/**
 * Which HostTarget reaches a host of the pod. The one place that decides
 * that `qemu:///system` is this machine and that a remote host without
 * access is not reached at all; the loader, the probe pipeline and the
 * latency probe's host load all ask here.
 */
import { LOCAL_LIBVIRT_URI } from "./libvirtUri";
import type { HostTarget } from "./target";

/**
 * The target for a host: its access when it has one (SSH with pinned keys),
 * this machine for the local system libvirt, and undefined when the kit has
 * no way to reach it (its facts are then taken from the spec; nothing runs there).
 */
export function targetForHost(host: { name: string; uri: string }, access?: HostTarget): HostTarget | undefined {
    if (access) return { ...access, name: access.name ?? host.name };
    if (host.uri === LOCAL_LIBVIRT_URI) return { kind: "local", name: host.name };
    return undefined;
}
