/**
 * The NFV tuning knobs of a libvirt domain. Defaults follow the real-time
 * guest practice of Red Hat/OpenStack NFV (hw:cpu_realtime, dedicated CPU
 * policy, hugepages) and OPNFV KVM4NFV (exclusive cores, no host-side
 * interference). Every knob can be overridden per guest under `knobs:`.
 */

export interface DomainKnobs {
    /** Run RT vCPUs under SCHED_FIFO (`<vcpusched scheduler='fifo'>`), so host tasks cannot preempt them. @default true */
    vcpuSchedFifo: boolean;
    /** Back guest RAM with hugepages: fewer TLB misses, no page-table walks on the fast path. @default true */
    hugepages: boolean;
    /** Lock guest RAM in host memory (`<locked/>`), so it is never swapped or migrated by the host. @default true */
    locked: boolean;
    /** Keep KSM from merging guest pages (`<nosharepages/>`): merging and unmerging stall the guest. @default true */
    nosharepages: boolean;
    /**
     * Set `<memtune><hard_limit>`: libvirt needs it with `<locked/>` to size
     * the process's locked-memory limit. @default true
     */
    memtuneHardLimit: boolean;
    /**
     * Room above guest RAM and shared memory given to the QEMU process in
     * hard_limit. Under TCG the translation cache alone can take up to 1 GiB.
     * @default 1024
     */
    hardLimitOverheadMiB: number;
    /** `<numatune>` mode strict with a memnode per guest cell: RAM only from the guest's node, never silently remote. @default true */
    numatuneStrict: boolean;
    /**
     * Pass the host CPU through (`mode='host-passthrough'`) so the guest sees
     * the real TSC, invariant timers and all features. Only under KVM; under
     * TCG `tcgCpuModel` is used instead. @default true
     */
    cpuHostPassthrough: boolean;
    /** CPU model under TCG (software emulation), where host-passthrough is not possible. "maximum" = every feature TCG emulates. @default "maximum" */
    tcgCpuModel: string;
    /** Require the TSC-deadline timer (KVM host-passthrough only): the lowest-latency guest timer. @default true */
    tscDeadline: boolean;
    /** Expose a virtual PMU. Off: PMU emulation adds VM exits and NMIs. @default false */
    pmu: boolean;
    /** Add a memballoon device. Off: ballooning fights hugepages and locked memory. @default false */
    memballoon: boolean;
    /** Add a USB controller. Off: USB polling is a source of timer interrupts. @default false */
    usb: boolean;
    /** KVM `hint-dedicated`: tell the guest its vCPUs own their CPUs (it then polls instead of yielding). KVM only. @default true */
    kvmHintDedicated: boolean;
    /** Expose an HPET. Off: the guest then uses TSC/tsc-deadline, and no HPET emulation ticks. @default false */
    hpet: boolean;
    /**
     * Add a user-mode (QEMU slirp) virtio NIC: the guest reaches the host's networks through QEMU itself, on any host
     * and after a live migration, without a bridge. The migration probe sends its packet stream over it. @default false
     */
    userNic: boolean;
}

/** The defaults, as documented on each field. */
export const defaultKnobs: Readonly<DomainKnobs> = Object.freeze({
    vcpuSchedFifo: true,
    hugepages: true,
    locked: true,
    nosharepages: true,
    memtuneHardLimit: true,
    hardLimitOverheadMiB: 1024,
    numatuneStrict: true,
    cpuHostPassthrough: true,
    tcgCpuModel: "maximum",
    tscDeadline: true,
    pmu: false,
    memballoon: false,
    usb: false,
    kvmHintDedicated: true,
    hpet: false,
    userNic: false,
});
