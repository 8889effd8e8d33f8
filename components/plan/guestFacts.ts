/**
 * What a person would name when a guest must be rebuilt: the facts behind its
 * domain XML, apart from the pinning that can change live. They are the
 * Domain's `facts` input, so a preview says `facts.memory: "256 MiB" => "512 MiB"`
 * rather than showing an XML blob. The image hash is added at deploy time.
 */
import type { Accel } from "../host/accel";
import type { DomainKnobs } from "../spec/knobs";
import type { CheckedVf } from "../spec/checked";
import type { MemorySize } from "../spec/units";

/** What the facts are made of: a guest's plan. */
export interface GuestFactsInput {
    vcpus: number;
    memory: MemorySize;
    pageSize: MemorySize;
    numaNode: number;
    pins: readonly { vcpu: number; role: "rt" | "housekeeping" }[];
    iothreads: number;
    kernelArgs: readonly string[];
    knobs: DomainKnobs;
    shmem: readonly { name: string; size: MemorySize; hugepages: boolean }[];
    vfs: readonly CheckedVf[];
}

/** The facts in preview words; `accel` first, as previews list them. */
export function guestFacts(guest: GuestFactsInput, accel: Accel): Record<string, string> {
    const facts: Record<string, string> = {
        accel,
        vcpus: String(guest.vcpus),
        memory: `${guest.memory.mebibytes} MiB`,
        pageSize: guest.pageSize.kibibytes === 4 ? "4 KiB (no hugepages)" : `${guest.pageSize.kibibytes} KiB`,
        numaNode: String(guest.numaNode),
        rtVcpus:
            guest.pins
                .filter((p) => p.role === "rt")
                .map((p) => p.vcpu)
                .join(",") || "none",
        iothreads: String(guest.iothreads),
        kernelArgs: guest.kernelArgs.join(" "),
    };
    for (const [knob, value] of Object.entries(guest.knobs)) {
        facts[`knobs.${knob}`] = JSON.stringify(value);
    }
    for (const shm of guest.shmem) {
        facts[`shmem.${shm.name}`] = `${shm.size.bytes} bytes${shm.hugepages ? " on hugepages" : ""}`;
    }
    guest.vfs.forEach((vf, i) => {
        facts[`vf.${i}`] = [
            vf.pf,
            vf.pciAddress.toString(),
            vf.mac?.toString() ?? "",
            vf.vlan ?? "",
            vf.trust ? "trust" : "",
            vf.spoofchk ? "spoofchk" : "",
            vf.attach === "hostdev" ? "as hostdev" : "",
        ]
            .join(" ")
            .trim();
    });
    return facts;
}

/** The facts with the image the guest boots, where previews show it: after `accel`. */
export function withImage(facts: Record<string, string>, imageHash: string): Record<string, string> {
    return { accel: facts.accel, image: imageHash, ...facts };
}
