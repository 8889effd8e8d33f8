/**
 * A managed RT host: the PREEMPT_RT kernel installed and booted by default,
 * the pod's boot args in the kit's own GRUB file, the runtime tuning in
 * place (rtTuning.ts), rebooted when the kernel or its args must change and
 * the stack allows it, and checked after. The Operations of the nfvkit
 * provider's RtHost.
 */
import * as path from "node:path";
import { DEFAULT_HWLAT, hwlatCheck, measureHwlat, type HwlatSettings } from "./hwlat";
import type * as provider from "@pulumi/pulumi/provider";
import type { OperationContext } from "../types/operations";
import { urnParts } from "../types/operations";
import { CpuSet } from "../spec/units";
import { accessOf, type HostAccess, type HostTarget } from "./access";
import { assessHostReadiness, readKernelFacts, type HostCheck, type HostKernelFacts } from "./readiness";
import { rebootHost } from "./reboot";
import { grubFile, irqbalanceDropIn, KVM_PARAMS, modprobeFile, RT_FILES, sysctlFile, TUNING_SCRIPT, tuningUnit, type RtTuningInput } from "./rtTuning";
import { HostFileError } from "./access/errors";
import { problemError } from "../spec/problems";
import { stampOf, type Owner } from "../types/ownership";
import { foreignRecord, leftWords, ownsRecord, parseRtRecord, planRestore, TUNING_SET, type RestoreItem, type RtRecord, type TuningBefore } from "./hostRecord";
import { timed } from "../timing";

export type { TuningBefore } from "./hostRecord";

export interface RtHostInputs {
    /** Host name in the pod spec, for messages. */
    host: string;
    /** How the host is reached. @default this machine */
    access?: HostTarget;
    /** The Debian package of the PREEMPT_RT kernel. @default "linux-image-rt-amd64" */
    kernelPackage?: string;
    /** The boot args the pod's plan computed (hostKernelArgs). */
    kernelArgs: string[];
    housekeepingCpus: string;
    isolatedCpus: string;
    /** Whether the kit may reboot the host when the kernel or its args change. @default false: a reboot is the operator's call unless the stack says so */
    allowReboot?: boolean;
    /** Seconds to wait for the host to come back. @default 900: a TCG lab host takes minutes */
    rebootTimeoutSec?: number;
    /** The hardware latency run after the change (hwlat.ts). @default 10 s, gaps above 10 µs count */
    hwlat?: HwlatSettings;
    /**
     * The stack's lineage (StackLineage), stamped with the URN on the host's record (RT_FILES.before): a second stack
     * on the same host is refused with the owner's name. A new one is an update that stamps the record again.
     * @default none: the URN alone is the owner
     */
    lineage?: string;
}

export interface RtHostOutputs extends RtHostInputs {
    /** The RT kernel release GRUB boots. */
    kernelRelease: string;
    before: TuningBefore;
    /** Whether the last create or update rebooted the host, and how long the reboot took. */
    rebooted: boolean;
    rebootSeconds: number;
    /** When that create or update ran (ISO time): a later up that changes nothing keeps these outputs, so "rebooted" alone does not say which up did it. */
    convergedAt: string;
    /** The readiness table after the change. */
    checks: HostCheck[];
    /**
     * IRQs (their smp_affinity_list files) outside the housekeeping CPUs that the kernel refused to move at that
     * create or update: managed and per-CPU ones. A refresh, which only reads, counts any other IRQ outside as drift.
     */
    irqsKeptByKernel?: string[];
}

const DEFAULT_PACKAGE = "linux-image-rt-amd64";

function tuningInput(i: RtHostInputs, kernelRelease: string, urn: string): RtTuningInput {
    const { project, stack } = urnParts(urn);
    return {
        kernelArgs: i.kernelArgs,
        kernelRelease,
        housekeepingCpus: i.housekeepingCpus,
        isolatedCpus: i.isolatedCpus,
        owner: `${project}/${stack} host ${i.host}`,
    };
}

