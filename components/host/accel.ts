/**
 * Chooses how guests are accelerated on a host: KVM when it can run stock
 * guest kernels, TCG (QEMU's software emulation) otherwise. Under TCG every
 * latency figure is far from hardware, which the kit says in its outputs.
 */
import type { HostAccess } from "./access";

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
export async function chooseAccel(host: HostAccess, requested: "auto" | Accel = "auto"): Promise<AccelChoice> {
    if (requested !== "auto") {
        return { accel: requested, reason: `set to ${requested} in the pod spec` };
    }
    // The kit reads the host's files before it trusts libvirt's answer.
    if (!(await host.exists("/dev/kvm"))) {
        return { accel: "tcg", reason: "TCG: /dev/kvm is missing on this host, so guests run under software emulation" };
    }
    // PVM (kvm_pvm) only runs guests built for it: stock Debian kernels fail to boot.
    if (await host.exists("/sys/module/kvm_pvm")) {
        return { accel: "tcg", reason: "TCG: /dev/kvm is PVM (kvm_pvm), which cannot run stock guest kernels; latency figures are not hardware figures" };
    }
    try {
        await host.virsh(["domcapabilities", "--virttype", "kvm"], { timeoutMs: 30_000 });
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
