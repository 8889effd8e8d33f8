/**
 * The lab's record, /var/lib/nfvkit-lab/lab.json: what `up` made (hosts,
 * addresses, pids, key paths, pinned host keys), for `status`, `down`, the
 * tests and anyone who wants to reach a host.
 */
import { readFileSync } from "node:fs";
import type { SshTarget } from "../../components/host/access";
import { LAB_STATE_DIR, labLayout } from "./layout";

export interface LabHostState {
    name: string;
    namespace: string;
    address: string;
    /** sshd's port inside the host's namespace. */
    port: number;
    user: string;
    /** The host_uuid in its libvirtd.conf. */
    hostUuid: string;
    /** Its pinned host key in known_hosts form: "10.213.100.11 ssh-ed25519 AAAA...". */
    knownHosts: string;
    /** Processes that keep it alive; the holder's namespaces are the host's. */
    pids: { holder: number; virtlogd?: number; libvirtd?: number; sshd?: number };
    /** The folder with its libvirt folders, sshd files and logs. */
    dir: string;
}

export interface LabState {
    version: 1;
    /** When the lab was first brought up (ISO 8601). */
    createdAt: string;
    /** How long the `up` that created it took, in seconds. */
    upSeconds: number;
    bridge: string;
    controlAddress: string;
    prefixLength: number;
    /** The private key every host accepts, and its public half. */
    clientKey: string;
    clientPublicKey: string;
    /** All hosts' pinned keys, one known_hosts line per host. */
    knownHostsFile: string;
    /** The lab stack's generated config (outside the repo). */
    stackConfig: string;
    hosts: LabHostState[];
}

export function stateFile(stateDir = LAB_STATE_DIR): string {
    return labLayout(1, stateDir).stateFile;
}

/** The lab's record, or undefined when no lab has been brought up. */
export function readLabState(stateDir = LAB_STATE_DIR): LabState | undefined {
    let text: string;
    try {
        text = readFileSync(stateFile(stateDir), "utf8");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
    }
    return JSON.parse(text) as LabState;
}

/** How the kit reaches each lab host: the seam's SSH target with the lab key and the pinned host key. */
export function labSshTargets(state: LabState): SshTarget[] {
    const privateKey = readFileSync(state.clientKey, "utf8");
    return state.hosts.map((h) => ({
        kind: "ssh",
        name: h.name,
        host: h.address,
        user: h.user,
        port: h.port,
        privateKey,
        knownHosts: h.knownHosts,
    }));
}
