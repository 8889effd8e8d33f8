/**
 * From raw YAML to the checked pod: check every field (collecting all
 * problems) and fill defaults. No I/O: host topology the kit discovered is
 * passed in. Placement, hugepage budgets and derived names are the plan's
 * (components/plan/), which reports its problems in the same shape.
 *
 * One pass, section by section (hosts.ts, ssh.ts, topology.ts,
 * hostResources.ts, guests.ts, vfs.ts, links.ts, knobs.ts), and every
 * cross-reference (a guest's host, a VF's PF, a link's members and their
 * host) is checked whenever the names it joins are readable: a shape problem
 * in one entry never hides a reference problem in another. A host or guest
 * with problems of its own is left out of the plan, not out of the checks.
 */
import type { DomainKnobs } from "../knobs";
import { maxNameLength, safeNamePattern } from "../names";
import { joinPath } from "../problems";
import { SpecReader } from "../reader";
import type { CheckedGuest, SpecCheck } from "../checked";
import type { HostTopology } from "../types";
import { MemorySize } from "../units";
import { checkedHost } from "./fields";
import { readGuests } from "./guests";
import { readHosts } from "./hosts";
import { readLinks } from "./links";

export type { DomainKnobs } from "../knobs";
export type { HostTopology } from "../types";

export interface ResolveOptions {
    /**
     * Prefix of every derived name (domains, shm files), e.g. "nfvkit-ci".
     * Usually `<project>-<stack>`, so two stacks on one host never collide.
     * Checked here, so a plan never derives a name from an unsafe prefix.
     */
    namePrefix: string;
    /** Topology read from reachable hosts, by host name; a declared `topology` wins. @default {} */
    discovered?: Record<string, HostTopology>;
    /** Prefix of problem paths, e.g. "nfv-testpod:pod", so paths match the stack file. @default "" */
    yamlPath?: string;
    /**
     * Knob defaults per host name, e.g. from a capability probe of a host that
     * cannot lock memory or run SCHED_FIFO in libvirt's cgroup. They sit above
     * the kit's defaults and below the host's `guestKnobs` and the guest's `knobs`.
     * @default {}
     */
    knobDefaults?: Record<string, Partial<DomainKnobs>>;
}

const podKeys = ["hosts", "guests", "links"] as const;

/**
 * Checks and completes a pod spec, collecting every problem. The pod is
 * complete when there is none; otherwise it holds what could be read, so the
 * planner can still report placement problems in the same run.
 */
export function checkPod(raw: unknown, opts: ResolveOptions): SpecCheck {
    const r = new SpecReader();
    const root = opts.yamlPath ?? "";
    const at = (key: string) => joinPath(root, key);

    if (typeof opts.namePrefix !== "string" || !safeNamePattern.test(opts.namePrefix) || opts.namePrefix.length > maxNameLength) {
        r.report(
            "namePrefix",
            opts.namePrefix,
            "is not a safe name prefix",
            'use letters, digits, "-" and "_", starting with a letter or digit, e.g. "nfvkit-ci"',
        );
    }

    const pod = r.object(raw ?? undefined, root === "" ? "(pod spec)" : root, podKeys, ["hosts", "guests"]);
    const declaredHosts = new Set<string>();
    const hosts = readHosts(r, pod?.hosts, at("hosts"), opts.discovered ?? {}, opts.knobDefaults ?? {}, declaredHosts);
    const guests = readGuests(r, pod?.guests, at("guests"), hosts, declaredHosts);
    const { links, named } = readLinks(r, pod?.links, at("links"), guests);

    const plannable = [...guests.values()].filter((g) => g.plannable && g.host?.plannable);
    return {
        pod: {
            hosts: [...hosts.values()].filter((h) => h.plannable).map(checkedHost),
            guests: plannable.map((g): CheckedGuest => ({
                name: g.name,
                path: g.path,
                host: g.host!.name,
                vcpus: g.vcpus,
                rtVcpus: g.rtVcpus,
                fifoPriority: g.fifoPriority,
                ...(g.cpus ? { cpus: g.cpus } : {}),
                ...(g.emulatorCpus ? { emulatorCpus: g.emulatorCpus } : {}),
                iothreads: g.iothreads,
                ...(g.iothreadCpus ? { iothreadCpus: g.iothreadCpus } : {}),
                memory: g.memory!,
                pageSize: MemorySize.ofKibibytes(g.pageSizeKiB),
                pageSizeWritten: g.pageSizeWritten,
                ...(g.numaNode !== undefined ? { numaNode: g.numaNode } : {}),
                vfs: g.vfs,
                kernel: g.kernel,
                knobs: g.knobs,
            })),
            links,
        },
        problems: r.problems,
        unbudgetedHosts: [...hosts.values()].filter((h) => !h.poolsOk).map((h) => h.name),
        names: {
            hosts: [...declaredHosts],
            guests: [...guests.values()].map((g) => ({
                name: g.name,
                ...(g.host ? { host: g.host.name } : {}),
                userNic: g.knobs.userNic,
                vfs: g.vfs.map((v) => ({ pf: v.pf, attach: v.attach })),
            })),
            links: named,
        },
    };
}