/** The selected value of a sysfs choice file ("always [madvise] never" → "madvise"). */
function selected(text: string | undefined): string {
    return /\[([^\]]+)\]/.exec(text ?? "")?.[1] ?? (text ?? "").trim();
}

/** Every IRQ's smp_affinity_list, in one command (file → CPU list); an IRQ freed while it is read is left out. */
export async function readIrqAffinities(host: HostAccess): Promise<Record<string, string>> {
    const listed = await host.run(["sh", "-c", 'for f in /proc/irq/*/smp_affinity_list; do v=$(cat "$f" 2>/dev/null) && printf "%s %s\\n" "$f" "$v"; done'], {
        nothrow: true,
    });
    const out: Record<string, string> = {};
    for (const line of listed.stdout.split("\n")) {
        const [file, list] = line.trim().split(" ");
        if (file && list) out[file] = list;
    }
    return out;
}

/** The host's runtime values the tuning changes, as they are now (absent: the host has no such file, e.g. THP on PREEMPT_RT). */
async function readTuningValues(host: HostAccess): Promise<Partial<TuningBefore>> {
    const read = async (f: string, choice = false) => {
        const text = await host.tryReadFile(f);
        return text === undefined ? undefined : choice ? selected(text) : text.trim();
    };
    const [schedRtRuntimeUs, thpEnabled, thpDefrag, ksmRun] = await Promise.all([
        read("/proc/sys/kernel/sched_rt_runtime_us"),
        read("/sys/kernel/mm/transparent_hugepage/enabled", true),
        read("/sys/kernel/mm/transparent_hugepage/defrag", true),
        read("/sys/kernel/mm/ksm/run"),
    ]);
    return { schedRtRuntimeUs, thpEnabled, thpDefrag, ksmRun };
}

/** The host's record (RT_FILES.before), or undefined when the kit has not touched the host (or its owner gave it back). */
export async function readRtRecord(host: HostAccess): Promise<RtRecord | undefined> {
    const text = await host.tryReadFile(RT_FILES.before);
    return text === undefined ? undefined : parseRtRecord(text, RT_FILES.before);
}

/**
 * Takes the host for this resource before anything changes: a record another resource owns is refused with its
 * owner's name; this resource's own (an earlier create or update, or a create killed before it reported) is stamped
 * again with its lineage and housekeeping CPUs; with none, the host's values and each IRQ's affinity are read and
 * recorded first, so a kill after the first change still leaves them on the host.
 */
export async function claimRtHost(host: HostAccess, inputs: RtHostInputs, owner: Owner): Promise<RtRecord> {
    const ownerName = tuningInput(inputs, "", owner.urn).owner;
    const found = await readRtRecord(host);
    if (found && !ownsRecord(found, owner)) {
        const { reason, fix } = foreignRecord(found, owner, RT_FILES.before);
        throw problemError(`managed host ${inputs.host}`, "manage", true, `${reason}; this stack changes none of its files or values`, fix);
    }
    const record: RtRecord = found
        ? { ...found, owner: stampOf(owner), ownerName, housekeepingCpus: inputs.housekeepingCpus }
        : await (async () => {
              const now = await readTuningValues(host);
              return {
                  owner: stampOf(owner),
                  ownerName,
                  before: {
                      schedRtRuntimeUs: now.schedRtRuntimeUs ?? "",
                      thpEnabled: now.thpEnabled ?? "",
                      thpDefrag: now.thpDefrag ?? "",
                      ksmRun: now.ksmRun ?? "",
                  },
                  irqs: await readIrqAffinities(host),
                  housekeepingCpus: inputs.housekeepingCpus,
              };
          })();
    if (JSON.stringify(record) !== JSON.stringify(found)) {
        await host.mkdir(path.posix.dirname(RT_FILES.before));
        await host.writeFile(RT_FILES.before, `${JSON.stringify(record)}\n`);
    }
    return record;
}

