/**
 * What the probe pipeline runs against: the ProbeSuite resource's inputs,
 * which `pulumi up` records in the stack's state and `npm run probe` reads
 * back from it, so both run the same kinds on the same pod with the same
 * settings. Plain data; an SSH host's private key travels in it as a Pulumi
 * secret (encrypted in the state, opened only in memory).
 */
import type { HostTarget } from "../host/access";
import type { GuestExecResult } from "../libvirt/guestAgent";
import type { KindInputs } from "./kinds/registry";
import type { ProbeSuiteConfig } from "./suiteConfig";
import type { Targets } from "./targets";
import type { Gate } from "./verdict";

/** A guest as the probes see it. */
export interface ProbeGuest {
    /** Guest name in the pod spec. */
    guest: string;
    /** Its host's name in the pod spec. */
    host?: string;
    /** libvirt URI of its host, as the pod spec names it (the pipeline reaches it through `access`). */
    uri: string;
    /** Domain name on that host. */
    domain: string;
    /** Guest CPU numbers of the real-time vCPUs: what is measured. */
    rtVcpus: number[];
    /** Guest CPU numbers of the housekeeping vCPUs: where tools report from and guest load runs. */
    housekeepingVcpus: number[];
    /** Host CPUs for host load (`load: host`), the host's housekeeping CPUs. */
    hostHousekeepingCpus: number[];
    /** How its host is reached. @default this machine */
    access?: HostTarget;
}

/** Runs a shell script in a guest; the default goes through the QEMU guest agent. */
export type GuestShell = (guest: ProbeGuest, script: string, timeoutMs: number) => Promise<GuestExecResult>;

/** A host of the pod as the probes see it. */
export interface ProbeHost {
    name: string;
    /** libvirt URI as the pod spec names it. */
    uri: string;
    /** The kernel command line the pod's plan needs on it (the host gate compares the running kernel with it). */
    kernelArgs: string[];
    /**
     * How it is reached: SSH with pinned host keys for a remote host. Absent only
     * for this machine's own libvirt (`qemu:///system`): a remote host without
     * access is never taken for this machine.
     */
    access?: HostTarget;
}

export interface ProbeSuiteInputs {
    /** Names results and reports, e.g. `<project>/<stack>`. */
    title: string;
    guests: ProbeGuest[];
    /** Domain UUIDs of the guests: a replaced guest is probed again. */
    guestIds: string[];
    config: ProbeSuiteConfig;
    targets: Targets;
    gate: Gate;
    /**
     * Directory the reports are written to, on the machine running pulumi.
     * Relative paths are taken from the project folder, so the state names no checkout.
     */
    resultsDir: string;
    /** Notes carried into the reports, e.g. "TCG: ..." per host. */
    notes: string[];
    /** Every host of the pod. */
    hosts: ProbeHost[];
    /** What a kind needs of the pod beyond guests and hosts (see each kind's `podInputs`), by kind name. */
    kinds: KindInputs;
}
