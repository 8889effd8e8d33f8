/**
 * The `guests:` section: each guest's name and host, its vCPUs and their
 * pinning, memory and page size, kernel arguments, knobs and VFs (vfs.ts).
 * A guest names its host; a host with problems of its own still counts, so
 * the guest's own problems and its VFs are checked against what it declares.
 */
import type { DomainKnobs } from "../knobs";
import { closestMatch } from "../names";
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";
import { MemorySize } from "../units";
import { MiB, readCpuSet, readName, type GuestDraft, type HostDraft } from "./fields";
import { readKnobs } from "./knobs";
import { readVfs, vfNumaNode, type VfContext } from "./vfs";
import { defaultKnobs } from "../knobs";

const guestKeys = [
    "name",
    "host",
    "vcpus",
    "rtVcpus",
    "fifoPriority",
    "cpus",
    "emulatorCpus",
    "iothreads",
    "iothreadCpus",
    "memory",
    "pageSize",
    "numaNode",
    "vfs",
    "kernelArgs",
    "knobs",
] as const;
/** Page sizes x86-64 offers, in KiB. */
const pageSizesKiB = [4, 2048, 1048576];
/** Below this a Linux guest kernel does not get to userspace. */
const minGuestMemory = 32 * MiB;
const maxVcpus = 255;
/** Largest guest memory: 4 TiB, past any NFV guest and far from where byte arithmetic loses precision. */
const maxGuestMemory = 4 * 1024 * 1024 * MiB;
/** Flags of the kernel's isolcpus= argument (Documentation/admin-guide/kernel-parameters.txt). */
const isolcpusFlags = ["nohz", "domain", "managed_irq"];

/** `declaredHosts`: every host name written, even of hosts with problems (their guests are not blamed again). */
export function readGuests(r: SpecReader, value: unknown, path: string, hosts: Map<string, HostDraft>, declaredHosts: Set<string>): Map<string, GuestDraft> {
    const guests = new Map<string, GuestDraft>();
    const items = r.list(value, path, "[{ name: vnf, memory: 256M }]");
    if (value !== undefined && value !== null && items && items.length === 0) r.report(path, value, "lists no guests", "declare at least one guest");
    const seen = new Map<string, string>();
    const vfs: VfContext = { pciSeen: new Map(), macSeen: new Map(), vfSeen: new Map() };
    (items ?? []).forEach((item, i) => {
        const guest = readGuest(r, item, joinPath(path, i), { hosts, declaredHosts, seen, vfs });
        if (guest && !guests.has(guest.name)) guests.set(guest.name, guest);
    });
    return guests;
}

interface GuestContext {
    hosts: Map<string, HostDraft>;
    declaredHosts: Set<string>;
    /** Guest name → path of its first entry. */
    seen: Map<string, string>;
    vfs: VfContext;
}

function readGuest(r: SpecReader, item: unknown, p: string, ctx: GuestContext): GuestDraft | undefined {
    const f = (key: string) => joinPath(p, key);
    const spec = r.object(item, p, guestKeys, ["name", "memory"]);
    if (!spec) return undefined;
    const name = readName(r, spec.name, f("name"));
    if (name !== undefined) r.unique(name, f("name"), ctx.seen, "guest");
    const host = guestHost(r, spec, f, ctx);
    const cpus = readGuestCpus(r, spec, f);
    const knobs = readKnobs(r, spec.knobs, f("knobs"), host?.knobs ?? defaultKnobs);
    const memory = readGuestMemory(r, spec, f, knobs);
    const kernel = readKernelArgs(r, spec.kernelArgs, f("kernelArgs"));
    const vfs = readVfs(r, spec.vfs, f("vfs"), host, ctx.vfs);
    const numaNode = vfNumaNode(r, spec, f, host, vfs, cpus.numaNode);
    if (name === undefined) return undefined;
    return {
        path: p,
        name,
        host,
        vcpus: cpus.vcpus,
        rtVcpus: cpus.rtVcpus,
        fifoPriority: cpus.fifoPriority,
        cpus: cpus.cpus,
        emulatorCpus: cpus.emulatorCpus,
        iothreads: cpus.iothreads,
        iothreadCpus: cpus.iothreadCpus,
        memory: memory.memory,
        pageSizeKiB: memory.pageSizeKiB,
        pageSizeWritten: spec.pageSize,
        numaNode,
        vfs,
        kernel,
        knobs,
        plannable: cpus.ok && memory.ok && host !== undefined,
    };
}