/** Installs the kernel package when missing; returns the release it depends on ("6.1.0-50-rt-amd64"). */
async function ensureKernel(host: HostAccess, pkg: string, name: string): Promise<string> {
    const status = await host.run(["dpkg-query", "-W", "-f", "${Status}", pkg], { nothrow: true });
    if (!status.stdout.includes("install ok installed")) {
        await host.run(["apt-get", "install", "-y", "-q", pkg], { env: { DEBIAN_FRONTEND: "noninteractive" }, timeoutMs: 1_800_000 });
    }
    const depends = (await host.run(["dpkg-query", "-W", "-f", "${Depends}", pkg])).stdout;
    const image = /linux-image-(\S+)/.exec(depends)?.[1];
    if (!image)
        throw problemError(
            `managed host ${name}`,
            "kernelPackage",
            pkg,
            `is not a kernel metapackage: it does not depend on a linux-image-<release> package (Depends: ${depends.trim()})`,
            "name a kernel metapackage, e.g. linux-image-rt-amd64",
        );
    if (!(await host.exists(`/boot/vmlinuz-${image}`)))
        throw new HostFileError(name, `/boot/vmlinuz-${image}`, "find", true, `${pkg} is installed but its kernel image is not there`);
    return image;
}

/** Writes a file when its text differs; says whether it did. */
async function put(host: HostAccess, path: string, text: string, mode?: number): Promise<boolean> {
    if ((await host.tryReadFile(path)) === text) return false;
    await host.mkdir(path.slice(0, path.lastIndexOf("/")));
    await host.writeFile(path, text, mode !== undefined ? { mode } : undefined);
    return true;
}

/** What the running kernel lacks compared with what GRUB will boot, in plain words; empty when no reboot is needed. */
export function rebootReasons(kernel: HostKernelFacts, kernelRelease: string, args: string[]): string[] {
    const reasons: string[] = [];
    if (kernel.release !== kernelRelease) reasons.push(`kernel ${kernel.release} → ${kernelRelease}`);
    const missing = assessHostReadiness(kernel, args)
        .filter((c) => c.name.startsWith("boot arg ") && !c.pass)
        .map((c) => `+${c.expected}`);
    if (missing.length > 0) reasons.push(`kernel args change (${missing.join(" ")})`);
    return reasons;
}

/**
 * Whether each runtime tuning item is in effect, as readiness rows. Without `keptByKernel` (a create or update) an IRQ
 * found outside the housekeeping CPUs is moved back, which is how the kit tells a movable IRQ from one the kernel keeps;
 * with it (a refresh) nothing is written: an IRQ outside that the last change did not find kept by the kernel is drift.
 */
