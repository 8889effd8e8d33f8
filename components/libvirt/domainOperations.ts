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
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CpuSet } from "../spec/units";
import type { OperationContext } from "../types/operations";
import { NFVKIT_METADATA_NAMESPACE } from "../render/domainXml";
import { xmlEscape } from "../render/xml";
import { cputuneChanges, sameCputune, type Cputune } from "../render/cputune";
import { describePinning, parseCputune } from "./cputune";
import { waitForAgent } from "./guestAgent";
import { domainState, GuestStoppedError, throwIfStopped } from "./domainStop";
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
    const keys: (keyof DomainInputs)[] = ["uri", "name", "xml", "pinning", "facts", "consoleLog", "readyPattern", "bootTimeoutSec"];
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
        if (existing.owner !== ctx.urn) throw foreignDomainError(inputs.uri, name, existing.owner);
        // Ours, left by a run that died before the engine recorded it. The same
        // definition, running: adopt it as it is. Anything else, or one that
        // stops before it is up: start over.
        if (existing.definition === definition && (await domainState(host, name)) === "running") {
            try {
                return { id: existing.uuid, outs: await observe(host, inputs, Date.now()) };
            } catch (err) {
                if (!(err instanceof GuestStoppedError)) throw err;
                say(ctx.progress, `guest ${name}: the domain left by an interrupted run stopped (${err.state}); starting it again`);
            }
        }
        await removeDomain(host, name);
    }
    await timed("domain: define", name, () => defineDomain(host, name, stampOwner(inputs.xml, ctx.urn, definition)));
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
            if (!(err instanceof GuestStoppedError && err.qemuCrashed && tcg && attempt < 3)) throw err;
            progress.say(
                `guest ${name}: QEMU crashed while the guest booted under TCG (${err.qemuSaid.join("; ") || err.state}); starting it again (try ${attempt + 1} of 3)`,
            );
        }
    }
}

