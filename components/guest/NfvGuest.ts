import * as pulumi from "@pulumi/pulumi";
import type { GuestImage } from "../../guest-images/build";
import type { Accel } from "../host/accel";
import { Domain } from "../libvirt/Domain";
import { renderDomainXml } from "../render/domainXml";
import { describePinning, parseCputune } from "../libvirt/cputune";
import type { ResolvedGuest } from "../spec/resolve";
import { tokens } from "../tokens";

/** The line the guest image's init prints once it is up (see guest-images/init). */
export const GUEST_READY_LINE = "NFVKIT-READY";

export interface NfvGuestArgs {
    /** The guest as resolved from the pod spec: pinning planned, defaults filled. */
    guest: ResolvedGuest;
    /** libvirt URI of the guest's host, e.g. `qemu:///system`. */
    uri: string;
    /** Kernel and initrd to boot. Changing the image replaces the guest. */
    image: pulumi.Input<GuestImage>;
    /** `kvm`, or `tcg` where KVM cannot run stock guests (see host/accel.ts). */
    accel: Accel;
    /**
     * Host directory for the serial console log.
     * @default "/var/log/libvirt/qemu": where libvirt keeps its own per-domain logs, so virtlogd may write there.
     */
    consoleDir?: string;
    /**
     * Seconds to wait for the guest agent and the ready line after start.
     * @default 180 under TCG (an RT kernel boots in seconds, but a loaded 2-core host is slow), 60 under KVM.
     */
    bootTimeoutSec?: number;
    /** Key/values written into the domain's metadata, so people and tools can tell whose domain it is. */
    metadata?: Record<string, string>;
}

/**
 * A pinned, hugepage-backed NFV guest on a libvirt host. It is ready when it
 * has booted (its agent answers, the ready line is on its console) and libvirt
 * reports the vCPU pinning that was asked for.
 */
export class NfvGuest extends pulumi.ComponentResource {
    /** Domain name on the host. */
    readonly domainName: pulumi.Output<string>;
    /** libvirt URI of the host. */
    readonly uri: pulumi.Output<string>;
    /** Host path of the serial console log. */
    readonly consoleLog: pulumi.Output<string>;
    /** Seconds from start until the guest agent answered. */
    readonly bootSeconds: pulumi.Output<number>;
    /** vCPU → host CPU set, as libvirt reports it after start. */
    readonly vcpuPins: pulumi.Output<Record<string, string>>;
    /** The rendered domain XML. */
    readonly xml: pulumi.Output<string>;
    /** libvirt's UUID of the domain; a new one means the guest was replaced. */
    readonly uuid: pulumi.Output<string>;

    constructor(name: string, args: NfvGuestArgs, opts?: pulumi.ComponentResourceOptions) {
        super(tokens.nfvGuest, name, {}, opts);
        const { guest, uri, accel } = args;
        const consoleLog = `${args.consoleDir ?? "/var/log/libvirt/qemu"}/${guest.domainName}-console.log`;
        const xml = pulumi.output(args.image).apply((image) =>
            renderDomainXml(guest, {
                virtType: accel === "kvm" ? "kvm" : "qemu",
                kernelPath: image.kernel,
                initrdPath: image.initrd,
                baseCmdline: `console=ttyS0 nfvkit.name=${guest.name}`,
                consoleLogPath: consoleLog,
                metadata: { guest: guest.name, ...args.metadata },
            }),
        );
        const facts = pulumi.output(args.image).apply((image) => guestFacts(guest, accel, image.hash));
        const domain = new Domain(
            `${name}-domain`,
            {
                uri,
                name: guest.domainName,
                xml,
                pinning: xml.apply((x) => describePinning(parseCputune(x))),
                facts,
                consoleLog,
                readyPattern: `${GUEST_READY_LINE} name=${guest.name}`,
                bootTimeoutSec: args.bootTimeoutSec ?? (accel === "tcg" ? 180 : 60),
            },
            { parent: this },
        );
        this.domainName = domain.name;
        this.uri = domain.uri;
        this.consoleLog = domain.consoleLog;
        this.bootSeconds = domain.bootSeconds;
        this.vcpuPins = domain.observedVcpuPins;
        this.xml = xml;
        this.uuid = domain.uuid;
        this.registerOutputs({
            uuid: this.uuid,
            domainName: this.domainName,
            uri: this.uri,
            consoleLog: this.consoleLog,
            bootSeconds: this.bootSeconds,
            vcpuPins: this.vcpuPins,
            xml: this.xml,
        });
    }
}

/**
 * What a person would name when a guest must be rebuilt: the facts behind its
 * domain XML, apart from the pinning that can change live.
 */
export function guestFacts(guest: ResolvedGuest, accel: Accel, imageHash: string): Record<string, string> {
    const facts: Record<string, string> = {
        accel,
        image: imageHash,
        vcpus: String(guest.vcpus),
        memory: `${guest.memoryMiB} MiB`,
        pageSize: guest.pageSizeKiB === 4 ? "4 KiB (no hugepages)" : `${guest.pageSizeKiB} KiB`,
        numaNode: String(guest.numaNode),
        rtVcpus:
            guest.pins
                .filter((p) => p.role === "rt")
                .map((p) => p.vcpu)
                .join(",") || "none",
        iothreads: String(guest.iothreads),
        kernelArgs: guest.kernelArgs.join(" "),
    };
    for (const [knob, value] of Object.entries(guest.knobs ?? {})) {
        facts[`knobs.${knob}`] = JSON.stringify(value);
    }
    for (const shm of guest.shmem) {
        facts[`shmem.${shm.name}`] = `${shm.sizeBytes} bytes${shm.hugepages ? " on hugepages" : ""}`;
    }
    guest.vfs.forEach((vf, i) => {
        facts[`vf.${i}`] = [vf.pf, vf.pciAddress, vf.mac ?? "", vf.vlan ?? "", vf.trust ? "trust" : "", vf.spoofchk ? "spoofchk" : ""].join(" ").trim();
    });
    return facts;
}