export async function tuningChecks(
    host: HostAccess,
    i: Pick<RtHostInputs, "housekeepingCpus" | "isolatedCpus">,
    keptByKernel?: readonly string[],
): Promise<{ checks: HostCheck[]; irqsKeptByKernel: string[] }> {
    const checks: HostCheck[] = [];
    const row = (name: string, expected: string, found: string) => checks.push({ name, expected, found, pass: expected === found });
    row("RT throttling off (kernel.sched_rt_runtime_us)", "-1", ((await host.tryReadFile("/proc/sys/kernel/sched_rt_runtime_us")) ?? "absent").trim());
    // PREEMPT_RT kernels (Debian's 6.1 rt among them) are built without THP: off by construction.
    const thp = await host.tryReadFile("/sys/kernel/mm/transparent_hugepage/enabled");
    row("transparent hugepages off", "never", thp === undefined ? "never" : selected(thp));
    row("KSM off", "0", ((await host.tryReadFile("/sys/kernel/mm/ksm/run")) ?? "0").trim());
    const irqbalance = await host.run(["systemctl", "show", "-p", "Environment", "irqbalance"], { nothrow: true });
    row(
        "irqbalance bans the isolated CPUs",
        `IRQBALANCE_BANNED_CPULIST=${i.isolatedCpus}`,
        /IRQBALANCE_BANNED_CPULIST=\S+/.exec(irqbalance.stdout)?.[0] ?? "absent",
    );
    // irqbalance may narrow an IRQ to one housekeeping CPU, which is fine: what matters is that none reaches an isolated
    // CPU. Managed IRQs (isolcpus=managed_irq keeps them off isolated CPUs) and per-CPU ones refuse a new affinity, so an
    // IRQ outside the housekeeping set counts against the host only when it accepts being moved back (as the tuning does).
    const hk = new Set(CpuSet.parse(i.housekeepingCpus, "housekeepingCpus").cpus);
    const listed = await host.run(["sh", "-c", 'for f in /proc/irq/*/smp_affinity_list; do printf "%s %s\\n" "$f" "$(cat "$f")"; done'], { nothrow: true });
    const outside = listed.stdout
        .split("\n")
        .map((l) => l.trim().split(" "))
        .filter(([file, list]) => file && list && !CpuSet.parse(list, file).cpus.every((c) => hk.has(c)))
        .map(([file]) => file);
    let movable = 0;
    const kept: string[] = [];
    if (keptByKernel) {
        // A read: what the kernel kept last time is still its own; anything else outside has drifted there.
        for (const file of outside) if (keptByKernel.includes(file)) kept.push(file);
        movable = outside.length - kept.length;
    } else {
        for (const file of outside) {
            if ((await host.run(["sh", "-c", 'echo "$1" > "$2"', "sh", i.housekeepingCpus, file], { nothrow: true })).exitCode === 0) movable++;
            else kept.push(file);
        }
    }
    const fixed = kept.length;
    // The row reads as a sentence, in the singular too: a two-vCPU host keeps one IRQ where the kernel wants it.
    const verb = keptByKernel ? (movable === 1 ? "is" : "are") : movable === 1 ? "was" : "were";
    const keptNote =
        fixed === 1 ? "1 managed or per-CPU IRQ stays where the kernel keeps it" : `${fixed} managed or per-CPU IRQs stay where the kernel keeps them`;
    checks.push({
        name: "movable IRQs on housekeeping CPUs",
        expected: `within ${i.housekeepingCpus}`,
        found: (movable === 0 ? `within ${i.housekeepingCpus}` : `${movable} ${verb} outside`) + (fixed > 0 ? ` (${keptNote})` : ""),
        pass: movable === 0,
    });
    for (const t of [
        { name: "ktimers", prio: 2 },
        { name: "ksoftirqd", prio: 2 },
        { name: "rcuc", prio: 4 },
    ]) {
        const out = await host.run(["sh", "-c", 'for p in $(pgrep "^$1/"); do chrt -p "$p" | tr "\\n" " "; echo; done', "sh", t.name], { nothrow: true });
        const lines = out.stdout.split("\n").filter((l) => l.trim() !== "");
        const ok = lines.filter((l) => /SCHED_FIFO/.test(l) && new RegExp(`priority: ${t.prio}\\b`).test(l)).length;
        row(`${t.name} threads FIFO ${t.prio}`, `${lines.length} of ${lines.length}`, `${ok} of ${lines.length}`);
    }
    const conf = (await host.tryReadFile(RT_FILES.modprobe)) ?? "";
    for (const p of KVM_PARAMS) {
        const live = await host.tryReadFile(`/sys/module/${p.module}/parameters/${p.param}`);
        if (live !== undefined) row(`${p.module}.${p.param}`, p.value, live.trim());
        // Not loaded (no KVM on this host, as in the TCG lab): the option file is what takes effect when it loads.
        else
            row(
                `${p.module}.${p.param} (module not loaded: at load)`,
                p.value,
                conf.includes(`options ${p.module} ${p.param}=${p.value}`) ? p.value : "absent",
            );
    }
    return { checks, irqsKeptByKernel: kept };
}

