/**
 * A running domain's pins as libvirt applied them: `virsh vcpupin` read back
 * and held to what was asked (a pin libvirt did not apply is a failed
 * command, with both values), and the vCPU threads' FIFO priorities, which
 * libvirt has no live call for.
 */
import { HostCommandError, type HostAccess } from "../host/access";
import { CpuSet } from "../spec/units";

export async function readVcpuPins(host: HostAccess, name: string): Promise<Record<string, string>> {
    const out = await host.virsh(["vcpupin", name]);
    const observed: Record<string, string> = {};
    for (const line of out.split("\n")) {
        const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
        if (m) observed[m[1]] = m[2];
    }
    return observed;
}

/** Reads `virsh vcpupin` back and fails when libvirt did not apply what was asked. */
export async function verifyPins(host: HostAccess, name: string, expected: Record<string, string>): Promise<Record<string, string>> {
    const observed = await readVcpuPins(host, name);
    for (const [vcpu, cpus] of Object.entries(expected)) {
        if (!sameCpus(observed[vcpu], cpus)) {
            const argv = ["virsh", "vcpupin", name];
            throw new HostCommandError(
                host.name,
                argv,
                0,
                "",
                "",
                "exit",
                `libvirt pinned vCPU ${vcpu} of ${name} to ${observed[vcpu] ?? "nothing"}, not to ${cpus} as asked`,
            );
        }
    }
    return observed;
}

/** Sets SCHED_FIFO priorities (vCPU → priority) on the running vCPU threads, which libvirt has no live call for. */
export async function applyFifoPriority(host: HostAccess, name: string, priorities: Record<string, number>): Promise<void> {
    const pid = (await host.readFile(`/run/libvirt/qemu/${name}.pid`)).trim();
    for (const tid of await host.listDir(`/proc/${pid}/task`)) {
        // QEMU names vCPU threads "CPU <n>/KVM" or "CPU <n>/TCG".
        const vcpu = /^CPU (\d+)\//.exec(((await host.tryReadFile(`/proc/${pid}/task/${tid}/comm`)) ?? "").trim())?.[1];
        if (vcpu !== undefined && priorities[vcpu] !== undefined) await host.run(["chrt", "-f", "-p", String(priorities[vcpu]), tid]);
    }
}

function sameCpus(a: string | undefined, b: string): boolean {
    return a !== undefined && CpuSet.parse(a, "vcpupin").toString() === CpuSet.parse(b, "vcpupin").toString();
}
