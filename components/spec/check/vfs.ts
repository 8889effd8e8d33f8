/**
 * A guest's `vfs:`: each VF by its PF and index on the host, PCI address,
 * MAC, VLAN, trust, spoofchk and how the guest takes it. Cross-references:
 * the PF is one the guest's host declares, the index is within its vfCount,
 * no VF, PCI address or MAC is taken twice, and the guest sits on the node of
 * its VFs' PF.
 */
import type { CheckedVf } from "../checked";
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";
import { VF_ATTACH } from "../types";
import { MacAddress, PciAddress } from "../units";
import type { HostDraft } from "./fields";

const vfKeys = ["pf", "vf", "pciAddress", "mac", "vlan", "trust", "spoofchk", "attach"] as const;

/** What VFs taken so far hold, across the pod's guests. */
export interface VfContext {
    /** PCI address → path of the VF entry that took it first. */
    pciSeen: Map<string, string>;
    macSeen: Map<string, string>;
    /** Per host, "pf VF n" → path of the guest's VF entry that took it first. */
    vfSeen: Map<string, Map<string, string>>;
}

export function readVfs(r: SpecReader, value: unknown, path: string, host: HostDraft | undefined, ctx: VfContext): CheckedVf[] {
    const { pciSeen, macSeen } = ctx;
    const vfSeen = ctx.vfSeen.get(host?.name ?? "") ?? new Map<string, string>();
    if (host) ctx.vfSeen.set(host.name, vfSeen);
    const items = r.list(value, path, '[{ pf: enp1s0, pciAddress: "0000:01:10.2" }]') ?? [];
    const vfs: CheckedVf[] = [];
    items.forEach((item, j) => {
        const p = joinPath(path, j);
        const f = (key: string) => joinPath(p, key);
        const spec = r.object(item, p, vfKeys, ["pf", "pciAddress"]);
        if (!spec) return;
        if (spec.vf === undefined || spec.vf === null) {
            r.report(
                f("vf"),
                undefined,
                "is required: the kit creates the VF and sets its trust and spoofchk by its index on the PF (`ip link set <pf> vf <index>`)",
                "add vf: <index of the VF on its PF>, e.g. vf: 0",
            );
        }
        const pfName = r.string(spec.pf, f("pf"));
        const vf = r.integer(spec.vf, f("vf"), 0, 4095);
        const pci = spec.pciAddress === undefined ? undefined : r.unit(PciAddress.tryParse(spec.pciAddress, f("pciAddress")));
        const mac = spec.mac === undefined ? undefined : r.unit(MacAddress.tryParse(spec.mac, f("mac")));
        const vlan = r.integer(spec.vlan, f("vlan"), 1, 4094);
        const trust = r.boolean(spec.trust, f("trust")) ?? false;
        const spoofchk = r.boolean(spec.spoofchk, f("spoofchk")) ?? true;
        const attach = r.choice(spec.attach, f("attach"), VF_ATTACH) ?? "interface";
        if (host && pfName !== undefined) {
            const pf = host.pfs.find((x) => x.name === pfName);
            if (!pf && host.pfNamesWritten.has(pfName)) {
                // A PF written with a problem of its own: that problem is reported, not this one again.
            } else if (!pf) {
                r.unknownReference(
                    f("pf"),
                    pfName,
                    `PF of host ${host.name}`,
                    host.pfs.map((x) => x.name),
                );
            } else if (vf !== undefined && pf.vfCount === undefined) {
                r.report(
                    f("vf"),
                    vf,
                    `is a VF of PF ${pfName}, whose vfCount host ${host.name} does not give`,
                    `add vfCount (how many VFs the PF gets) to PF ${pfName} of host ${host.name}`,
                );
            } else if (vf !== undefined && pf.vfCount !== undefined && vf >= pf.vfCount) {
                r.report(
                    f("vf"),
                    vf,
                    `is beyond the ${pf.vfCount} VFs of PF ${pfName} (VFs 0-${pf.vfCount - 1})`,
                    `use a VF below ${pf.vfCount}, or raise vfCount of PF ${pfName} on host ${host.name}`,
                );
            }
        }
        if (pci) r.unique(pci.toString(), f("pciAddress"), pciSeen, "VF PCI address");
        // A repeated PCI address already says the VF is taken twice; the index would say it again.
        const pciNew = !pci || pciSeen.get(pci.toString()) === f("pciAddress");
        if (host && pfName !== undefined && vf !== undefined && pciNew) {
            r.unique(`${pfName} VF ${vf}`, f("vf"), vfSeen, `VF of host ${host.name}, ${pfName} VF ${vf},`);
        }
        if (mac) r.unique(mac.toString(), f("mac"), macSeen, "MAC address");
        if (pfName === undefined || !pci) return;
        vfs.push({
            pf: pfName,
            ...(vf !== undefined ? { vf } : {}),
            pciAddress: pci,
            ...(mac ? { mac } : {}),
            ...(vlan !== undefined ? { vlan } : {}),
            trust,
            spoofchk,
            attach,
        });
    });
    return vfs;
}

/**
 * The guest's NUMA node given its VFs: the node of their PF when the guest
 * names none; a problem when its VFs' PFs sit on two nodes, or when it names
 * another node than theirs.
 */
export function vfNumaNode(
    r: SpecReader,
    spec: Record<string, unknown>,
    f: (key: string) => string,
    host: HostDraft | undefined,
    vfs: CheckedVf[],
    numaNode: number | undefined,
): number | undefined {
    let chosenNode = numaNode;
    const pfNodes = [...new Set(vfs.map((v) => host?.pfs.find((pf) => pf.name === v.pf)?.numaNode).filter((n): n is number => n !== undefined))];
    if (pfNodes.length > 1) {
        r.report(
            f("vfs"),
            spec.vfs,
            `takes VFs from PFs on NUMA nodes ${pfNodes.join(" and ")}; a guest's memory and CPUs sit on one node`,
            "take VFs of PFs on one node, or split the guest",
        );
    } else if (pfNodes.length === 1 && numaNode !== undefined && numaNode !== pfNodes[0]) {
        r.report(
            f("numaNode"),
            numaNode,
            `is not the node of the guest's VFs (their PF is on node ${pfNodes[0]}); every packet would cross the interconnect`,
            `set numaNode: ${pfNodes[0]} or take VFs of a PF on node ${numaNode}`,
        );
    } else if (pfNodes.length === 1) chosenNode = pfNodes[0];
    return chosenNode;
}
