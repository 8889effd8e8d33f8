/**
 * Create, diff, update and delete of one libvirt domain: the work behind the
 * `Domain` resource of the nfvkit provider. It keeps no module-level state.
 *
 * Diff rules, so previews read in guest terms:
 *   - vCPU, emulator and I/O thread pinning and the FIFO priority (the
 *     `cputune` input, typed values from the plan) are applied to the running
 *     guest (and to its persistent definition): an update.
 *   - anything else in the domain XML needs a new domain: a replacement, named
 *     by the guest-level fact that changed (memory, vcpus, shmem.ring0, ...).
 *
 * The pins are compared and applied as values; XML is parsed only where
 * libvirt returns it (`virsh dumpxml` in read and the owner check).
 */
import type * as provider from "@pulumi/pulumi/provider";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { OperationContext } from "../types/operations";
import { cputuneChanges, sameCputune, type Cputune } from "../render/cputune";
import { describePinning, parseCputune } from "./cputune";
import { waitForAgent } from "./guestAgent";
import { domainState, GuestBootError, throwIfStopped, waitForConsoleLine } from "./domainStop";
import { definitionHash, foreignDomainError, ownerOf, stampOfDomain, stampOwner } from "./domainOwner";
import { describeStamp, isOwnStamp } from "../types/ownership";
import { applyFifoPriority, readVcpuPins, verifyPins } from "./domainPins";
import { accessOf, isNoDomain, isNotRunning, type HostAccess, type HostTarget } from "../host/access";
import { writeToStderr, type Progress } from "../progress";
import { timed } from "../timing";

/** Resolved inputs of a Domain (plain values: the provider never sees Outputs). */
export interface DomainInputs {
    /** libvirt URI of the host. */
    uri: string;
    /** Domain name on that host. */
    name: string;
    /** The full domain XML. */
    xml: string;
    /**
     * The pins as values: each vCPU's host CPUs and FIFO priority, the emulator's
     * and I/O threads' CPUs; the same values `xml`'s `<cputune>` was rendered from.
     * A change is applied live (vcpupin, emulatorpin, iothreadpin, chrt).
     */
    cputune: Cputune;
    /** `cputune` in guest terms ("vCPU 1": "host CPU 1, FIFO 1"), so a preview of a pinning change reads as one. */
    pinning: Record<string, string>;
    /** Guest-level facts behind `xml` (memory, vcpus, links...), named in replacement diffs. */
    facts: Record<string, string>;
    /** Host path of the serial console log (libvirt writes it; local hosts only are read). */
    consoleLog: string;
    /** Line the guest's init prints when it is up. */
    readyPattern: string;
    /** Seconds to wait for the guest agent and the ready line. */
    bootTimeoutSec: number;
    /** How the host is reached for its files and commands (console log, FIFO priorities). @default this machine */
    access?: HostTarget;
    /**
     * The stack's lineage (StackLineage), stamped on the domain with the URN: a
     * domain of the same name stamped by another state is refused, never adopted or removed.
     * @default none: the URN alone is the owner, as a kit from before lineages stamped it
     */
    lineage?: string;
}

/** Outputs of a Domain: the inputs plus what was observed. */
export interface DomainOutputs extends DomainInputs {
    uuid: string;
    /** Seconds from `virsh start` until the guest agent answered. */
    bootSeconds: number;
    /** vCPU pinning read back from libvirt after start (vCPU → CPU set). */
    observedVcpuPins: Record<string, string>;
    /** libvirt's state of the domain when last created, updated or refreshed: "running", "shut off", "paused"... */
    runState?: string;
}

