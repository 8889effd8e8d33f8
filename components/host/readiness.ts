/**
 * Host readiness: is the host itself an RT KVM host for this pod? A
 * PREEMPT_RT kernel, and the boot arguments the pod's plan asks for
 * (plan/hostCmdline.ts). Assessment is pure; a host is read through its HostAccess.
 */
import type { HostAccess } from "./access";

/** What the kit read from a host's running kernel. */
export interface HostKernelFacts {
    /** `uname -r` and `uname -v`. */
    release: string;
    version: string;
    /** /sys/kernel/realtime reads 1. */
    realtime: boolean;
    /** /proc/cmdline. */
    cmdline: string;
    /** Tracers the kernel offers (available_tracers), or null when tracefs cannot be read. */
    tracers: string[] | null;
}

export interface HostCheck {
    /** What is checked, e.g. `PREEMPT_RT kernel` or `boot arg nohz_full`. */
    name: string;
    expected: string;
    found: string;
    pass: boolean;
}

/** Reads a host's kernel facts through its access. */
export async function readKernelFacts(host: HostAccess): Promise<HostKernelFacts> {
    const uname = async (flag: string) => (await host.run(["uname", flag])).stdout.trim();
    // At once: every up, preview and validate reads these, one command or file each, over SSH for a remote host.
    const [release, version, realtime, cmdline, tracers] = await Promise.all([
        uname("-r"),
        uname("-v"),
        host.tryReadFile("/sys/kernel/realtime"),
        host.readFile("/proc/cmdline"),
        readTracers(host),
    ]);
    return { release, version, realtime: (realtime ?? "").trim() === "1", cmdline: cmdline.trim(), tracers };
}

async function readTracers(host: HostAccess): Promise<string[] | null> {
    for (const dir of ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]) {
        // Not mounted there, or not readable: try the other place.
        const text = await host.tryReadFile(`${dir}/available_tracers`).catch(() => undefined);
        if (text !== undefined) return text.trim().split(/\s+/);
    }
    return null;
}

/** Compares a host's kernel with what the pod needs. */
export function assessHostReadiness(kernel: HostKernelFacts, expectedArgs: string[]): HostCheck[] {
    const rt = kernel.realtime || /PREEMPT_RT/.test(kernel.version);
    const checks: HostCheck[] = [
        { name: "PREEMPT_RT kernel", expected: "PREEMPT_RT", found: rt ? "PREEMPT_RT" : `${kernel.release} ${kernel.version}`.trim(), pass: rt },
    ];
    // hwlatdetect and rtla hwnoise measure SMIs and firmware stalls through the hwlat tracer.
    checks.push({
        name: "hwlat tracer (hardware latency detection)",
        expected: "hwlat",
        found: kernel.tracers === null ? "tracefs not mounted" : kernel.tracers.includes("hwlat") ? "hwlat" : `absent (tracers: ${kernel.tracers.join(" ")})`,
        pass: kernel.tracers?.includes("hwlat") ?? false,
    });
    const given = new Map<string, string>();
    for (const token of kernel.cmdline.split(/\s+/)) {
        if (token === "--") break; // what follows goes to init, not the kernel
        const eq = token.indexOf("=");
        // hugepagesz/hugepages repeat per size; keep them together as one value.
        const key = eq < 0 ? token : token.slice(0, eq);
        const value = eq < 0 ? "" : token.slice(eq + 1);
        given.set(key, given.has(key) ? `${given.get(key)} ${value}` : value);
    }
    const wanted = new Map<string, string>();
    for (const arg of expectedArgs) {
        const eq = arg.indexOf("=");
        const key = eq < 0 ? arg : arg.slice(0, eq);
        const value = eq < 0 ? "" : arg.slice(eq + 1);
        wanted.set(key, wanted.has(key) ? `${wanted.get(key)} ${value}` : value);
    }
    for (const [key, value] of wanted) {
        const found = given.get(key);
        checks.push({
            name: `boot arg ${key}`,
            expected: value === "" ? key : `${key}=${value}`,
            found: found === undefined ? "absent" : found === "" ? key : `${key}=${found}`,
            pass: found === value,
        });
    }
    return checks;
}

/** One line per failed check, for notes and errors. */
export function describeUnready(host: string, checks: HostCheck[]): string[] {
    return checks.filter((c) => !c.pass).map((c) => `host ${host} not ready: ${c.name}: expected ${c.expected}, found ${c.found}`);
}

/**
 * A host's readiness in one line, as the stack outputs show it: how many
 * checks pass and the names of the misses, e.g. `2 of 11 checks pass; misses:
 * PREEMPT_RT kernel, hwlat tracer, isolcpus`. Each check with what was
 * expected and found is in the reports (the host readiness table).
 */
export function summarizeReadiness(checks: HostCheck[]): string {
    const misses = checks.filter((c) => !c.pass);
    if (misses.length === 0) return `all ${checks.length} checks pass`;
    return `${checks.length - misses.length} of ${checks.length} checks pass; misses: ${misses.map((c) => shortCheckName(c.name)).join(", ")}`;
}

/** `boot arg isolcpus` → `isolcpus`; `hwlat tracer (hardware latency detection)` → `hwlat tracer`. */
function shortCheckName(name: string): string {
    return name.replace(/^boot arg /, "").replace(/ \([^)]*\)$/, "");
}
