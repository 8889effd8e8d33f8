/**
 * Which HostTarget reaches a host of the pod spec. The one place that decides
 * that `qemu:///system` is this machine; everything else is handed the
 * target and never asks.
 */
import { LOCAL_LIBVIRT_URI } from "./libvirtUri";
import type { HostTarget, SshTarget } from "./target";

/**
 * The target for a host: SSH when the stack gives SSH access to it, this
 * machine for the local system libvirt, and undefined when the kit has no way
 * to reach the host's files (its facts are then taken from the spec).
 */
export function targetForHost(host: { name: string; uri: string }, ssh?: SshTarget): HostTarget | undefined {
    if (ssh) return { ...ssh, name: ssh.name ?? host.name };
    if (host.uri === LOCAL_LIBVIRT_URI) return { kind: "local", name: host.name };
    return undefined;
}
