/**
 * The pieces every section of the pod check shares: the limits, user-given
 * names and CPU lists, and what the sections learn about hosts and guests
 * (drafts) for the cross-references checked after every section is read.
 */
import type { DomainKnobs } from "../knobs";
import { maxNameLength, safeNamePattern } from "../names";
import type { SpecReader } from "../reader";
import type { CheckedGuest, CheckedHost, CheckedVf } from "../checked";
import type { HostTopology } from "../types";
import { CpuSet, type MemorySize } from "../units";

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** A Linux network interface name: at most 15 characters (IFNAMSIZ), none of them "/", ":" or white space. */
export const netdevNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

/**
 * What the checks learned about a host, kept for the cross-references. Every
 * host with a usable name has one, even one with problems elsewhere, so its
 * guests, VFs and links are still checked against what it declares.
 */
export interface HostDraft {
    name: string;
    /** YAML path of the host entry. */
    path: string;
    uri: string;
    accel: CheckedHost["accel"];
    /** Declared, else discovered; unset when neither (the host is then not planned). */
    topology?: HostTopology;
    housekeepingCpus: number[];
    isolatedCpus: number[];
    hugepages: CheckedHost["hugepages"];
    pfs: CheckedHost["pfs"];
    /** Every PF name written for the host, even unusable ones: a VF naming one is not blamed again. */
    pfNamesWritten: Set<string>;
    ssh?: CheckedHost["ssh"];
    manage?: CheckedHost["manage"];
    /** Knob defaults for guests on this host (kit defaults, then ResolveOptions.knobDefaults, then guestKnobs). */
    knobs: DomainKnobs;
    /** False without a topology or when its CPU lists are unusable: its guests are then not planned (no follow-on noise). */
    plannable: boolean;
    /** False when a hugepage pool entry is unusable: budgets on the host are then not checked. */
    poolsOk: boolean;
}

/** The checked host of a plannable draft. */
export function checkedHost(h: HostDraft): CheckedHost {
    return {
        name: h.name,
        path: h.path,
        uri: h.uri,
        accel: h.accel,
        topology: h.topology!,
        housekeepingCpus: h.housekeepingCpus,
        isolatedCpus: h.isolatedCpus,
        hugepages: h.hugepages,
        pfs: h.pfs,
        ...(h.ssh ? { ssh: h.ssh } : {}),
        ...(h.manage ? { manage: h.manage } : {}),
    };
}

export interface GuestDraft {
    path: string;
    name: string;
    /** The guest's host, when it names a declared one (even a host with problems). */
    host?: HostDraft;
    vcpus: number;
    rtVcpus: number[];
    fifoPriority: number;
    cpus?: number[];
    emulatorCpus?: number[];
    iothreads: number;
    iothreadCpus?: number[];
    memory?: MemorySize;
    pageSizeKiB: number;
    /** pageSize as written; undefined when the default applies. */
    pageSizeWritten: unknown;
    numaNode?: number;
    vfs: CheckedVf[];
    kernel: CheckedGuest["kernel"];
    knobs: DomainKnobs;
    /** False when a field the planner needs was unusable. */
    plannable: boolean;
}

/** A CPU list ("0-3,8"), sorted; undefined when absent or unusable (the problem is recorded). */
export function readCpuSet(r: SpecReader, value: unknown, path: string): number[] | undefined {
    if (value === undefined || value === null) return undefined;
    const set = r.unit(CpuSet.tryParse(value, path));
    return set ? [...set.cpus] : undefined;
}

/** A name users give (host, guest, link): it becomes part of domain and file names. */
export function readName(r: SpecReader, value: unknown, path: string): string | undefined {
    const name = r.string(value, path);
    if (name === undefined) return undefined;
    if (!safeNamePattern.test(name) || name.length > maxNameLength) {
        r.report(
            path,
            name,
            `is not a safe name (it becomes part of domain and file names)`,
            `use up to ${maxNameLength} letters, digits, "-" and "_", starting with a letter or digit`,
        );
        return undefined;
    }
    return name;
}