export async function check(_olds: DomainInputs, news: DomainInputs): Promise<provider.CheckResult> {
    const failures: provider.CheckFailure[] = [];
    if (!news.uri) failures.push({ property: "uri", reason: "a libvirt URI is required, e.g. qemu:///system" });
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(news.name ?? "")) {
        failures.push({ property: "name", reason: `domain name ${JSON.stringify(news.name)} must be 1-64 of A-Z a-z 0-9 _ . -` });
    }
    if (!news.xml?.includes("<domain")) failures.push({ property: "xml", reason: "not a libvirt domain XML document" });
    if (!news.cputune || typeof news.cputune.vcpuPins !== "object")
        failures.push({ property: "cputune", reason: "the pins are required (vcpuPins, emulatorPin, iothreadPins, fifo)" });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: DomainOutputs, news: DomainInputs): Promise<provider.DiffResult> {
    // The engine shows the property-level diff (facts.memory: "256 MiB" => "512 MiB",
    // pinning."vCPU 1": "host CPU 1, FIFO 1" => "host CPU 0, FIFO 1"); we say which
    // top-level inputs force a new domain.
    const replaces: string[] = [];
    if (olds.uri !== news.uri) replaces.push("uri");
    if (olds.name !== news.name) replaces.push("name");
    if (!sameJson(olds.facts, news.facts)) replaces.push("facts");
    // XML differences that no fact explains (a knob, the image) still need a new domain.
    if (withoutCputune(olds.xml) !== withoutCputune(news.xml)) replaces.push("xml");
    // A new lineage (a stack from before lineages) is an update: the domain is stamped again, not replaced.
    const keys: (keyof DomainInputs)[] = ["uri", "name", "xml", "pinning", "facts", "consoleLog", "readyPattern", "bootTimeoutSec", "lineage"];
    // A refresh that found the guest stopped makes the next `up` start it again.
    const stopped = olds.runState !== undefined && olds.runState !== "running";
    const pinsChanged = olds.cputune === undefined || !sameCputune(olds.cputune, news.cputune);
    const changes = stopped || pinsChanged || keys.some((k) => !sameJson(olds[k], news[k]));
    return { changes, replaces, deleteBeforeReplace: true };
}

function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v && typeof v === "object") {
        return Object.fromEntries(
            Object.entries(v as Record<string, unknown>)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, x]) => [k, sortKeys(x)]),
        );
    }
    return v;
}

export async function create(inputs: DomainInputs, ctx: OperationContext): Promise<provider.CreateResult> {
    const { name } = inputs;
    const host = accessOf(inputs.access, inputs.uri);
    const definition = definitionHash(inputs.xml);
    const existing = await timed("domain: owner check (dumpxml)", name, () => ownerOf(host, name));
    if (existing) {
        if (!isOwnStamp(stampOfDomain(existing), ctx)) throw foreignDomainError(inputs.uri, name, existing, ctx);
        // Ours, left by a run that died before the engine recorded it. The same
        // definition, running: adopt it as it is. Anything else, or one that
        // stops before it is up: start over.
        if (existing.definition === definition && (await domainState(host, name)) === "running") {
            try {
                return { id: existing.uuid, outs: await observe(host, inputs, Date.now()) };
            } catch (err) {
                if (!(err instanceof GuestBootError && err.why === "stopped")) throw err;
                say(ctx.progress, `guest ${name}: the domain left by an interrupted run stopped (${err.state}); starting it again`);
            }
        }
        await removeDomain(host, name);
    }
    await timed("domain: define", name, () => defineDomain(host, name, stampOwner(inputs.xml, ctx, definition)));
    try {
        if (inputs.consoleLog) await host.mkdir(path.dirname(inputs.consoleLog));
        const outs = await startAndObserve(host, inputs, ctx.progress ?? stderrProgress);
        return { id: outs.uuid, outs };
    } catch (err) {
        // Nothing half-created is left behind: the engine records no resource on failure.
        await removeDomain(host, name);
        throw err;
    }
}

/**
 * Starts a defined domain and waits until it is up. Under TCG, QEMU's
 * multi-threaded emulator can die of its own assertion while a guest boots
 * (e.g. iotlb_to_section in system/physmem.c, seen in CI): that is the
 * emulator, not the guest or the pod, so the boot is tried again, at most
 * twice, and each time said on the CLI. Under KVM a QEMU crash is reported.
 */
async function startAndObserve(host: HostAccess, inputs: DomainInputs, progress: Progress): Promise<DomainOutputs> {
    const { name } = inputs;
    const tcg = inputs.facts.accel === "tcg";
    for (let attempt = 1; ; attempt++) {
        try {
            const started = Date.now();
            progress.step("starting (virsh start)");
            await timed("domain: start (virsh start)", name, () => host.virsh(["start", name]));
            // The console tells first, and tells why a boot went wrong.
            if (inputs.consoleLog && inputs.readyPattern) {
                progress.step(`booting (waiting for the ready line on its console ${inputs.consoleLog}; timeout ${inputs.bootTimeoutSec} s)`);
                await timed("domain: boot (console ready line)", name, () =>
                    waitForConsoleLine(host, inputs.consoleLog, inputs.readyPattern, inputs.bootTimeoutSec * 1000, name),
                );
            }
            progress.step(`booting (waiting for its guest agent; timeout ${inputs.bootTimeoutSec} s)`);
            return await observe(host, inputs, started);
        } catch (err) {
            if (!(err instanceof GuestBootError && err.qemuCrashed && tcg && attempt < 3)) throw err;
            progress.say(
                `guest ${name}: QEMU crashed while the guest booted under TCG (${err.said.join("; ") || err.state}); starting it again (try ${attempt + 1} of 3)`,
            );
        }
    }
}

