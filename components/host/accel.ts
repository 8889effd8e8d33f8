/**
 * Chooses how guests are accelerated on a host: KVM when it can run stock
 * guest kernels, TCG (QEMU's software emulation) otherwise. Under TCG every
 * latency figure is far from hardware, which the kit says in its outputs.
 */
import { virsh, type HostAccess } from "./access";

export type Accel = "kvm" | "tcg";

export interface AccelChoice {
    accel: Accel;
    /** Why this accelerator, in words for the stack outputs. */
    reason: string;
}

/**
 * @param host the host, through its access: its files tell PVM, its libvirt whether KVM is offered.
 * @param requested "auto" detects; "kvm" or "tcg" forces (a forced kvm on a
 * host without usable KVM fails later, at domain start, with libvirt's words).
 */
export async function chooseAccel(host: HostAccess, requested?: "auto" | Accel): Promise<AccelChoice>;
/** @deprecated Pass the host's HostAccess, which gives its libvirt URI: `chooseAccel(host, requested)`. */
export async function chooseAccel(uri: string, requested?: "auto" | Accel, host?: HostAccess): Promise<AccelChoice>;
export async function chooseAccel(hostOrUri: HostAccess | string, requested: "auto" | Accel = "auto", files?: HostAccess): Promise<AccelChoice> {
    if (requested !== "auto") {
        return { accel: requested, reason: `set to ${requested} in the pod spec` };
    }
    const host = typeof hostOrUri === "string" ? files : hostOrUri;
    const opts = { timeoutMs: 30_000 };
    const ask = (args: string[]) => (typeof hostOrUri === "string" ? virsh(hostOrUri, args, opts) : hostOrUri.virsh(args, opts));
    // Where the kit can read the host's files, it looks before it trusts libvirt's answer.
    if (host) {
        if (!(await host.exists("/dev/kvm"))) {
            return { accel: "tcg", reason: "TCG: /dev/kvm is missing on this host, so guests run under software emulation" };
        }
        // PVM (kvm_pvm) only runs guests built for it: stock Debian kernels fail to boot.
        if (await host.exists("/sys/module/kvm_pvm")) {
            return { accel: "tcg", reason: "TCG: /dev/kvm is PVM (kvm_pvm), which cannot run stock guest kernels; latency figures are not hardware figures" };
        }
    }
    try {
        await ask(["domcapabilities", "--virttype", "kvm"]);
        return { accel: "kvm", reason: "KVM: libvirt offers the kvm domain type on this host" };
    } catch {
        return { accel: "tcg", reason: "TCG: libvirt offers no kvm domain type on this host" };
    }
}

/** The choice for a host the kit does not reach (libvirt's test driver, or a host with no access): what the spec says, else TCG, said as such. */
export function unreachedAccel(requested: "auto" | Accel = "auto"): AccelChoice {
    if (requested !== "auto") return { accel: requested, reason: `set to ${requested} in the pod spec` };
    return { accel: "tcg", reason: "TCG: the kit does not reach this host to ask libvirt for KVM; set accel in the pod spec" };
}
