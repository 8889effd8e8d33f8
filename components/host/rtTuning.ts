/**
 * The files the kit keeps on a managed RT host, as plain text built from
 * plain data, and the checks that say whether their effect is in place.
 * Every file is the kit's own (named nfvkit), so the host's own settings stay
 * apart and removing the kit's files undoes the kit. Pure: rtHostOperations.ts
 * writes them through HostAccess.
 */

/** Where each file goes. */
export const RT_FILES = {
    /** Sourced by update-grub after /etc/default/grub: the kernel default and the kit's boot args. */
    grub: "/etc/default/grub.d/nfvkit.cfg",
    /** Applied by systemd-sysctl at every boot, and by the kit at once. */
    sysctl: "/etc/sysctl.d/90-nfvkit-rt.conf",
    /** Read when kvm/kvm_intel load. */
    modprobe: "/etc/modprobe.d/nfvkit-kvm.conf",
    /** Tells irqbalance which CPUs to leave alone. */
    irqbalance: "/etc/systemd/system/irqbalance.service.d/nfvkit.conf",
    /** THP, KSM, IRQ affinity and kernel-thread priorities: runtime state, so a script the boot runs again. */
    script: "/usr/local/sbin/nfvkit-rt-tuning",
    unit: "/etc/systemd/system/nfvkit-rt-tuning.service",
    /**
     * Whose the tuning is (URN and lineage) and the values it replaced (runtime values, each IRQ's affinity), as they
     * were before the kit first touched the host. Kept on the host, written before the first change: a CLI killed
     * between that change and the state write would otherwise lose them, and the next create would take the kit's own
     * values for the host's. A second stack finds the owner here and is refused (hostRecord.ts).
     */
    before: "/var/lib/nfvkit/rt-tuning-before.json",
} as const;

/** The kernel threads the RT practice raises, with their FIFO priority: above the vCPUs' FIFO 1, because on PREEMPT_RT timers and softirqs run in these threads and a vCPU that starves them starves its own wakeups. */
export const KTHREAD_PRIORITIES: readonly { name: string; prio: number; why: string }[] = [
    { name: "ktimers", prio: 2, why: "runs the timer softirq on PREEMPT_RT: the hrtimer wakeups of vCPUs and probes" },
    { name: "ksoftirqd", prio: 2, why: "runs the other softirqs (network, block) that vCPU I/O completions wait on" },
    { name: "rcuc", prio: 4, why: "per-CPU RCU callbacks; starving them stalls RCU grace periods host-wide" },
];

/** kvm module parameters for latency, with their reason (tuned's realtime-virtual-host profile sets the same). */
export const KVM_PARAMS: readonly { module: string; param: string; value: string; why: string }[] = [
    { module: "kvm", param: "kvmclock_periodic_sync", value: "N", why: "no periodic kvmclock update work item interrupting every vCPU each 300 s" },
    { module: "kvm_intel", param: "ple_gap", value: "0", why: "no pause-loop exits: a pinned RT vCPU spinning owns its CPU, the exit only adds latency" },
];

export interface RtTuningInput {
    /** The kit's boot args, after the host's own (GRUB_CMDLINE_LINUX). */
    kernelArgs: string[];
    /** The kernel release GRUB boots by default, e.g. "6.1.0-50-rt-amd64". */
    kernelRelease: string;
    housekeepingCpus: string;
    isolatedCpus: string;
    /** Who wrote the files (the stack), so an administrator knows where they come from. */
    owner: string;
}

export function grubFile(i: RtTuningInput): string {
    return [
        `# Written by nfvkit for ${i.owner}. The host's own settings stay in /etc/default/grub;`,
        "# this file only adds. Remove it and run update-grub to undo.",
        "# No submenu, so GRUB_DEFAULT can name the PREEMPT_RT kernel's entry by its title.",
        "GRUB_DISABLE_SUBMENU=y",
        `GRUB_DEFAULT="\${GRUB_DISTRIBUTOR:-Debian} GNU/Linux, with Linux ${i.kernelRelease}"`,
        `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ${i.kernelArgs.join(" ")}"`,
        "",
    ].join("\n");
}

export function sysctlFile(owner: string): string {
    return `# Written by nfvkit for ${owner}.\n# RT throttling off: a FIFO vCPU may use its whole isolated CPU (by default the kernel takes 50 ms of every second back).\nkernel.sched_rt_runtime_us = -1\n`;
}

export function modprobeFile(owner: string): string {
    return [
        `# Written by nfvkit for ${owner}. Takes effect when the module loads.`,
        ...KVM_PARAMS.map((p) => `# ${p.why}\noptions ${p.module} ${p.param}=${p.value}`),
        "",
    ].join("\n");
}

export function irqbalanceDropIn(i: RtTuningInput): string {
    return `# Written by nfvkit for ${i.owner}: irqbalance leaves the isolated CPUs alone.\n[Service]\nEnvironment=IRQBALANCE_BANNED_CPULIST=${i.isolatedCpus}\n`;
}

/** The unit runs the script at every boot with the CPU lists as arguments (values, never script text). */
export function tuningUnit(i: RtTuningInput): string {
    return [
        "[Unit]",
        `Description=nfvkit RT host tuning (${i.owner})`,
        "After=systemd-modules-load.service irqbalance.service",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=${RT_FILES.script} ${i.housekeepingCpus}`,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/** The tuning script: constant text, the housekeeping CPU list is its one argument. */
export const TUNING_SCRIPT = `#!/bin/sh
# nfvkit RT host tuning. Run at boot by nfvkit-rt-tuning.service and by the kit.
# $1: the housekeeping CPUs, e.g. 0-1. Each step says why. --undo moves kernel threads back to their boot\n# priorities; the kit puts THP, KSM, the sysctl and each IRQ's earlier affinity back itself, from its record.
set -u
thp=/sys/kernel/mm/transparent_hugepage
if [ "\${1:-}" = --undo ]; then
  for p in $(pgrep '^(ktimers|ksoftirqd|rcuc)/'); do
    case "$(cat /proc/$p/comm)" in ktimers/*) chrt -f -p 1 "$p" ;; rcuc/*) chrt -f -p 1 "$p" ;; *) chrt -o -p 0 "$p" ;; esac
  done
  exit 0
fi
hk="$1"
# THP off: khugepaged's scans and compaction stall whoever touches the memory.
[ -w $thp/enabled ] && echo never > $thp/enabled
[ -w $thp/defrag ] && echo never > $thp/defrag
# KSM off: ksmd scans guest memory and breaks shared pages on write, at random times.
[ -w /sys/kernel/mm/ksm/run ] && echo 0 > /sys/kernel/mm/ksm/run
# Every IRQ that can move goes to the housekeeping CPUs (per-CPU and managed IRQs refuse, and stay).
for f in /proc/irq/*/smp_affinity_list; do echo "$hk" > "$f" 2>/dev/null; done
# Kernel threads above the vCPUs' FIFO 1 (see docs/rt-hosts.md).
for p in $(pgrep '^ktimers/'); do chrt -f -p 2 "$p"; done
for p in $(pgrep '^ksoftirqd/'); do chrt -f -p 2 "$p"; done
for p in $(pgrep '^rcuc/'); do chrt -f -p 4 "$p"; done
exit 0
`;
