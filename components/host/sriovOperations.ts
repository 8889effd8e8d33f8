/**
 * One SR-IOV PF of a host, brought to the VFs the pod asks for: sets
 * sriov_numvfs, then per VF its MAC, VLAN, trust, spoofchk (and rate) with
 * `ip link set <pf> vf N ...`, and binds the VFs that guests take over VFIO
 * to vfio-pci. What the PF had before (numvfs, each VF's driver) is kept in
 * the state, so delete puts it back. The Operations of the nfvkit provider's
 * SriovPf.
 */
import type * as provider from "@pulumi/pulumi/provider";
import type { OperationContext } from "../types/operations";
import { accessOf, type HostAccess, type HostTarget } from "./access";
import { readPf, type PfFacts, type VfState } from "./sriov";
import { HostCommandError, HostFileError } from "./access/errors";
import { problemError } from "../spec/problems";

/** One VF as the pod wants it. */
export interface VfSettings {
    index: number;
    /** @default left to the driver */
    mac?: string;
    /** 1-4094. @default 0: untagged */
    vlan?: number;
    /** @default false: a VF may not change its MAC or go promiscuous */
    trust?: boolean;
    /** @default true: source MAC anti-spoofing, the driver's safe default */
    spoofchk?: boolean;
    /** Mbit/s cap on what the VF sends. @default no cap (ip link's 0) */
    maxTxRate?: number;
    /** "vfio-pci" to hand the VF to a guest by VFIO; "default" leaves it on the VF driver (for `<interface type='direct'>` or host use). @default "vfio-pci" */
    bind?: "vfio-pci" | "default";
}

export interface SriovPfInputs {
    /** Host name in the pod spec, for messages. */
    host: string;
    /** The PF's netdev name. */
    pf: string;
    /** How many VFs the PF gets (sriov_numvfs). */
    numVfs: number;
    vfs: VfSettings[];
    /** How the host is reached. @default this machine */
    access?: HostTarget;
}

export interface SriovPfOutputs extends SriovPfInputs {
    pciAddress: string;
    /** What the PF had when the kit first took it, restored on delete. */
    before: { numVfs: number; up: boolean };
    /** The VFs as read back after the change (PCI address, driver, MAC, VLAN, trust, spoofchk). */
    state: VfState[];
}

function vfDefaults(v: VfSettings): Required<Omit<VfSettings, "mac">> & { mac?: string } {
    return {
        index: v.index,
        mac: v.mac?.toLowerCase(),
        vlan: v.vlan ?? 0,
        trust: v.trust ?? false,
        spoofchk: v.spoofchk ?? true,
        maxTxRate: v.maxTxRate ?? 0,
        bind: v.bind ?? "vfio-pci",
    };
}

export async function check(_olds: unknown, news: SriovPfInputs): Promise<provider.CheckResult> {
    const failures: provider.CheckFailure[] = [];
    if (!Number.isInteger(news.numVfs) || news.numVfs < 0) failures.push({ property: "numVfs", reason: `must be a whole number ≥ 0, got ${news.numVfs}` });
    for (const v of news.vfs ?? []) {
        if (!Number.isInteger(v.index) || v.index < 0 || v.index >= news.numVfs) {
            failures.push({ property: "vfs", reason: `VF ${v.index} is not one of the PF's ${news.numVfs} VFs (0-${news.numVfs - 1})` });
        }
    }
    return { inputs: { ...news, vfs: news.vfs ?? [] }, failures };
}

export async function diff(_id: string, olds: SriovPfOutputs, news: SriovPfInputs): Promise<provider.DiffResult> {
    const replaces = (["host", "pf"] as const).filter((k) => olds[k] !== news[k]);
    const changed = olds.numVfs !== news.numVfs || JSON.stringify(olds.vfs.map(vfDefaults)) !== JSON.stringify(news.vfs.map(vfDefaults));
    // Drift that read() found (a VF's MAC or driver changed behind the kit) also makes a change, so `up` repairs it.
    const drift = olds.state ? driftOf(olds.state, news).length > 0 : false;
    return { changes: replaces.length > 0 || changed || drift, replaces, deleteBeforeReplace: true };
}