/** The guest's host: the one it names, or the only one the pod has. */
function guestHost(r: SpecReader, spec: Record<string, unknown>, f: (key: string) => string, ctx: GuestContext): HostDraft | undefined {
    const hostName = r.string(spec.host, f("host"));
    if (hostName !== undefined) {
        const host = ctx.hosts.get(hostName);
        if (!host && !ctx.declaredHosts.has(hostName)) r.unknownReference(f("host"), hostName, "host", ctx.declaredHosts);
        return host;
    }
    if (spec.host === undefined && ctx.declaredHosts.size === 1) return [...ctx.hosts.values()][0];
    if (spec.host === undefined && ctx.declaredHosts.size > 1) {
        r.report(f("host"), undefined, "is required when the pod has several hosts", `add host: one of ${[...ctx.declaredHosts].join(", ")}`);
    }
    return undefined;
}

/** vCPUs, which of them are real-time and at what FIFO priority, the host CPUs asked for, I/O threads and the NUMA node. */
function readGuestCpus(r: SpecReader, spec: Record<string, unknown>, f: (key: string) => string) {
    let plannable = true;
    const vcpusGiven = r.integer(spec.vcpus, f("vcpus"), 1, maxVcpus);
    if (spec.vcpus !== undefined && vcpusGiven === undefined) plannable = false;
    const vcpus = vcpusGiven ?? 1;
    let rtVcpus = r.integerList(spec.rtVcpus, f("rtVcpus"), 0, maxVcpus - 1);
    if (spec.rtVcpus !== undefined && rtVcpus === undefined) plannable = false;
    if (rtVcpus) {
        const outside = rtVcpus.filter((v) => v >= vcpus);
        if (outside.length) {
            r.report(
                f("rtVcpus"),
                spec.rtVcpus,
                `names vCPU ${outside.join(", ")}, but the guest has vCPUs 0-${vcpus - 1}`,
                `list vCPUs below ${vcpus}, or raise vcpus`,
            );
            plannable = false;
        }
    }
    rtVcpus = (rtVcpus ?? (vcpus > 1 ? Array.from({ length: vcpus - 1 }, (_, v) => v + 1) : [0])).sort((a, b) => a - b);
    const fifoPriority = r.integer(spec.fifoPriority, f("fifoPriority"), 1, 99) ?? 1;
    const cpus = readCpuSet(r, spec.cpus, f("cpus"));
    const emulatorCpus = readCpuSet(r, spec.emulatorCpus, f("emulatorCpus"));
    const iothreadCpus = readCpuSet(r, spec.iothreadCpus, f("iothreadCpus"));
    if (
        [
            ["cpus", cpus],
            ["emulatorCpus", emulatorCpus],
            ["iothreadCpus", iothreadCpus],
        ].some(([k, v]) => spec[k as string] !== undefined && v === undefined)
    )
        plannable = false;
    for (const [key, list] of [
        ["emulatorCpus", emulatorCpus],
        ["iothreadCpus", iothreadCpus],
    ] as const) {
        if (list && list.length === 0) {
            r.report(f(key), spec[key], "is empty", "list at least one housekeeping CPU, or leave it out");
            plannable = false;
        }
    }
    const iothreads = r.integer(spec.iothreads, f("iothreads"), 0, 64) ?? 0;
    if (spec.iothreadCpus !== undefined && spec.iothreads === undefined) {
        r.report(f("iothreadCpus"), spec.iothreadCpus, "is set but the guest has no I/O threads", "add iothreads: 1 (or more), or remove iothreadCpus");
    }
    const numaNode = r.integer(spec.numaNode, f("numaNode"), 0, 1023);
    return { vcpus, rtVcpus, fifoPriority, cpus, emulatorCpus, iothreads, iothreadCpus, numaNode, ok: plannable };
}

