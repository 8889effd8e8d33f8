/**
 * Inputs of the Domain provider for a one-guest pod on this machine, as
 * NfvGuest would give them, and what a person checks on its RT vCPU thread.
 * Shared by the provider tests (local and over SSH).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import type { GuestImage } from "../../components/types/guestImage";
import { hostAccess } from "../../components/host/access";
import { chooseAccel } from "../../components/host/accel";
import { discoverMemoryLocking } from "../../components/host/memoryLocking";
import { describePinning } from "../../components/libvirt/cputune";
import { cputuneOf } from "../../components/render/cputune";
import type { DomainInputs } from "../../components/libvirt/domainOperations";
import { guestFacts, withImage } from "../../components/plan/guestFacts";
import { baseCmdline, type PodPlan } from "../../components/plan/podPlan";
import { resolvePod } from "../../components/plan/resolvePod";
import { renderDomainXml } from "../../components/render/domainXml";
import { LOCAL_URI } from "./host";

/** Prefix of every domain the provider tests create. */
export const PROVIDER_TEST_PREFIX = "nfvkit-provider-test";
const PREFIX = PROVIDER_TEST_PREFIX;

/** The shape of a one-guest pod on this 2-CPU machine: CPU 0 housekeeping, CPU 1 isolated, 4K pages. */
export interface LocalGuestShape {
    name: string;
    namePrefix: string;
    memory: string;
    vcpus: number;
    rtVcpus: number[];
    /** Host CPU of each vCPU. */
    cpus: number[];
    fifoPriority?: number;
    /** Knobs on top of what this machine needs (e.g. `userNic` for the migration probe's stream). */
    knobs?: { userNic?: boolean };
}

/** The Domain provider's inputs for a one-guest pod on this machine, rendered as NfvGuest renders them. */
export async function localGuestInputs(image: GuestImage, shape: LocalGuestShape): Promise<DomainInputs> {
    const { name, namePrefix, knobs, ...guestShape } = shape;
    const pod = resolvePod(
        {
            hosts: [{ name: "local", uri: LOCAL_URI, housekeepingCpus: "0", isolatedCpus: "1", topology: { numaNodes: [{ id: 0, cpus: "0-1" }] } }],
            guests: [
                {
                    name,
                    host: "local",
                    emulatorCpus: "0",
                    pageSize: "4K",
                    ...guestShape,
                    // What TestPod does on a host that cannot raise RLIMIT_MEMLOCK (see host/memoryLocking.ts).
                    knobs: {
                        ...((await discoverMemoryLocking(hostAccess())).supported ? {} : { locked: false, memtuneHardLimit: false }),
                        ...knobs,
                    },
                },
            ],
        },
        { namePrefix },
    );
    return planGuestInputs(image, pod.guests[0]);
}

/** The Domain provider's inputs for one guest of a planned pod on this machine, rendered as NfvGuest renders them. */
export async function planGuestInputs(image: GuestImage, guest: PodPlan["guests"][number]): Promise<DomainInputs> {
    const { accel } = await chooseAccel(hostAccess(), "auto");
    const consoleLog = `/var/log/libvirt/qemu/${guest.domainName}-console.log`;
    const xml = renderDomainXml(guest, {
        virtType: accel === "kvm" ? "kvm" : "qemu",
        kernelPath: image.kernel,
        initrdPath: image.initrd,
        baseCmdline: baseCmdline(guest.name),
        consoleLogPath: consoleLog,
    });
    return {
        uri: LOCAL_URI,
        name: guest.domainName,
        xml,
        cputune: cputuneOf(guest),
        pinning: describePinning(cputuneOf(guest)),
        facts: withImage(guestFacts(guest, accel), image.hash),
        consoleLog,
        readyPattern: `NFVKIT-READY name=${guest.name}`,
        bootTimeoutSec: 180,
    };
}

/** The provider tests' guest `g1`; `cpu` is the host CPU of its single vCPU, or with `rt`: vCPU 0 housekeeping on CPU 0, vCPU 1 real-time on CPU 1. */
export function domainInputs(image: GuestImage, cpu: number, memory = "256M", rt?: { fifoPriority: number }): Promise<DomainInputs> {
    return localGuestInputs(image, {
        name: "g1",
        namePrefix: PREFIX,
        memory,
        ...(rt ? { vcpus: 2, rtVcpus: [1], cpus: [0, 1], fifoPriority: rt.fifoPriority } : { vcpus: 1, rtVcpus: [], cpus: [cpu] }),
    });
}

/** SCHED_FIFO priority of the QEMU thread running vCPU `vcpu` of a local domain (thread names "CPU <n>/TCG" or "CPU <n>/KVM"). */
export function vcpuThreadPriority(domain: string, vcpu: number): { policy: string; priority: number } {
    const pid = readFileSync(`/run/libvirt/qemu/${domain}.pid`, "utf8").trim();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
        if (readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith(`CPU ${vcpu}/`)) {
            const out = execFileSync("chrt", ["-p", tid], { encoding: "utf8" });
            return { policy: /policy: (\S+)/.exec(out)![1], priority: Number(/priority: (\d+)/.exec(out)![1]) };
        }
    }
    throw new Error(`no thread for vCPU ${vcpu} in ${domain}`);
}