/** Where the VFs as read differ from the wanted settings, in VF words ("VF 0: mac 52:.. → 02:.."). */
export function driftOf(state: VfState[], want: Pick<SriovPfInputs, "numVfs" | "vfs">): string[] {
    const out: string[] = [];
    if (state.length !== want.numVfs) out.push(`numvfs ${state.length} → ${want.numVfs}`);
    for (const raw of want.vfs) {
        const w = vfDefaults(raw);
        const s = state.find((x) => x.index === w.index);
        if (!s) continue;
        if (w.mac && s.mac?.toLowerCase() !== w.mac) out.push(`VF ${w.index}: mac ${s.mac} → ${w.mac}`);
        if ((s.vlan ?? 0) !== w.vlan) out.push(`VF ${w.index}: vlan ${s.vlan ?? 0} → ${w.vlan}`);
        if (s.trust !== undefined && s.trust !== w.trust) out.push(`VF ${w.index}: trust ${onOff(s.trust)} → ${onOff(w.trust)}`);
        if (s.spoofchk !== undefined && s.spoofchk !== w.spoofchk) out.push(`VF ${w.index}: spoofchk ${onOff(s.spoofchk)} → ${onOff(w.spoofchk)}`);
        if (w.bind === "vfio-pci" && s.driver !== "vfio-pci") out.push(`VF ${w.index}: driver ${s.driver || "none"} → vfio-pci`);
    }
    return out;
}

const onOff = (b: boolean) => (b ? "on" : "off");

async function pfOf(host: HostAccess, inputs: Pick<SriovPfInputs, "host" | "pf">): Promise<PfFacts> {
    const pf = await readPf(host, inputs.pf);
    if (!pf)
        throw problemError(
            "SR-IOV PF",
            "pf",
            inputs.pf,
            `is not an SR-IOV PF of host ${inputs.host} (/sys/class/net/${inputs.pf}/device/sriov_totalvfs is missing)`,
            "name one of the PFs the host facts list (npm run validate shows them)",
        );
    return pf;
}

/** Sets numvfs (through 0: the kernel refuses a change from one non-zero count to another). */
async function setNumVfs(host: HostAccess, pf: PfFacts, n: number): Promise<void> {
    if (pf.numVfs === n) return;
    const file = `/sys/class/net/${pf.name}/device/sriov_numvfs`;
    if (n > pf.totalVfs)
        throw problemError("SR-IOV PF", "numVfs", n, `is more than PF ${pf.name} offers: ${pf.totalVfs} VFs (sriov_totalvfs)`, `ask at most ${pf.totalVfs}`);
    if (pf.numVfs !== 0) await host.writeFile(file, "0");
    if (n !== 0) await host.writeFile(file, String(n));
}

/** Binds a VF to a driver through driver_override (so no other VF or device of the same ID moves), or back to its default. */
async function bindVf(host: HostAccess, pci: string, driver: "vfio-pci" | "default"): Promise<void> {
    const dev = `/sys/bus/pci/devices/${pci}`;
    if (driver === "vfio-pci") await host.run(["modprobe", "vfio-pci"]);
    const current = (await host.run(["readlink", "-f", `${dev}/driver`], { nothrow: true })).stdout.trim().split("/").pop() ?? "";
    const bound = await host.exists(`${dev}/driver`);
    const want = driver === "vfio-pci" ? "vfio-pci" : "";
    if (bound && want !== "" && current === want) return;
    await host.writeFile(`${dev}/driver_override`, want === "" ? "\n" : want);
    if (bound) {
        // Through the driver's own folder: a VF just created may still be probing, and its unbind then refuses for a moment.
        const unbind = `/sys/bus/pci/drivers/${current}/unbind`;
        await host.writeFile(unbind, pci).catch(async () => {
            await new Promise((r) => setTimeout(r, 2000));
            await host.writeFile(unbind, pci);
        });
    }
    await host.writeFile("/sys/bus/pci/drivers_probe", pci);
}