async function applyRuntime(host: HostAccess, i: RtHostInputs): Promise<void> {
    await host.run(["sysctl", "-q", "-p", RT_FILES.sysctl]);
    await host.run(["systemctl", "daemon-reload"]);
    await host.run(["systemctl", "enable", "-q", "nfvkit-rt-tuning.service"]);
    await host.run(["systemctl", "try-restart", "irqbalance.service"], { nothrow: true });
    await host.run([RT_FILES.script, i.housekeepingCpus]);
}

/**
 * The runtime half of the tuning: writes the kit's sysctl, modprobe, irqbalance, script and unit files and applies
 * them now (sysctl, THP, KSM, IRQs, kernel threads). Call it after claimRtHost, which records what the host had.
 */
export async function applyRuntimeTuning(host: HostAccess, inputs: RtHostInputs, urn: string): Promise<void> {
    const t = tuningInput(inputs, "", urn);
    await put(host, RT_FILES.sysctl, sysctlFile(t.owner));
    await put(host, RT_FILES.modprobe, modprobeFile(t.owner));
    await put(host, RT_FILES.irqbalance, irqbalanceDropIn(t));
    await put(host, RT_FILES.script, TUNING_SCRIPT, 0o755);
    await put(host, RT_FILES.unit, tuningUnit(t));
    await applyRuntime(host, inputs);
}

async function converge(inputs: RtHostInputs, ctx: OperationContext): Promise<RtHostOutputs> {
    const host = accessOf(inputs.access);
    // Before any change: refused here when another stack manages the host.
    const record = await claimRtHost(host, inputs, ctx);
    ctx.progress?.step(`installing ${inputs.kernelPackage ?? DEFAULT_PACKAGE} on host ${inputs.host} (apt-get), or finding it installed`);
    const kernelRelease = await timed("rt host: kernel package (apt-get)", inputs.host, () =>
        ensureKernel(host, inputs.kernelPackage ?? DEFAULT_PACKAGE, inputs.host),
    );
    ctx.progress?.step(`writing the boot loader's config and applying the tuning on host ${inputs.host}`);
    const grubChanged = await put(host, RT_FILES.grub, grubFile(tuningInput(inputs, kernelRelease, ctx.urn)));
    await applyRuntimeTuning(host, inputs, ctx.urn);
    if (grubChanged || !(await host.exists("/boot/grub/grub.cfg")))
        await timed("rt host: update-grub", inputs.host, () => host.run(["update-grub"], { timeoutMs: 600_000 }));

    let rebooted = false;
    let rebootSeconds = 0;
    const reasons = rebootReasons(await readKernelFacts(host), kernelRelease, inputs.kernelArgs);
    if (reasons.length > 0) {
        if (!inputs.allowReboot) {
            throw problemError(
                "stack",
                "nfv-testpod:allowHostReboot",
                false,
                `does not let the kit reboot hosts, and host ${inputs.host} needs a reboot: ${reasons.join("; ")}. ` +
                    `The kernel and its args are in place for the next boot (${RT_FILES.grub})`,
                `reboot ${inputs.host} yourself and run up again, or set nfv-testpod:allowHostReboot: true`,
            );
        }
        ctx.progress?.step(`rebooting host ${inputs.host} (${reasons.join("; ")}; waiting for a new boot id, timeout ${inputs.rebootTimeoutSec ?? 900} s)`);
        rebootSeconds = await timed("rt host: reboot", inputs.host, () => rebootHost(host, inputs.access, inputs.rebootTimeoutSec ?? 900));
        rebooted = true;
    }
    const after = accessOf(inputs.access);
    ctx.progress?.step(`checking host ${inputs.host}'s readiness and tuning`);
    const kernel = await readKernelFacts(after);
    const tuning = await tuningChecks(after, inputs);
    const checks = [...assessHostReadiness(kernel, inputs.kernelArgs), ...tuning.checks];
    // Measured only when the tracer is there (the readiness table already says when it is not); a run at each change, not at each refresh.
    if (kernel.tracers?.includes("hwlat")) {
        ctx.progress?.step(`measuring hardware latency on host ${inputs.host} (hwlat tracer)`);
        checks.push(hwlatCheck(await timed("rt host: hwlat run", inputs.host, () => measureHwlat(after, inputs.hwlat ?? DEFAULT_HWLAT))));
    }
    return {
        ...inputs,
        kernelRelease,
        before: record.before,
        rebooted,
        rebootSeconds,
        convergedAt: new Date().toISOString(),
        checks,
        irqsKeptByKernel: tuning.irqsKeptByKernel,
    };
}

