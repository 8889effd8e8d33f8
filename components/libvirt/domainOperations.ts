/**
 * Create, diff, update and delete of one libvirt domain: the work behind the
 * `Domain` dynamic resource. Loaded by providerShell in the provider host, so
 * it keeps no module-level state.
 *
 * Diff rules, so previews read in guest terms:
 *   - vCPU, emulator and I/O thread pinning and the FIFO priority are applied
 *     to the running guest (and to its persistent definition): an update.
 *   - anything else in the domain XML needs a new domain: a replacement, named
 *     by the guest-level fact that changed (memory, vcpus, shmem.ring0, ...).
 */
import type * as pulumi from "@pulumi/pulumi";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CpuSet } from "../spec/units";
import { parseCputune } from "./cputune";
import { waitForAgent } from "./guestAgent";
import { isLocalUri, virsh, VirshError } from "./virsh";

/** Resolved inputs of a Domain (plain values: the provider never sees Outputs). */
export interface DomainInputs {
    /** libvirt URI of the host. */
    uri: string;
    /** Domain name on that host. */
    name: string;
    /** The full domain XML. */
    xml: string;
    /**
     * The `<cputune>` of `xml` in guest terms ("vCPU 1": "host CPU 1, FIFO 1"), so a
     * preview of a pinning change reads as one. Derived from `xml`, which stays the source of truth.
     */
    pinning: Record<string, string>;
    /** Guest-level facts behind `xml` (memory, vcpus, links...), named in replacement diffs. */
    facts: Record<string, string>;
    /** Host path of the serial console log (libvirt writes it; local hosts only are read). */
    consoleLog: string;
    /** Line the guest's init prints when it is up. */
    readyPattern: string;
    /** Seconds to wait for the guest agent and the ready line. */
    bootTimeoutSec: number;
}

/** Outputs of a Domain: the inputs plus what was observed. */
export interface DomainOutputs extends DomainInputs {
    uuid: string;
    /** Seconds from `virsh start` until the guest agent answered. */
    bootSeconds: number;
    /** vCPU pinning read back from libvirt after start (vCPU → CPU set). */
    observedVcpuPins: Record<string, string>;
}