/** Waits for a started guest to be up (guest agent), then reads back what libvirt runs. */
async function observe(host: HostAccess, inputs: DomainInputs, started: number): Promise<DomainOutputs> {
    const { name } = inputs;
    const uri = await host.libvirtUri();
    const agentUp = () =>
        waitForAgent(uri, name, inputs.bootTimeoutSec * 1000).catch(async (err: unknown) => {
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
        await waitForAgent(await host.libvirtUri(), name, news.bootTimeoutSec * 1000);
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
    await defineDomain(host, name, withUuid(stampOwner(news.xml, ctx.urn, definitionHash(news.xml)), olds.uuid));
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
    if (!existing || existing.owner !== ctx.urn) return { id: "", props: {} };
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
    const { uri, name, xml, cputune, pinning, facts, consoleLog, readyPattern, bootTimeoutSec, access } = props;
    return { uri, name, xml, cputune, pinning, facts, consoleLog, readyPattern, bootTimeoutSec, ...(access ? { access } : {}) };
}

export async function deleteDomain(_id: string, props: DomainOutputs, ctx?: OperationContext): Promise<void> {
    const host = accessOf(props.access, props.uri);
    // A domain of that name that another resource made (the name was reused after this one was
    // removed by hand) is not this resource's to remove.
    const existing = ctx ? await timed("domain delete: owner check (dumpxml)", props.name, () => ownerOf(host, props.name)) : undefined;
    if (existing && existing.owner !== "" && existing.owner !== ctx!.urn) {
        say(ctx?.progress, `domain ${props.name} on ${props.uri} now belongs to ${existing.owner}; left alone`);
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

/** Who made a domain: the URN stamped in its metadata, and a hash of the definition it was given. */
interface DomainOwner {
    uuid: string;
    /** URN of the resource that created it; "" for a domain the kit did not create. */
    owner: string;
    definition: string;
}

/** The owner stamp of the domain `name`, or undefined when there is no such domain. */
async function ownerOf(host: HostAccess, name: string): Promise<DomainOwner | undefined> {
    let xml: string;
    try {
        xml = await host.virsh(["dumpxml", "--inactive", name]);
    } catch (err) {
        if (isNoDomain(err)) return undefined;
        throw err;
    }
    const entry = (key: string) => unescapeXml(new RegExp(`<(?:\\w+:)?entry key=["']${key}["']>([^<]*)<`).exec(xml)?.[1] ?? "");
    return { uuid: /<uuid>([^<]+)<\/uuid>/.exec(xml)?.[1] ?? "", owner: entry("owner"), definition: entry("definition") };
}

function foreignDomainError(uri: string, name: string, owner: string): Error {
    const whose = owner ? `it belongs to ${owner}` : "the kit did not create it";
    return new Error(
        `a domain named ${name} already exists on ${uri} and ${whose}, so this stack leaves it alone. ` +
            `Remove it (virsh -c ${uri} destroy ${name}; virsh -c ${uri} undefine ${name}) or choose another namePrefix, then run again.`,
    );
}

/**
 * Stamps the creating resource's URN and a hash of the definition into the
 * kit's `<metadata>` element, so that after a crash a create can tell its own
 * domain (adopt it) from a foreign one (refuse it), and a refresh can tell it
 * from a look-alike.
 */
export function stampOwner(xml: string, urn: string, definition: string): string {
    const entries = `<nfvkit:entry key='owner'>${xmlEscape(urn)}</nfvkit:entry><nfvkit:entry key='definition'>${definition}</nfvkit:entry>`;
    const kit = /<nfvkit:kit\b[^>]*>/.exec(xml);
    if (kit) return xml.slice(0, kit.index + kit[0].length) + entries + xml.slice(kit.index + kit[0].length);
    const block = `<metadata><nfvkit:kit xmlns:nfvkit='${NFVKIT_METADATA_NAMESPACE}'>${entries}</nfvkit:kit></metadata>`;
    return xml.replace(/(<\/name>)/, `$1${block}`);
}

export function definitionHash(xml: string): string {
    return `sha256:${createHash("sha256").update(xml).digest("hex").slice(0, 32)}`;
}

function unescapeXml(text: string): string {
    return text
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&");
}

async function defineDomain(host: HostAccess, name: string, xml: string): Promise<void> {
    const xmlFile = await writeTemp(`${name}.xml`, xml);
    try {
        await host.virsh(["define", xmlFile]);
    } finally {
        await fs.rm(path.dirname(xmlFile), { recursive: true, force: true });
    }
}

async function readVcpuPins(host: HostAccess, name: string): Promise<Record<string, string>> {
    const out = await host.virsh(["vcpupin", name]);
    const observed: Record<string, string> = {};
    for (const line of out.split("\n")) {
        const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
        if (m) observed[m[1]] = m[2];
    }
    return observed;
}

/** Reads `virsh vcpupin` back and fails when libvirt did not apply what was asked. */
async function verifyPins(host: HostAccess, name: string, expected: Record<string, string>): Promise<Record<string, string>> {
    const observed = await readVcpuPins(host, name);
    for (const [vcpu, cpus] of Object.entries(expected)) {
        if (!sameCpus(observed[vcpu], cpus)) {
            throw new Error(`vCPU ${vcpu} of ${name} is pinned to ${observed[vcpu] ?? "nothing"} on host ${host.name}, expected ${cpus}`);
        }
    }
    return observed;
}

/** Sets SCHED_FIFO priorities (vCPU → priority) on the running vCPU threads, which libvirt has no live call for. */
async function applyFifoPriority(host: HostAccess, name: string, priorities: Record<string, number>): Promise<void> {
    const pid = (await host.readFile(`/run/libvirt/qemu/${name}.pid`)).trim();
    for (const tid of await host.listDir(`/proc/${pid}/task`)) {
        // QEMU names vCPU threads "CPU <n>/KVM" or "CPU <n>/TCG".
        const vcpu = /^CPU (\d+)\//.exec(((await host.tryReadFile(`/proc/${pid}/task/${tid}/comm`)) ?? "").trim())?.[1];
        if (vcpu !== undefined && priorities[vcpu] !== undefined) await host.run(["chrt", "-f", "-p", String(priorities[vcpu]), tid]);
    }
}

/** Console lines that mean the boot has failed, and what to do about each. */
export const BOOT_FAILURES: { line: RegExp; fix: string }[] = [
    {
        line: /Initramfs unpacking failed/,
        fix: "the guest's memory is too small to unpack the guest image: give it more memory (256M is enough for the default image)",
    },
    {
        line: /Kernel panic - not syncing: (System is deadlocked on memory|Out of memory)/,
        fix: "the guest ran out of memory while booting: give it more memory (256M is enough for the default image)",
    },
    { line: /Kernel panic - not syncing/, fix: "the guest kernel panicked: read the console log" },
];

async function waitForConsoleLine(host: HostAccess, file: string, pattern: string, timeoutMs: number, domain: string): Promise<void> {
    const start = Date.now();
    const tailOf = (text: string) => text.split("\n").slice(-15).join("\n");
    for (let poll = 0; Date.now() - start < timeoutMs; poll++) {
        const text = (await host.tryReadFile(file)) ?? "";
        if (text.includes(pattern)) return;
        for (const failure of BOOT_FAILURES) {
            const hit = failure.line.exec(text);
            if (hit) {
                const line = text.slice(text.lastIndexOf("\n", hit.index) + 1, text.indexOf("\n", hit.index)).trim();
                throw new Error(`${domain} failed to boot: "${line}": ${failure.fix}. Console log: ${file}`);
            }
        }
        // A dead QEMU writes no more: ask libvirt every 2 s rather than wait out the timeout.
        if (poll % 8 === 7) await throwIfStopped(host, domain, `the "${pattern}" line on its console`);
        await new Promise((r) => setTimeout(r, 250));
    }
    const tail = tailOf((await host.tryReadFile(file)) ?? "");
    throw new Error(`${domain}: no "${pattern}" line in ${file} within ${Math.round(timeoutMs / 1000)} s; the console's last lines:\n${tail}`);
}

async function writeTemp(fileName: string, text: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "nfvkit-"));
    const file = path.join(dir, fileName);
    await fs.writeFile(file, text);
    return file;
}

function sameCpus(a: string | undefined, b: string): boolean {
    return a !== undefined && CpuSet.parse(a, "vcpupin").toString() === CpuSet.parse(b, "vcpupin").toString();
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