export async function check(_olds: unknown, news: RtHostInputs): Promise<provider.CheckResult> {
    const failures: provider.CheckFailure[] = [];
    if (!Array.isArray(news.kernelArgs)) failures.push({ property: "kernelArgs", reason: "must be a list of boot args" });
    return { inputs: { ...news, kernelPackage: news.kernelPackage ?? DEFAULT_PACKAGE, allowReboot: news.allowReboot ?? false }, failures };
}

/**
 * Settings of the next change, which make nothing on the host by themselves: how long a reboot may take, and the
 * hardware latency run after a change. A change of them alone is stored by the provider (an update that neither
 * converges nor reboots the host) and takes effect at the next change. `host` is a replacement: it is part of the
 * owner written into the kit's files on the host.
 */
export const storedOnly = ["rebootTimeoutSec", "hwlat"] as const;

export async function diff(_id: string, olds: RtHostOutputs, news: RtHostInputs): Promise<provider.DiffResult> {
    const replaces = (["host"] as const).filter((k) => olds[k] !== news[k]);
    // A new lineage (a stack from before lineages) is an update: the host's record is stamped again.
    const keys = ["kernelPackage", "kernelArgs", "housekeepingCpus", "isolatedCpus", "allowReboot", "lineage"] as const;
    const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    // A refresh that found a check failing (args lost, tuning undone) makes a change, so up repairs it.
    const failing = (olds.checks ?? []).some((c) => !c.pass && !c.name.startsWith("hwlat"));
    return { changes: replaces.length > 0 || changed.length > 0 || failing, replaces, deleteBeforeReplace: true };
}

export async function create(inputs: RtHostInputs, ctx: OperationContext): Promise<provider.CreateResult> {
    return { id: inputs.host, outs: await converge(inputs, ctx) };
}

export async function update(_id: string, _olds: RtHostOutputs, news: RtHostInputs, ctx: OperationContext): Promise<provider.UpdateResult> {
    // The host's record keeps the values from the first touch; the state's copy is the same.
    return { outs: await converge(news, ctx) };
}

export async function read(id: string, props: RtHostOutputs, ctx?: OperationContext): Promise<provider.ReadResult> {
    const host = accessOf(props.access);
    // The record goes on the host before any other change and leaves last: the kit's tuning is there while it is.
    const record = await readRtRecord(host);
    if (!record && !(await host.exists(RT_FILES.grub))) return { id: "", props: {} };
    // Another stack's tuning is not this stack's: gone from its point of view, and never claimed.
    if (record && ctx && !ownsRecord(record, ctx)) return { id: "", props: {} };
    const kernel = await readKernelFacts(host);
    // The hardware latency figure is the last run's: a refresh does not spin the host's CPUs for it again.
    const measured = (props.checks ?? []).filter((c) => c.name.startsWith("hwlat:"));
    // A read never writes: the IRQs are compared with what the last create or update found the kernel keeps.
    const tuning = await tuningChecks(host, props, props.irqsKeptByKernel ?? []);
    const checks = [...assessHostReadiness(kernel, props.kernelArgs), ...tuning.checks, ...measured];
    return { id, props: { ...props, checks, rebooted: false, rebootSeconds: 0 } };
}

/**
 * What a delete puts back: each runtime value and IRQ affinity the kit changed, restored only where the host still has
 * the kit's value (planRestore). Pure over what was read.
 */
