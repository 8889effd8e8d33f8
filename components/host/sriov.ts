/**
 * SR-IOV physical functions of a host, read from sysfs and `ip` through
 * HostAccess (local or SSH), as host facts: validation checks VF requests
 * against them, and the SriovPf resource reads them for drift.
 */
import type { HostAccess } from "./access";

/** One VF as the PF's driver and the kernel show it. */
export interface VfState {
    index: number;
    /** PCI address of the VF ("0000:00:03.1"). */
    pciAddress: string;
    /** The driver the VF is bound to ("igbvf", "vfio-pci"), or "" when none. */
    driver: string;
    /** As the PF reports it (`ip -j link show <pf>`'s vfinfo_list). */
    mac?: string;
    vlan?: number;
    trust?: boolean;
    spoofchk?: boolean;
    /** Mbit/s; 0 means no limit. */
    maxTxRate?: number;
}

/** One PF. */
export interface PfFacts {
    /** Its netdev name, as `ip link` shows it. */
    name: string;
    pciAddress: string;
    driver: string;
    /** sysfs numa_node; -1 on a machine without NUMA information, reported as 0 (the only node). */
    numaNode: number;
    totalVfs: number;
    numVfs: number;
    /** Whether the netdev is up (VFs can only be created on an up PF with some drivers, igb among them). */
    up: boolean;
    vfs: VfState[];
}

const NET = "/sys/class/net";

/** The basename a sysfs symlink points to (a PCI address, a driver name), or "" when it does not exist. */
async function linkName(host: HostAccess, link: string): Promise<string> {
    const out = await host.run(["readlink", "-f", link], { nothrow: true });
    if (out.exitCode !== 0 || !(await host.exists(link))) return "";
    return out.stdout.trim().split("/").pop() ?? "";
}

interface IpVfInfo {
    vf: number;
    address?: string;
    vlan_list?: { vlan?: number }[];
    spoofchk?: boolean;
    trust?: boolean;
    max_tx_rate?: number;
}

/** The PF's view of its VFs (`ip -j -d link show <pf>`). */
export async function readVfInfo(host: HostAccess, pf: string): Promise<IpVfInfo[]> {
    const out = await host.run(["ip", "-j", "-d", "link", "show", "dev", pf]);
    const parsed = JSON.parse(out.stdout) as { vfinfo_list?: IpVfInfo[] }[];
    return parsed[0]?.vfinfo_list ?? [];
}

/** Facts of one PF by netdev name, or undefined when the netdev is not an SR-IOV PF. */
export async function readPf(host: HostAccess, name: string): Promise<PfFacts | undefined> {
    const dev = `${NET}/${name}/device`;
    const total = await host.tryReadFile(`${dev}/sriov_totalvfs`);
    if (total === undefined) return undefined;
    const [pciAddress, driver, numa, numVfs, operstate, flags] = await Promise.all([
        linkName(host, dev),
        linkName(host, `${dev}/driver`),
        host.tryReadFile(`${dev}/numa_node`),
        host.readFile(`${dev}/sriov_numvfs`),
        host.tryReadFile(`${NET}/${name}/operstate`),
        host.tryReadFile(`${NET}/${name}/flags`),
    ]);
    const numa_ = Number((numa ?? "-1").trim());
    const info = await readVfInfo(host, name);
    const vfs: VfState[] = [];
    for (let index = 0; index < Number(numVfs.trim()); index++) {
        const vfPci = await linkName(host, `${dev}/virtfn${index}`);
        const vfDriver = vfPci ? await linkName(host, `/sys/bus/pci/devices/${vfPci}/driver`) : "";
        const i = info.find((v) => v.vf === index);
        vfs.push({
            index,
            pciAddress: vfPci,
            driver: vfDriver,
            ...(i?.address ? { mac: i.address } : {}),
            ...(i ? { vlan: i.vlan_list?.[0]?.vlan ?? 0, trust: !!i.trust, spoofchk: !!i.spoofchk, maxTxRate: i.max_tx_rate ?? 0 } : {}),
        });
    }
    // IFF_UP is bit 0 of the flags; operstate alone says "down" for an up PF without carrier.
    const up = (Number(flags?.trim() ?? "0") & 1) === 1 || operstate?.trim() === "up";
    return { name, pciAddress, driver, numaNode: numa_ < 0 ? 0 : numa_, totalVfs: Number(total.trim()), numVfs: Number(numVfs.trim()), up, vfs };
}

/** Every SR-IOV PF of the host (netdevs whose device has sriov_totalvfs), sorted by name. */
export async function discoverPfs(host: HostAccess): Promise<PfFacts[]> {
    const names = await host.listDir(NET);
    const pfs: PfFacts[] = [];
    for (const name of names) {
        const pf = await readPf(host, name);
        if (pf && pf.totalVfs > 0) pfs.push(pf);
    }
    return pfs;
}
