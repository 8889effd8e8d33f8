/**
 * The pod as the probe settings' cross-checks see it: its hosts (remote or
 * this machine, reachable or not), its guests (where each runs, its
 * user-mode NIC, its VFs), its links and their members, and the plan when
 * there is one (so a kind can plan a placement). Built from the plan when the
 * pod planned, and from the raw spec's names when it did not: the probe
 * settings are then still checked against what the spec names, so a stack's
 * problems come out all at once. Pure.
 */
import { LOCAL_LIBVIRT_URI } from "../../host/access/libvirtUri";
import type { PodPlan } from "../../plan/podPlan";

export interface ProbePodView {
    hosts: {
        name: string;
        /** Not this machine's own libvirt (`qemu:///system`). */
        remote: boolean;
        /** Has `ssh:` access (pinned keys): the kit can work on it. */
        ssh: boolean;
    }[];
    guests: {
        name: string;
        host: string;
        userNic: boolean;
        /** The SR-IOV VFs it takes, each by VFIO passthrough. */
        vfs: { pf: string; pciAddress: string; attach: string }[];
    }[];
    links: { name: string; members: string[] }[];
    /** The pod's plan; null when the spec did not plan (it has problems of its own): placements are then not checked. */
    plan: PodPlan | null;
}

export function probePodView(plan: PodPlan): ProbePodView {
    return {
        hosts: plan.hosts.map((h) => ({ name: h.name, remote: h.uri !== LOCAL_LIBVIRT_URI, ssh: h.ssh !== undefined })),
        guests: plan.guests.map((g) => ({
            name: g.name,
            host: g.host,
            userNic: g.knobs.userNic,
            vfs: g.vfs.map((v) => ({ pf: v.pf, pciAddress: v.pciAddress.toString(), attach: v.attach })),
        })),
        links: plan.links.map((l) => ({ name: l.name, members: [...l.members] })),
        plan,
    };
}

/** The names a raw spec gives, read tolerantly: whatever is malformed is the spec check's to report, and is left out here. */
export function probePodViewFromSpec(spec: unknown): ProbePodView {
    const s = (spec ?? {}) as { hosts?: unknown; guests?: unknown; links?: unknown };
    const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === "object" && x !== null) : []);
    const str = (v: unknown): v is string => typeof v === "string" && v !== "";
    const hosts = list(s.hosts)
        .filter((h) => str(h.name))
        .map((h) => ({ name: h.name as string, remote: (h.uri ?? LOCAL_LIBVIRT_URI) !== LOCAL_LIBVIRT_URI, ssh: h.ssh !== undefined && h.ssh !== null }));
    const guests = list(s.guests)
        .filter((g) => str(g.name))
        .map((g) => ({
            name: g.name as string,
            // One host: guests may leave it out (the spec check's default).
            host: str(g.host) ? g.host : hosts.length === 1 ? hosts[0].name : "",
            userNic: (g.knobs as { userNic?: unknown } | undefined)?.userNic === true,
            vfs: list(g.vfs).map((v) => ({ pf: String(v.pf ?? ""), pciAddress: String(v.pciAddress ?? ""), attach: String(v.attach ?? "interface") })),
        }));
    const links = list(s.links)
        .filter((l) => str(l.name))
        .map((l) => ({ name: l.name as string, members: Array.isArray(l.members) ? l.members.filter(str) : [] }));
    return { hosts, guests, links, plan: null };
}