export function rtRestoreItems(record: RtRecord, now: Partial<TuningBefore>, irqsNow: Record<string, string>, housekeepingCpus: string): RestoreItem[] {
    const files: Record<keyof TuningBefore, [string, string]> = {
        schedRtRuntimeUs: ["kernel.sched_rt_runtime_us", "/proc/sys/kernel/sched_rt_runtime_us"],
        thpEnabled: ["transparent hugepages", "/sys/kernel/mm/transparent_hugepage/enabled"],
        thpDefrag: ["transparent hugepage defrag", "/sys/kernel/mm/transparent_hugepage/defrag"],
        ksmRun: ["KSM", "/sys/kernel/mm/ksm/run"],
    };
    const items: RestoreItem[] = [];
    for (const [key, [name, file]] of Object.entries(files) as [keyof TuningBefore, [string, string]][]) {
        // An empty "before": the host had no such file when the kit first came.
        if (record.before[key] === "") continue;
        items.push({ name, file, before: record.before[key], set: TUNING_SET[key], found: now[key] });
    }
    for (const [file, before] of Object.entries(record.irqs)) {
        items.push({ name: `IRQ ${file.split("/")[3]}`, file, kind: "cpus", before, set: housekeepingCpus, found: irqsNow[file] });
    }
    return items;
}

/**
 * Removes the kit's files, boots the host's own default again at the next boot, and puts back the runtime values and
 * each IRQ's affinity that still have the kit's value. Another stack's tuning (its record) is left whole.
 */
export async function deleteRtHost(_id: string, props: RtHostOutputs, ctx?: OperationContext): Promise<void> {
    const host = accessOf(props.access);
    const owner: Owner = ctx ?? { urn: "" };
    const record = await readRtRecord(host);
    if (record && ctx && !ownsRecord(record, owner)) {
        ctx.progress?.say(`host ${props.host}: ${foreignRecord(record, owner, RT_FILES.before).reason}; its files and values are left alone`);
        return;
    }
    // A create that died before it reported has no `before` in its state (`npm run down` after an interrupted run):
    // the record its first touch left on the host has it. With neither, the kit's files go and no value is touched.
    const own: RtRecord | undefined = record ?? (props.before ? { before: props.before, irqs: {} } : undefined);
    if (own) {
        const [now, irqsNow] = await Promise.all([readTuningValues(host), readIrqAffinities(host)]);
        const items = rtRestoreItems(own, now, irqsNow, own.housekeepingCpus ?? props.housekeepingCpus);
        const irq = (i: RestoreItem) => i.kind === "cpus";
        const plan = planRestore(items);
        for (const item of plan.left) ctx?.progress?.say(leftWords(props.host, item));
        for (const item of plan.restore.filter((i) => !irq(i))) await host.writeFile(item.file, item.before).catch(() => undefined);
        // One command for every IRQ: an IRQ freed since, or one the kernel now refuses to move, is skipped.
        const irqs = plan.restore.filter(irq).flatMap((i) => [i.file, i.before]);
        if (irqs.length > 0)
            await host.run(["sh", "-c", 'while [ $# -gt 1 ]; do echo "$2" > "$1" 2>/dev/null; shift 2; done', "sh", ...irqs], { nothrow: true });
    }
    // Kernel threads back to their boot priorities (the script's --undo); then the kit's files go.
    const grubFileThere = await host.exists(RT_FILES.grub);
    await host.run([RT_FILES.script, "--undo"], { nothrow: true });
    await host.run(["systemctl", "disable", "-q", "nfvkit-rt-tuning.service"], { nothrow: true });
    for (const f of [RT_FILES.grub, RT_FILES.sysctl, RT_FILES.modprobe, RT_FILES.irqbalance, RT_FILES.unit, RT_FILES.script]) await host.remove(f);
    await host.run(["systemctl", "daemon-reload"]);
    await host.run(["systemctl", "try-restart", "irqbalance.service"], { nothrow: true });
    // GRUB's config is made again only when the kit's GRUB file was there to go (minutes on a slow host).
    if (grubFileThere) await host.run(["update-grub"], { timeoutMs: 600_000 });
    await host.remove(RT_FILES.before);
}
export { deleteRtHost as delete };