/** Waits for a started guest to be up (guest agent), then reads back what libvirt runs. */
async function observe(host: HostAccess, inputs: DomainInputs, started: number): Promise<DomainOutputs> {
    const { name } = inputs;
    const agentUp = () =>
        waitForAgent(host, name, inputs.bootTimeoutSec * 1000).catch(async (err: unknown) => {
            await throwIfStopped(host, name, "its guest agent");
            throw err;
        });
    // libvirt knows the pinning and the UUID from the start: read them while the agent comes up.
    const [bootSeconds, observedVcpuPins, uuid] = await Promise.all([
        timed("domain: guest agent answers", name, agentUp).then(() => (Date.now() - started) / 1000),
        timed("domain: pinning check (vcpupin)", name, () => verifyPins(host, name, inputs.cputune.vcpuPins)),
        timed("domain: uuid (domuuid)", name, () => host.virsh(["domuuid", name])).then((out) => out.trim()),
    ]);
    return { ...inputs, uuid, bootSeconds, observedVcpuPins, runState: "running" };
}

export async function update(_id: string, olds: DomainOutputs, news: DomainInputs, ctx: OperationContext): Promise<provider.UpdateResult> {
    const { name } = news;
    const host = accessOf(news.access, news.uri);
    if (olds.runState !== undefined && olds.runState !== "running") {
        // Found stopped by a refresh: start it with the definition it has, then pin as below.
        const started = Date.now();
        ctx.progress?.step(`starting the stopped guest again (waiting for its guest agent; timeout ${news.bootTimeoutSec} s)`);
        await host.virsh(["start", name]);
        await waitForAgent(host, name, news.bootTimeoutSec * 1000);
        olds = { ...olds, bootSeconds: (Date.now() - started) / 1000, runState: "running" };
    }
    // The difference as values; state written before the kit recorded its pins has no `cputune`, and gets every pin set.
    const change = cputuneChanges(olds.cputune, news.cputune);
    for (const [vcpu, cpus] of change.vcpuPins) await host.virsh(["vcpupin", name, vcpu, cpus, "--live", "--config"]);
    if (change.emulatorPin !== undefined) await host.virsh(["emulatorpin", name, change.emulatorPin, "--live", "--config"]);
    for (const [thread, cpus] of change.iothreadPins) await host.virsh(["iothreadpin", name, thread, cpus, "--live", "--config"]);
    // Everything else that changed lives only in <cputune> (the diff guarantees it):
    // redefine so the persistent definition matches, then apply the FIFO priority
    // to the running vCPU threads, which libvirt has no live call for.
    // Without the running domain's UUID, libvirt would take the XML for another domain of the same name.
    await defineDomain(host, name, withUuid(stampOwner(news.xml, ctx, definitionHash(news.xml)), olds.uuid));
    if (change.fifo.length > 0) await applyFifoPriority(host, name, Object.fromEntries(change.fifo));
    const observedVcpuPins = await verifyPins(host, name, news.cputune.vcpuPins);
    return { outs: { ...olds, ...news, observedVcpuPins, runState: "running" } };
}

/**
 * What libvirt runs now, in the same terms as the inputs, so `pulumi refresh`
 * shows drift as a person would describe it (a pin moved, memory changed, the
 * guest stopped, the domain gone) and the next `up` repairs it: live for
 * pinning, a start for a stopped guest, a new domain for the rest.
 */
