/**
 * Renders a guest's plan as libvirt domain XML. Pure: the same guest and
 * environment give the same text, byte for byte (snapshot-tested, and
 * checked against libvirt's schema with virt-xml-validate).
 *
 * `<cputune>` is one self-contained element: the provider strips it to tell
 * a live pinning update from a change that needs a new domain.
 */
import type { GuestPlan, GuestRenderSettings } from "../plan/podPlan";
import { formatCpuList } from "../spec/units";
import { cputuneLines, cputuneOf } from "./cputune";
import { xmlEscape as esc } from "./xml";

/** Namespace of the kit's `<metadata>` element, so the kit can find its own domains. */
export const NFVKIT_METADATA_NAMESPACE = "urn:nfvkit:domain:1";
/** libvirt's namespace for QEMU command-line passthrough. */
const QEMU_NAMESPACE = "http://libvirt.org/schemas/domain/qemu/1.0";

/** The plan's render settings (virtType, baseCmdline, consoleLogPath) and what only a deploy knows. */
export interface RenderEnv extends GuestRenderSettings {
    /** Guest kernel on the host (direct kernel boot: no disk, no bootloader). */
    kernelPath: string;
    /** Guest initrd on the host. */
    initrdPath: string;
    /** QEMU binary. @default libvirt's choice for the machine type */
    emulator?: string;
    /** Key/values under `<metadata>` in the nfvkit namespace. @default {} */
    metadata?: Record<string, string>;
}

/**
 * What the renderer reads of a guest's plan. Its CPU sets may be any CPU
 * numbers, so a test can move one pin without building a plan.
 */
export type RenderGuest = Pick<
    GuestPlan,
    "domainName" | "vcpus" | "pins" | "iothreads" | "memory" | "pageSize" | "numaNode" | "kernelArgs" | "knobs" | "vfs" | "shmem"
> & { emulatorCpus: Iterable<number>; iothreadCpus: Iterable<number> };