async function apply(host: HostAccess, inputs: SriovPfInputs): Promise<{ pf: PfFacts; state: VfState[] }> {
    let pf = await pfOf(host, inputs);
    // igb (and most PF drivers) create VFs only on an up PF.
    if (!pf.up) await host.run(["ip", "link", "set", "dev", pf.name, "up"]);
    await setNumVfs(host, pf, inputs.numVfs);
    for (const raw of inputs.vfs) {
        const v = vfDefaults(raw);
        const argv = ["ip", "link", "set", "dev", pf.name, "vf", String(v.index)];
        if (v.mac) argv.push("mac", v.mac);
        argv.push("vlan", String(v.vlan), "trust", onOff(v.trust), "spoofchk", onOff(v.spoofchk));
        if (raw.maxTxRate !== undefined) argv.push("max_tx_rate", String(v.maxTxRate));
        await host.run(argv);
    }
    pf = await pfOf(host, inputs);
    for (const raw of inputs.vfs) {
        const v = vfDefaults(raw);
        const vf = pf.vfs.find((x) => x.index === v.index);
        if (!vf?.pciAddress)
            throw new HostFileError(
                inputs.host,
                `/sys/class/net/${pf.name}/device/sriov_numvfs`,
                "write",
                false,
                `VF ${v.index} has no PCI device after setting sriov_numvfs=${inputs.numVfs}`,
            );
        await bindVf(host, vf.pciAddress, v.bind);
    }
    pf = await pfOf(host, inputs);
    const drift = driftOf(pf.vfs, inputs);
    if (drift.length > 0)
        throw new HostCommandError(
            inputs.host,
            ["ip", "link", "show", "dev", pf.name],
            0,
            "",
            "",
            "exit",
            `PF ${pf.name}'s VFs are not as asked after the change: ${drift.join("; ")}`,
        );
    return { pf, state: pf.vfs };
}

export async function create(inputs: SriovPfInputs, _ctx: OperationContext): Promise<provider.CreateResult> {
    const host = accessOf(inputs.access);
    const before = await pfOf(host, inputs);
    const { pf, state } = await apply(host, inputs);
    const outs: SriovPfOutputs = { ...inputs, pciAddress: pf.pciAddress, before: { numVfs: before.numVfs, up: before.up }, state };
    return { id: `${inputs.host}/${inputs.pf}`, outs };
}

export async function read(id: string, props: SriovPfOutputs): Promise<provider.ReadResult> {
    const host = accessOf(props.access);
    const pf = await readPf(host, props.pf);
    if (!pf) return { id: "", props: {} };
    // The state is what is there; the inputs stay what was asked, so the next diff sees the drift.
    return { id, props: { ...props, pciAddress: pf.pciAddress, state: pf.vfs } };
}

export async function update(_id: string, olds: SriovPfOutputs, news: SriovPfInputs): Promise<provider.UpdateResult> {
    const host = accessOf(news.access);
    // VFs the pod no longer binds to vfio-pci go back to their driver before numvfs changes.
    const { pf, state } = await apply(host, news);
    return { outs: { ...news, pciAddress: pf.pciAddress, before: olds.before, state } };
}

export async function deletePf(_id: string, props: SriovPfOutputs, ctx?: OperationContext): Promise<void> {
    const host = accessOf(props.access);
    const pf = await readPf(host, props.pf);
    if (!pf) return;
    // VFs leave vfio-pci first (driver_override cleared), so the ones kept come back on their own driver.
    for (const vf of pf.vfs) if (vf.pciAddress && vf.driver === "vfio-pci") await bindVf(host, vf.pciAddress, "default");
    if (!props.before) {
        // A create that died before it reported (`npm run down` after an interrupted run): what the PF had is not known,
        // and guessing could take VFs from someone else, so the count and the link stay as they are.
        ctx?.progress?.say(`PF ${pf.name} on ${props.host}: its VFs are off vfio-pci; sriov_numvfs stays ${pf.numVfs}, as the interrupted run left it`);
        return;
    }
    await setNumVfs(host, pf, props.before.numVfs);
    if (!props.before.up) await host.run(["ip", "link", "set", "dev", pf.name, "down"]);
}
export { deletePf as delete };