/** Memory and page size: enough for a Linux guest, within the kit's limit, a whole number of pages; `pageSize` and knobs.hugepages agree. */
function readGuestMemory(r: SpecReader, spec: Record<string, unknown>, f: (key: string) => string, knobs: DomainKnobs) {
    const memory = spec.memory === undefined ? undefined : r.unit(MemorySize.tryParse(spec.memory, f("memory")));
    if (memory && memory.bytes < minGuestMemory) {
        r.report(f("memory"), spec.memory, `is ${memory}, too little for a Linux guest`, 'give at least "32M", e.g. "256M" (a bare number means bytes)');
    }
    let pageSizeKiB = knobs.hugepages ? 2048 : 4;
    /** False when pageSize is unusable: checks that depend on it are skipped, so no problem names a page size nobody wrote. */
    let pageSizeOk = true;
    if (spec.pageSize !== undefined) {
        const size = r.unit(MemorySize.tryParse(spec.pageSize, f("pageSize")));
        if (!size) pageSizeOk = false;
        else if (!pageSizesKiB.includes(size.kibibytes)) {
            r.report(f("pageSize"), spec.pageSize, "is not a page size of x86-64", 'write "4K" (no hugepages), "2M" or "1G"');
            pageSizeOk = false;
        } else {
            pageSizeKiB = size.kibibytes;
            const knobGiven = (spec.knobs as Record<string, unknown> | undefined)?.hugepages;
            if (knobGiven === false && pageSizeKiB !== 4) {
                r.report(
                    f("pageSize"),
                    spec.pageSize,
                    "asks for hugepages while knobs.hugepages is false",
                    'remove one of them: pageSize "4K" means no hugepages',
                );
            }
            knobs.hugepages = pageSizeKiB !== 4;
        }
    }
    if (memory && memory.bytes > maxGuestMemory) {
        r.report(
            f("memory"),
            spec.memory,
            `is ${memory}, more than the ${MemorySize.ofBytes(maxGuestMemory)} the kit gives a guest`,
            "give the guest less memory",
        );
    } else if (pageSizeOk && memory && memory.bytes >= minGuestMemory && !memory.isMultipleOf(MemorySize.ofKibibytes(pageSizeKiB))) {
        const page = MemorySize.ofKibibytes(pageSizeKiB);
        const up = MemorySize.ofBytes(Math.ceil(memory.bytes / page.bytes) * page.bytes);
        r.report(f("memory"), spec.memory, `is not a whole number of ${page} pages`, `write "${up}" or use a smaller pageSize`);
    }

    return { memory, pageSizeKiB, ok: pageSizeOk && memory !== undefined && memory.bytes <= maxGuestMemory };
}

/** `kernelArgs:`: whether to isolate the RT vCPUs and to boot quietly, isolcpus flags the kernel knows, extra arguments without white space. */
function readKernelArgs(r: SpecReader, value: unknown, path: string): GuestDraft["kernel"] {
    const f = (key: string) => joinPath(path, key);
    const kernel: GuestDraft["kernel"] = {};
    if (value !== undefined) {
        const ka = r.object(value, path, ["isolate", "isolcpusFlags", "extra", "quiet"]);
        if (ka) {
            const isolate = r.boolean(ka.isolate, f("isolate"));
            if (isolate !== undefined) kernel.isolate = isolate;
            const quiet = r.boolean(ka.quiet, f("quiet"));
            if (quiet !== undefined) kernel.quiet = quiet;
            for (const key of ["isolcpusFlags", "extra"] as const) {
                const kp = f(key);
                const list = r.list(ka[key], kp, '["nosoftlockup"]');
                if (!list) continue;
                const strings = list.map((a, j) => r.string(a, joinPath(kp, j)));
                const bad = strings.findIndex((s) => s !== undefined && /\s/.test(s));
                const unknownFlag = key === "isolcpusFlags" ? strings.findIndex((s) => s !== undefined && !isolcpusFlags.includes(s)) : -1;
                if (bad >= 0) r.report(joinPath(kp, bad), strings[bad], "contains white space", "give each kernel argument as its own list item");
                else if (unknownFlag >= 0) {
                    const word = strings[unknownFlag]!;
                    const guess = closestMatch(word, isolcpusFlags);
                    r.report(
                        joinPath(kp, unknownFlag),
                        word,
                        "is not an isolcpus flag the kernel knows",
                        guess ? `did you mean "${guess}"?` : `use ${isolcpusFlags.join(", ")}`,
                    );
                } else if (strings.every((s) => s !== undefined)) kernel[key] = strings as string[];
            }
        }
    }

    return kernel;
}