export async function check(_olds: DomainInputs, news: DomainInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!news.uri) failures.push({ property: "uri", reason: "a libvirt URI is required, e.g. qemu:///system" });
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(news.name ?? "")) {
        failures.push({ property: "name", reason: `domain name ${JSON.stringify(news.name)} must be 1-64 of A-Z a-z 0-9 _ . -` });
    }
    if (!news.xml?.includes("<domain")) failures.push({ property: "xml", reason: "not a libvirt domain XML document" });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: DomainOutputs, news: DomainInputs): Promise<pulumi.dynamic.DiffResult> {
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
    const changes = keys.some((k) => !sameJson(olds[k], news[k]));
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

export async function create(inputs: DomainInputs): Promise<pulumi.dynamic.CreateResult<DomainOutputs>> {
    const { uri, name } = inputs;
    await refuseForeignDomain(uri, name);
    const xmlFile = await writeTemp(`${name}.xml`, inputs.xml);
    try {
        await virsh(uri, ["define", xmlFile]);
    } finally {
        await fs.rm(path.dirname(xmlFile), { recursive: true, force: true });
    }
    try {
        if (isLocalUri(uri) && inputs.consoleLog) {
            await fs.mkdir(path.dirname(inputs.consoleLog), { recursive: true });
        }
        const started = Date.now();
        await virsh(uri, ["start", name]);
        // On a local host the console tells first, and tells why a boot went wrong.
        if (isLocalUri(uri) && inputs.consoleLog && inputs.readyPattern) {
            await waitForConsoleLine(inputs.consoleLog, inputs.readyPattern, inputs.bootTimeoutSec * 1000, name);
        }
        await waitForAgent(uri, name, inputs.bootTimeoutSec * 1000);
        const bootSeconds = (Date.now() - started) / 1000;
        const observedVcpuPins = await verifyPins(uri, name, parseCputune(inputs.xml).vcpuPins);
        const uuid = (await virsh(uri, ["domuuid", name])).trim();
        return { id: uuid, outs: { ...inputs, uuid, bootSeconds, observedVcpuPins } };
    } catch (err) {
        // Nothing half-created is left behind: the engine records no resource on failure.
        await removeDomain(uri, name);
        throw err;
    }
}

export async function update(_id: string, olds: DomainOutputs, news: DomainInputs): Promise<pulumi.dynamic.UpdateResult<DomainOutputs>> {
    const { uri, name } = news;
    const before = parseCputune(olds.xml);
    const after = parseCputune(news.xml);
    for (const [vcpu, cpus] of Object.entries(after.vcpuPins)) {
        if (before.vcpuPins[vcpu] !== cpus) await virsh(uri, ["vcpupin", name, vcpu, cpus, "--live", "--config"]);
    }
    if (after.emulatorPin && before.emulatorPin !== after.emulatorPin) {
        await virsh(uri, ["emulatorpin", name, after.emulatorPin, "--live", "--config"]);
    }
    for (const [thread, cpus] of Object.entries(after.iothreadPins)) {
        if (before.iothreadPins[thread] !== cpus) await virsh(uri, ["iothreadpin", name, thread, cpus, "--live", "--config"]);
    }
    // Everything else that changed lives only in <cputune> (the diff guarantees it):
    // redefine so the persistent definition matches, then apply the FIFO priority
    // to the running vCPU threads, which libvirt has no live call for.
    // Without the running domain's UUID, libvirt would take the XML for another domain of the same name.
    const xmlFile = await writeTemp(`${name}.xml`, withUuid(news.xml, olds.uuid));
    try {
        await virsh(uri, ["define", xmlFile]);
    } finally {
        await fs.rm(path.dirname(xmlFile), { recursive: true, force: true });
    }
    const fifoChanged = Object.entries(after.fifo).filter(([vcpu, priority]) => before.fifo[vcpu] !== priority);
    if (fifoChanged.length > 0 && isLocalUri(uri)) {
        await applyFifoPriorityLocally(name, Object.fromEntries(fifoChanged));
    }
    const observedVcpuPins = await verifyPins(uri, name, after.vcpuPins);
    return { outs: { ...olds, ...news, observedVcpuPins } };
}

export async function read(id: string, props: DomainOutputs): Promise<pulumi.dynamic.ReadResult<DomainOutputs>> {
    try {
        const uuid = (await virsh(props.uri, ["domuuid", props.name])).trim();
        return { id: uuid, props };
    } catch (err) {
        if (err instanceof VirshError && err.isNoDomain) return { id: "", props };
        throw err;
    }
}

export async function deleteDomain(_id: string, props: DomainOutputs): Promise<void> {
    await removeDomain(props.uri, props.name);
}
export { deleteDomain as delete };

/** Destroys (hard power-off, so a hung guest cannot stall it) and undefines; absent is fine. */
export async function removeDomain(uri: string, name: string): Promise<void> {
    try {
        await virsh(uri, ["destroy", name], { timeoutMs: 60_000 });
    } catch (err) {
        if (!(err instanceof VirshError && (err.isNoDomain || err.isNotRunning))) throw err;
    }
    try {
        await virsh(uri, ["undefine", name]);
    } catch (err) {
        if (!(err instanceof VirshError && err.isNoDomain)) throw err;
    }
}

/** A domain of the same name that this stack did not create must not be clobbered. */
async function refuseForeignDomain(uri: string, name: string): Promise<void> {
    try {
        await virsh(uri, ["domuuid", name]);
    } catch (err) {
        if (err instanceof VirshError && err.isNoDomain) return;
        throw err;
    }
    throw new Error(
        `a domain named ${name} already exists on ${uri} and this stack does not manage it. ` +
            `Remove it (virsh -c ${uri} destroy ${name}; virsh -c ${uri} undefine ${name}) or import it, then run again.`,
    );
}

/** Reads `virsh vcpupin` back and fails when libvirt did not apply what was asked. */
async function verifyPins(uri: string, name: string, expected: Record<string, string>): Promise<Record<string, string>> {
    const out = await virsh(uri, ["vcpupin", name]);
    const observed: Record<string, string> = {};
    for (const line of out.split("\n")) {
        const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
        if (m) observed[m[1]] = m[2];
    }
    for (const [vcpu, cpus] of Object.entries(expected)) {
        if (!sameCpus(observed[vcpu], cpus)) {
            throw new Error(`vCPU ${vcpu} of ${name} is pinned to ${observed[vcpu] ?? "nothing"} on ${uri}, expected ${cpus}`);
        }
    }
    return observed;
}

/** Sets SCHED_FIFO priorities (vCPU → priority) on the running vCPU threads (local host only). */
async function applyFifoPriorityLocally(name: string, priorities: Record<string, number>): Promise<void> {
    const pid = (await fs.readFile(`/run/libvirt/qemu/${name}.pid`, "utf8")).trim();
    const { execFileSync } = await import("node:child_process");
    for (const tid of await fs.readdir(`/proc/${pid}/task`)) {
        // QEMU names vCPU threads "CPU <n>/KVM" or "CPU <n>/TCG".
        const vcpu = /^CPU (\d+)\//.exec((await fs.readFile(`/proc/${pid}/task/${tid}/comm`, "utf8")).trim())?.[1];
        if (vcpu !== undefined && priorities[vcpu] !== undefined) execFileSync("chrt", ["-f", "-p", String(priorities[vcpu]), tid]);
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

async function waitForConsoleLine(file: string, pattern: string, timeoutMs: number, domain: string): Promise<void> {
    const start = Date.now();
    const tailOf = (text: string) => text.split("\n").slice(-15).join("\n");
    while (Date.now() - start < timeoutMs) {
        const text = await fs.readFile(file, "utf8").catch(() => "");
        if (text.includes(pattern)) return;
        for (const failure of BOOT_FAILURES) {
            const hit = failure.line.exec(text);
            if (hit) {
                const line = text.slice(text.lastIndexOf("\n", hit.index) + 1, text.indexOf("\n", hit.index)).trim();
                throw new Error(`${domain} failed to boot: "${line}": ${failure.fix}. Console log: ${file}`);
            }
        }
        await new Promise((r) => setTimeout(r, 250));
    }
    const tail = tailOf(await fs.readFile(file, "utf8").catch(() => ""));
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
