/**
 * The `links:` section: ivshmem regions between guests. Cross-references:
 * every member is a guest of the pod, and all members sit on one host (shared
 * memory exists on one host only). A member guest whose host has problems of
 * its own still counts for that.
 */
import type { CheckedLink } from "../checked";
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";
import { MemorySize } from "../units";
import { MiB, readName, type GuestDraft } from "./fields";

const linkKeys = ["name", "size", "members", "hugepages"] as const;
/**
 * Largest link: each member maps the whole region (from /dev/shm, which is
 * RAM, or from the hugepage pool), so a region bigger than a guest's memory
 * only takes the host's. 4 GiB is far above any ring and below any host's RAM.
 */
const maxLinkBytes = 4 * 1024 * MiB;

/** `named`: every link with a usable name and its member names as written, problems or not (what probe settings refer to). */
export function readLinks(
    r: SpecReader,
    value: unknown,
    path: string,
    guests: Map<string, GuestDraft>,
): { links: CheckedLink[]; named: { name: string; members: string[] }[] } {
    const links: CheckedLink[] = [];
    const named: { name: string; members: string[] }[] = [];
    const items = r.list(value, path, "[{ name: ring0, size: 4M, members: [vnf, peer] }]") ?? [];
    const seen = new Map<string, string>();
    items.forEach((item, i) => {
        const p = joinPath(path, i);
        const f = (key: string) => joinPath(p, key);
        const spec = r.object(item, p, linkKeys, ["name", "members"]);
        if (!spec) return;
        const name = readName(r, spec.name, f("name"));
        if (name !== undefined) r.unique(name, f("name"), seen, "link");
        const hugepages = r.boolean(spec.hugepages, f("hugepages")) ?? false;
        const size = r.unit(MemorySize.tryParse(spec.size ?? "4M", f("size")));
        if (size) {
            if (size.bytes > maxLinkBytes) {
                r.report(
                    f("size"),
                    spec.size,
                    `is ${size}, more than the ${MemorySize.ofBytes(maxLinkBytes)} the kit maps into each member guest`,
                    `write "${MemorySize.ofBytes(maxLinkBytes)}" or less; an ivshmem ring of a few MiB carries line rate`,
                );
            } else if (!size.isPowerOfTwo() || size.bytes < MiB) {
                const up = MemorySize.ofBytes(Math.max(MiB, 2 ** Math.ceil(Math.log2(size.bytes))));
                r.report(f("size"), spec.size, `is ${size}, but an ivshmem region must be a power of two of at least 1M`, `write "${up}"`);
            } else if (hugepages && size.bytes < 2 * MiB) {
                r.report(f("size"), spec.size, "is smaller than one 2M hugepage", 'write "2M" or more, or set hugepages: false');
            }
        }
        const membersRaw = r.list(spec.members, f("members"), "[vnf, peer]");
        const members: string[] = [];
        let ok = membersRaw !== undefined;
        (membersRaw ?? []).forEach((m, j) => {
            const mp = joinPath(f("members"), j);
            const member = r.string(m, mp);
            if (member === undefined) return void (ok = false);
            if (members.includes(member)) {
                r.report(mp, member, `repeats guest ${member}`, "list each guest once");
                return void (ok = false);
            }
            if (!guests.has(member)) {
                r.unknownReference(mp, member, "guest", guests.keys());
                ok = false;
            }
            members.push(member);
        });
        if (membersRaw && members.length < 2) {
            r.report(
                f("members"),
                spec.members,
                `has ${members.length} guest${members.length === 1 ? "" : "s"}; a link joins at least two`,
                "list two or more guests",
            );
            ok = false;
        }
        const hostNames = [...new Set(members.map((m) => guests.get(m)?.host?.name).filter((h): h is string => h !== undefined))];
        if (hostNames.length > 1) {
            r.report(
                f("members"),
                spec.members,
                `has guests on hosts ${hostNames.join(" and ")}; shared memory exists on one host only`,
                "put every member guest on the same host",
            );
            ok = false;
        }
        if (name !== undefined) named.push({ name, members });
        if (!ok || name === undefined || !size) return;
        links.push({ name, size, members, hugepages, host: hostNames[0] ?? "" });
    });
    return { links, named };
}