export async function read(_id: string, props: DomainOutputs, ctx: OperationContext): Promise<provider.ReadResult> {
    const { name } = props;
    const host = accessOf(props.access, props.uri);
    const existing = await ownerOf(host, name);
    // Gone, or replaced by a domain that is not this resource's: the engine forgets it, and `up` creates it again.
    if (!existing || !isOwnStamp(stampOfDomain(existing), ctx)) return { id: "", props: {} };
    const runState = await domainState(host, name);
    const live = await host.virsh(["dumpxml", name]);
    // libvirt's own XML: the one place the provider parses pins.
    const liveTune = parseCputune(live);
    const pinsMoved = props.cputune ? !sameCputune(liveTune, props.cputune) : !sameJson(describePinning(liveTune), props.pinning);
    const memoryMiB = Number(/<memory unit='KiB'>(\d+)<\/memory>/.exec(live)?.[1] ?? NaN) / 1024;
    const vcpus = /<vcpu\b[^>]*>(\d+)<\/vcpu>/.exec(live)?.[1];
    const facts = { ...props.facts };
    if (facts.memory !== undefined && Number.isFinite(memoryMiB)) facts.memory = `${memoryMiB} MiB`;
    if (facts.vcpus !== undefined && vcpus !== undefined) facts.vcpus = vcpus;
    const observedVcpuPins = runState === "running" ? await readVcpuPins(host, name) : props.observedVcpuPins;
    const pinning = pinsMoved ? describePinning(liveTune) : props.pinning;
    const cputune = pinsMoved ? liveTune : props.cputune;
    // The inputs too, so that the next preview's diff shows the drift as a change of pinning or facts.
    const inputs: DomainInputs = { ...inputsOf(props), cputune, pinning, facts };
    return { id: existing.uuid, props: { ...props, ...inputs, uuid: existing.uuid, runState, observedVcpuPins }, inputs };
}

function inputsOf(props: DomainOutputs): DomainInputs {
    const { uri, name, xml, cputune, pinning, facts, consoleLog, readyPattern, bootTimeoutSec, access, lineage } = props;
    return {
        uri,
        name,
        xml,
        cputune,
        pinning,
        facts,
        consoleLog,
        readyPattern,
        bootTimeoutSec,
        ...(access ? { access } : {}),
        ...(lineage ? { lineage } : {}),
    };
}

export async function deleteDomain(_id: string, props: DomainOutputs, ctx?: OperationContext): Promise<void> {
    const host = accessOf(props.access, props.uri);
    // A domain of that name that another resource made (the name was reused after this one was
    // removed by hand), or that the same resource of another state made, is not this resource's to remove.
    const existing = ctx ? await timed("domain delete: owner check (dumpxml)", props.name, () => ownerOf(host, props.name)) : undefined;
    if (existing && existing.owner !== "" && !isOwnStamp(stampOfDomain(existing), ctx!)) {
        say(ctx?.progress, `domain ${props.name} on ${props.uri} belongs to ${describeStamp(stampOfDomain(existing), ctx!)}; left alone`);
        return;
    }
    ctx?.progress?.step("stopping and removing the domain");
    await timed("domain delete: destroy and undefine", props.name, () => removeDomain(host, props.name));
}
export { deleteDomain as delete };

/**
 * Destroys (hard power-off, so a hung guest cannot stall it) and undefines; absent is fine.
 * Both at once: the destroy waits for QEMU to exit and give back its memory, and
 * the undefine need not wait for that. libvirt applies them to the domain one at
 * a time and either order ends with no domain: undefined first, a running domain
 * turns transient and goes when destroyed; destroyed first, the undefine removes
 * the stopped definition. The one that finds the domain already gone is fine.
 */
export async function removeDomain(host: HostAccess, name: string): Promise<void> {
    const destroy = host.virsh(["destroy", name], { timeoutMs: 60_000 }).catch((err: unknown) => {
        if (!(isNoDomain(err) || isNotRunning(err))) throw err;
    });
    const undefine = host.virsh(["undefine", name]).catch((err: unknown) => {
        if (!isNoDomain(err)) throw err;
    });
    await Promise.all([destroy, undefine]);
}

async function defineDomain(host: HostAccess, name: string, xml: string): Promise<void> {
    const xmlFile = await writeTemp(`${name}.xml`, xml);
    try {
        await host.virsh(["define", xmlFile]);
    } finally {
        await fs.rm(path.dirname(xmlFile), { recursive: true, force: true });
    }
}

async function writeTemp(fileName: string, text: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "nfvkit-"));
    const file = path.join(dir, fileName);
    await fs.writeFile(file, text);
    return file;
}

function withUuid(xml: string, uuid: string): string {
    if (/<uuid>/.test(xml)) return xml;
    return xml.replace(/(<name>[^<]*<\/name>)/, `$1\n  <uuid>${uuid}</uuid>`);
}

/** `<cputune>` holds exactly what update() can change on a running guest. */
export function withoutCputune(xml: string): string {
    return (xml ?? "").replace(/<cputune>[\s\S]*?<\/cputune>/, "<cputune/>");
}

/** Without the provider's Progress (a test that calls an operation directly): what must be said goes to stderr. */
const stderrProgress: Progress = { step: () => undefined, say: writeToStderr };

/** A line a person must see (a restart, a domain left alone): through the operation's Progress, or stderr without one. */
function say(progress: Progress | undefined, line: string): void {
    (progress ?? stderrProgress).say(line);
}