/** The complete domain XML of one guest. */
export function renderDomainXml(guest: RenderGuest, env: RenderEnv): string {
    const k = guest.knobs;
    const kvm = env.virtType === "kvm";
    const memoryKiB = guest.memory.kibibytes;
    const hugeLinks = guest.shmem.filter((s) => s.hugepages);
    const out: string[] = [];
    const add = (indent: number, line: string) => out.push(`${"  ".repeat(indent)}${line}`);

    add(0, `<domain type='${env.virtType}'${hugeLinks.length ? ` xmlns:qemu='${QEMU_NAMESPACE}'` : ""}>`);
    add(1, `<name>${esc(guest.domainName)}</name>`);
    const metadata = Object.entries(env.metadata ?? {});
    if (metadata.length) {
        add(1, "<metadata>");
        add(2, `<nfvkit:kit xmlns:nfvkit='${NFVKIT_METADATA_NAMESPACE}'>`);
        for (const [key, value] of metadata) add(3, `<nfvkit:entry key='${esc(key)}'>${esc(value)}</nfvkit:entry>`);
        add(2, "</nfvkit:kit>");
        add(1, "</metadata>");
    }
    add(1, `<memory unit='KiB'>${memoryKiB}</memory>`);
    add(1, `<currentMemory unit='KiB'>${memoryKiB}</currentMemory>`);

    const backing: string[] = [];
    if (guest.pageSize.kibibytes !== 4) backing.push(`<hugepages><page size='${guest.pageSize.kibibytes}' unit='KiB' nodeset='0'/></hugepages>`);
    if (k.nosharepages) backing.push("<nosharepages/>");
    if (k.locked) backing.push("<locked/>");
    if (backing.length) {
        add(1, "<memoryBacking>");
        for (const line of backing) add(2, line);
        add(1, "</memoryBacking>");
    }
    if (k.memtuneHardLimit) {
        // libvirt sizes RLIMIT_MEMLOCK from hard_limit when memory is locked: RAM + shared regions + QEMU itself.
        const shmKiB = guest.shmem.reduce((sum, s) => sum + s.size.kibibytes, 0);
        add(1, "<memtune>");
        add(2, `<hard_limit unit='KiB'>${memoryKiB + shmKiB + k.hardLimitOverheadMiB * 1024}</hard_limit>`);
        add(1, "</memtune>");
    }
    add(1, `<vcpu placement='static'>${guest.vcpus}</vcpu>`);
    if (guest.iothreads > 0) add(1, `<iothreads>${guest.iothreads}</iothreads>`);
    out.push(...renderCputune(guest).map((line) => `  ${line}`));
    if (k.numatuneStrict) {
        add(1, "<numatune>");
        add(2, `<memory mode='strict' nodeset='${guest.numaNode}'/>`);
        add(2, `<memnode cellid='0' mode='strict' nodeset='${guest.numaNode}'/>`);
        add(1, "</numatune>");
    }

    add(1, "<os>");
    add(2, "<type arch='x86_64' machine='q35'>hvm</type>");
    add(2, `<kernel>${esc(env.kernelPath)}</kernel>`);
    add(2, `<initrd>${esc(env.initrdPath)}</initrd>`);
    add(2, `<cmdline>${esc([env.baseCmdline, ...guest.kernelArgs].filter((s) => s !== "").join(" "))}</cmdline>`);
    add(1, "</os>");

    add(1, "<features>");
    add(2, "<acpi/>");
    add(2, "<apic/>");
    add(2, `<pmu state='${k.pmu ? "on" : "off"}'/>`);
    if (kvm && k.kvmHintDedicated) add(2, "<kvm><hint-dedicated state='on'/></kvm>");
    add(1, "</features>");

    if (kvm && k.cpuHostPassthrough) add(1, "<cpu mode='host-passthrough' check='none' migratable='off'>");
    else if (k.tcgCpuModel === "maximum") add(1, "<cpu mode='maximum' check='none' migratable='off'>");
    else {
        add(1, "<cpu mode='custom' match='exact' check='none'>");
        add(2, `<model fallback='forbid'>${esc(k.tcgCpuModel)}</model>`);
    }
    add(2, `<topology sockets='1' dies='1' clusters='1' cores='${guest.vcpus}' threads='1'/>`);
    if (kvm && k.cpuHostPassthrough && k.tscDeadline) add(2, "<feature policy='require' name='tsc-deadline'/>");
    add(2, "<numa>");
    add(3, `<cell id='0' cpus='${formatCpuList(guest.pins.map((p) => p.vcpu))}' memory='${memoryKiB}' unit='KiB'/>`);
    add(2, "</numa>");
    add(1, "</cpu>");

    add(1, "<clock offset='utc'>");
    add(2, "<timer name='rtc' tickpolicy='catchup'/>");
    add(2, "<timer name='pit' tickpolicy='delay'/>");
    add(2, `<timer name='hpet' present='${k.hpet ? "yes" : "no"}'/>`);
    add(1, "</clock>");
    add(1, "<on_poweroff>destroy</on_poweroff>");
    add(1, "<on_reboot>restart</on_reboot>");
    add(1, "<on_crash>destroy</on_crash>");

    add(1, "<devices>");
    if (env.emulator) add(2, `<emulator>${esc(env.emulator)}</emulator>`);
    if (!k.usb) add(2, "<controller type='usb' model='none'/>");
    add(2, "<serial type='pty'>");
    add(3, `<log file='${esc(env.consoleLogPath)}' append='off'/>`);
    add(3, "<target port='0'/>");
    add(2, "</serial>");
    add(2, "<console type='pty'>");
    add(3, "<target type='serial' port='0'/>");
    add(2, "</console>");
    add(2, "<channel type='unix'>");
    add(3, "<target type='virtio' name='org.qemu.guest_agent.0'/>");
    add(2, "</channel>");
    for (const vf of guest.vfs) {
        const pci = vf.pciAddress;
        const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
        const source = `<source><address type='pci' domain='0x${hex(pci.domain, 4)}' bus='0x${hex(pci.bus, 2)}' slot='0x${hex(pci.slot, 2)}' function='0x${pci.fn}'/></source>`;
        if (vf.attach === "hostdev") {
            // A plain PCI device: libvirt leaves MAC and VLAN alone, the kit's SriovPf set them on the PF.
            add(2, "<hostdev mode='subsystem' type='pci' managed='yes'>");
            add(3, "<driver name='vfio'/>");
            add(3, source);
            add(2, "</hostdev>");
            continue;
        }
        // trust and spoofchk have no hostdev-interface XML; the VF resource sets them with `ip link`.
        add(2, "<interface type='hostdev' managed='yes'>");
        add(3, source);
        if (vf.mac) add(3, `<mac address='${vf.mac.toString()}'/>`);
        if (vf.vlan !== undefined) add(3, `<vlan><tag id='${vf.vlan}'/></vlan>`);
        add(3, "<driver name='vfio'/>");
        add(2, "</interface>");
    }
    if (k.userNic) {
        // QEMU's own NAT (slirp): its state migrates with the guest, so the guest's packets leave from whichever host runs it.
        add(2, "<interface type='user'>");
        add(3, "<model type='virtio'/>");
        add(2, "</interface>");
    }
    for (const shm of guest.shmem.filter((s) => !s.hugepages)) {
        add(2, `<shmem name='${esc(shm.name)}'>`);
        add(3, "<model type='ivshmem-plain'/>");
        add(3, `<size unit='B'>${shm.size.bytes}</size>`);
        add(2, "</shmem>");
    }
    add(2, `<memballoon model='${k.memballoon ? "virtio" : "none"}'/>`);
    add(1, "</devices>");

    if (hugeLinks.length) {
        // libvirt's <shmem> always maps /dev/shm/<name>; a hugepage-backed region needs QEMU's own memory-backend-file.
        add(1, "<qemu:commandline>");
        hugeLinks.forEach((shm, i) => {
            const id = `nfvkit-shm-${shm.name}`;
            // libvirt does not know this device, so it must not sit where libvirt puts its own:
            // libvirt fills pcie.0 from slot 1 upwards; these take slots from 0x10.
            const addr = `0x${(0x10 + i).toString(16)}`;
            for (const arg of [
                "-object",
                `memory-backend-file,id=${id},mem-path=${shm.path},size=${shm.size.bytes},share=on`,
                "-device",
                `ivshmem-plain,memdev=${id},bus=pcie.0,addr=${addr}`,
            ]) {
                add(2, `<qemu:arg value='${esc(arg)}'/>`);
            }
        });
        add(1, "</qemu:commandline>");
    }
    add(0, "</domain>");
    return `${out.join("\n")}\n`;
}

/**
 * The `<cputune>` element: vCPU, emulator and I/O thread pinning and the RT
 * scheduler, written from the same typed cputune the Domain resource is given
 * (render/cputune.ts), so the XML and the provider's values cannot disagree.
 */
export function renderCputune(guest: Pick<RenderGuest, "pins" | "emulatorCpus" | "iothreads" | "iothreadCpus">): string[] {
    return cputuneLines(cputuneOf(guest));
}
