/**
 * Chooses how guests are accelerated on a host: KVM when it can run stock
 * guest kernels, TCG (QEMU's software emulation) otherwise. Under TCG every
 * latency figure is far from hardware, which the kit says in its outputs.
 *
 * Split in two so the choice itself is plain data in, plain data out (tested
 * with a table of host facts, both branches): `readAccelFacts` reads the host,
 * `accelFromFacts` decides.
 */
import type { HostAccess } from "./access";

export type Accel = "kvm" | "tcg";

export interface AccelChoice {
    accel: Accel;
    /** Why this accelerator, in words for the stack outputs. */
    reason: string;
}

/** What the choice rests on, as read from the host. */
export interface AccelFacts {
    /** /dev/kvm exists. */
    kvmDevice: boolean;
    /** The kvm_pvm module is loaded: /dev/kvm is PVM, which runs only guests built for it. */
    pvm: boolean;
    /** libvirt answers `virsh domcapabilities --virttype kvm`; undefined when not asked (no usable /dev/kvm). */
    libvirtOffersKvm?: boolean;
}

/** Reads the host's facts the choice needs; libvirt is asked only when /dev/kvm could run stock kernels. */
export async function readAccelFacts(host: HostAccess): Promise<AccelFacts> {
    // The kit reads the host's files before it trusts libvirt's answer.
    const kvmDevice = await host.exists("/dev/kvm");
    const pvm = kvmDevice && (await host.exists("/sys/module/kvm_pvm"));
    if (!kvmDevice || pvm) return { kvmDevice, pvm };
    const libvirtOffersKvm = await host.virsh(["domcapabilities", "--virttype", "kvm"], { timeoutMs: 30_000 }).then(
        () => true,
        () => false,
    );
    return { kvmDevice, pvm, libvirtOffersKvm };
}

/**
 * The accelerator for a host with these facts.
 * @param requested "auto" decides from the facts; "kvm" or "tcg" forces (a forced kvm on a
 * host without usable KVM fails later, at domain start, with libvirt's words).
 */
export function accelFromFacts(facts: AccelFacts, requested: "auto" | Accel = "auto"): AccelChoice {
    if (requested !== "auto") return { accel: requested, reason: `set to ${requested} in the pod spec` };
    if (!facts.kvmDevice) return { accel: "tcg", reason: "TCG: /dev/kvm is missing on this host, so guests run under software emulation" };
    // PVM (kvm_pvm) only runs guests built for it: stock Debian kernels fail to boot.
    if (facts.pvm) {
        return { accel: "tcg", reason: "TCG: /dev/kvm is PVM (kvm_pvm), which cannot run stock guest kernels; latency figures are not hardware figures" };
    }
    if (facts.libvirtOffersKvm) return { accel: "kvm", reason: "KVM: libvirt offers the kvm domain type on this host" };
    return { accel: "tcg", reason: "TCG: libvirt offers no kvm domain type on this host" };
}

/**
 * @param host the host, through its access: its files tell PVM, its libvirt whether KVM is offered.
 * @param requested "auto" detects; "kvm" or "tcg" forces (see accelFromFacts).
 */
export async function chooseAccel(host: HostAccess, requested: "auto" | Accel = "auto"): Promise<AccelChoice> {
    if (requested !== "auto") return accelFromFacts({ kvmDevice: false, pvm: false }, requested);
    return accelFromFacts(await readAccelFacts(host), requested);
}

/** The choice for a host the kit does not reach (libvirt's test driver, or a host with no access): what the spec says, else TCG, said as such. */
export function unreachedAccel(requested: "auto" | Accel = "auto"): AccelChoice {
    if (requested !== "auto") return { accel: requested, reason: `set to ${requested} in the pod spec` };
    return { accel: "tcg", reason: "TCG: the kit does not reach this host to ask libvirt for KVM; set accel in the pod spec" };
}
