import * as pulumi from "@pulumi/pulumi";
import type { HostTarget } from "../host/access";
import type { GuestImage } from "../types/guestImage";
import { Domain } from "../libvirt/Domain";
import { describePinning } from "../libvirt/cputune";
import { withImage } from "../plan/guestFacts";
import type { GuestPlan } from "../plan/podPlan";
import { cputuneOf } from "../render/cputune";
import { renderDomainXml } from "../render/domainXml";
import { tokens } from "../tokens";

/** The line the guest image's init prints once it is up (see guest-images/init). */
export const GUEST_READY_LINE = "NFVKIT-READY";

export interface NfvGuestArgs {
    /**
     * The guest as planned (PodPlan.guests): pinning, domain name, host URI,
     * accelerator, console log path, render settings and preview facts.
     */
    guest: GuestPlan;
    /** Kernel and initrd to boot. Changing the image replaces the guest. */
    image: pulumi.Input<GuestImage>;
    /**
     * Seconds to wait for the guest agent and the ready line after start.
     * @default 180 under TCG (an RT kernel boots in seconds, but a loaded 2-core host is slow), 60 under KVM.
     */
    bootTimeoutSec?: number;
    /** Key/values written into the domain's metadata, so people and tools can tell whose domain it is. */
    metadata?: Record<string, string>;
    /** How the guest's host is reached for its console log and FIFO priorities. @default this machine */
    access?: pulumi.Input<HostTarget>;
    /**
     * The stack's lineage (a StackLineage's `lineage`), stamped on the domain with its URN, so a
     * stack of the same name in another backend never takes or removes it (docs/ownership.md).
     * @default none: the URN alone owns the domain
     */
    lineage?: pulumi.Input<string>;
}

/** A guest's outputs, whether an NfvGuest component holds its domain or the pod registers the domain alone. */
export interface GuestOutputs {
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
}

// The component has exactly a guest's outputs: declared once, in GuestOutputs.
export interface NfvGuest extends GuestOutputs {}

/**
 * A pinned, hugepage-backed NFV guest on a libvirt host. It is ready when it
 * has booted (its agent answers, the ready line is on its console) and libvirt
 * reports the vCPU pinning that was asked for.
 */
export class NfvGuest extends pulumi.ComponentResource {
    constructor(name: string, args: NfvGuestArgs, opts?: pulumi.ComponentResourceOptions) {
        super(tokens.nfvGuest, name, {}, opts);
        const { domain: _domain, ...outputs } = createGuestDomain(name, args, { parent: this });
        Object.assign(this, outputs);
        this.registerOutputs(outputs);
    }
}

/**
 * The guest's one resource: its libvirt domain, named `<name>-domain`, with
 * the rendered XML. NfvGuest parents it to itself; a large TestPod registers
 * it directly (TestPodArgs.guestComponents), which halves the registrations
 * per guest.
 */
export function createGuestDomain(name: string, args: NfvGuestArgs, opts: pulumi.CustomResourceOptions): GuestOutputs & { domain: Domain } {
    const { guest } = args;
    // The pins travel as values from the plan to the provider; the XML's <cputune> is written from the same values.
    const cputune = cputuneOf(guest);
    const xml = pulumi.output(args.image).apply((image) =>
        renderDomainXml(guest, {
            ...guest.render,
            kernelPath: image.kernel,
            initrdPath: image.initrd,
            metadata: { guest: guest.name, ...args.metadata },
        }),
    );
    const domain = new Domain(
        `${name}-domain`,
        {
            uri: guest.uri,
            name: guest.domainName,
            xml,
            cputune,
            pinning: describePinning(cputune),
            facts: pulumi.output(args.image).apply((image) => withImage(guest.facts, image.hash)),
            consoleLog: guest.consoleLog,
            readyPattern: `${GUEST_READY_LINE} name=${guest.name}`,
            bootTimeoutSec: args.bootTimeoutSec ?? (guest.accel === "tcg" ? 180 : 60),
            ...(args.access ? { access: args.access } : {}),
            ...(args.lineage ? { lineage: args.lineage } : {}),
        },
        opts,
    );
    return {
        domain,
        domainName: domain.name,
        uri: domain.uri,
        consoleLog: domain.consoleLog,
        bootSeconds: domain.bootSeconds,
        vcpuPins: domain.observedVcpuPins,
        xml,
        uuid: domain.uuid,
    };
}
