/**
 * Command lines of the inter-VM probe: nfvkit-ring in a guest (on the
 * ivshmem BAR, found through sysfs) and on the host (on the link's backing
 * file). Pure: argv arrays and one guest script built from them.
 */
import { displayCommand } from "../latency/commands";

/** The ring program's name in the guest image (recipe `programs:`). */
export const RING_TOOL = "nfvkit-ring";

export type RingRole = "consume" | "produce" | "pong" | "ping";

export interface RingArgs {
    role: RingRole;
    /** Region file(s): one path, or a comma-separated list with `tag` choosing among them. */
    file: string;
    session: number;
    /** Label of the link's region (see `tagCommand`). */
    tag?: string;
    burst?: number;
    /** CPU to pin to (guest vCPU or host CPU). */
    cpu: number;
    /** SCHED_FIFO priority; 0 or unset runs at normal priority. */
    fifo?: number;
    /** Sending sides: seconds of traffic. */
    seconds?: number;
    /** Sending sides: a fixed number of packets instead of seconds. */
    count?: number;
    drop?: number;
    /** Sending side: send this number one slot late, after its successor. */
    reorder?: number;
    corrupt?: number;
    /** Rate sides: move the same lines with no checking (the ceiling); both sides or neither. */
    unchecked?: boolean;
    /** Seconds the side that waits gives the other to appear. */
    waitSec?: number;
}

/** argv of one side; `tool` is the binary (the guest's PATH name, or the host path). */
export function ringCommand(a: RingArgs, tool = RING_TOOL): string[] {
    const argv = [tool, a.role, "--file", a.file, "--session", String(a.session), "--cpu", String(a.cpu)];
    if (a.tag !== undefined) argv.push("--tag", a.tag);
    if (a.burst !== undefined) argv.push("--burst", String(a.burst));
    if (a.fifo) argv.push("--fifo", String(a.fifo));
    if (a.count !== undefined) argv.push("--count", String(a.count));
    else if (a.seconds !== undefined) argv.push("--seconds", String(a.seconds));
    if (a.drop !== undefined) argv.push("--drop", String(a.drop));
    if (a.reorder !== undefined) argv.push("--reorder", String(a.reorder));
    if (a.corrupt !== undefined) argv.push("--corrupt", String(a.corrupt));
    if (a.unchecked) argv.push("--unchecked");
    if (a.waitSec !== undefined) argv.push("--wait", String(a.waitSec));
    return argv;
}

/** Host: labels a link's backing file so the guests find its BAR among several. */
export function tagCommand(tool: string, file: string, tag: string): string[] {
    return [tool, "tag", "--file", file, "--tag", tag];
}

/** The tag of a link's region: its host-unique shm name. */
export function linkTag(shmName: string): string {
    return `nfvkit-link:${shmName}`;
}

/** Placeholder for the guest's candidate BARs in `ringCommand`'s file. */
export const GUEST_REGIONS = "$regions";

/**
 * A guest script: enable every ivshmem-plain device (vendor 1af4, device
 * 1110) so its BAR 2 can be mapped, list their resource2 files, and run the
 * ring on the one that carries the link's tag. The argv's values are the
 * kit's own (numbers, the tag made of a validated name), so `displayCommand`
 * quoting is enough.
 */
export function guestRingScript(argv: string[]): string {
    const cmd = displayCommand(argv).replace(`'${GUEST_REGIONS}'`, GUEST_REGIONS).replace(GUEST_REGIONS, '"$regions"');
    return [
        "regions=''",
        "for d in /sys/bus/pci/devices/*; do",
        '  if [ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1110 ]; then',
        "    echo 1 > $d/enable 2>/dev/null; regions=${regions:+$regions,}$d/resource2",
        "  fi",
        "done",
        '[ -n "$regions" ] || { echo "nfvkit-ring: no ivshmem-plain device (1af4:1110) in this guest" >&2; exit 2; }',
        `${cmd} 2>&1`,
    ].join("\n");
}
