/**
 * Memory and CPU of a whole process tree, read from /proc while it runs.
 * A `pulumi preview` is several processes (the engine, our language host, the
 * Node.js program, the dynamic-provider host), so the peak of the sum of
 * their resident sets is what the machine must hold; `/usr/bin/time` would
 * only report the largest single process.
 */
import { readdirSync, readFileSync } from "node:fs";

/** What one process of the tree is, in the terms of a Pulumi run. */
export type ProcessRole = "engine" | "language host" | "program" | "nfvkit provider" | "other";

/** One process as last seen. */
export interface ProcessSample {
    pid: number;
    role: ProcessRole;
    /** Resident set (VmRSS) in KiB. */
    rssKiB: number;
    /** User plus system CPU time in seconds, so far. */
    cpuSeconds: number;
}

/** Per-role totals over a run. */
export interface RoleUsage {
    /** Largest resident set the role's processes held at one sample, summed over them, in KiB. */
    peakRssKiB: number;
    /** CPU seconds its processes used, as last seen before they exited. */
    cpuSeconds: number;
}

/** What a sampler saw over a whole run. */
export interface TreeUsage {
    /** Largest sum of VmRSS over the tree at one sample, in KiB. */
    peakRssKiB: number;
    /** Per role. */
    roles: Record<ProcessRole, RoleUsage>;
    /** Number of samples taken. */
    samples: number;
    /** Pids seen per role, e.g. to match a `--cpu-prof` file (named after its pid) to the program. */
    pids: Record<ProcessRole, number[]>;
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux x86-64

function readOrNull(file: string): string | null {
    try {
        return readFileSync(file, "utf8");
    } catch {
        return null; // the process exited between listing and reading
    }
}

/** The role of a process from its command line. */
export function roleOf(cmdline: string[]): ProcessRole {
    const exe = (cmdline[0] ?? "").split("/").pop() ?? "";
    const args = cmdline.join(" ");
    if (exe === "pulumi") return "engine";
    if (exe === "pulumi-language-nodejs") return "language host";
    // The floor program's no-op plugin (tools/bench/floor/provider) counts as the provider of its runs.
    if (/components\/provider\/server\.ts|pulumi-resource-nfvkit|floor\/provider\/server\.ts/.test(args)) return "nfvkit provider";
    if (/cmd\/run|tsx/.test(args) || exe === "node") return "program";
    return "other";
}

/** Parent pid of every process on the machine. */
function parentsOf(): Map<number, number> {
    const parents = new Map<number, number>();
    for (const entry of readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        const stat = readOrNull(`/proc/${entry}/stat`);
        if (!stat) continue;
        // Fields after the parenthesised command name: state ppid ...
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        parents.set(Number(entry), Number(fields[1]));
    }
    return parents;
}

/** The root and all its descendants, sampled once. */
export function sampleTree(rootPid: number): ProcessSample[] {
    const parents = parentsOf();
    const inTree = new Set([rootPid]);
    // Parents may have higher pids than children after pid wrap, so iterate to a fixed point.
    for (let grew = true; grew;) {
        grew = false;
        for (const [pid, ppid] of parents) {
            if (!inTree.has(pid) && inTree.has(ppid)) {
                inTree.add(pid);
                grew = true;
            }
        }
    }
    const samples: ProcessSample[] = [];
    const roles = new Map<number, ProcessRole>();
    // Helpers (esbuild under tsx, say) count towards the process that started them.
    const roleInTree = (pid: number, cmdline: string[]): ProcessRole => {
        const own = roleOf(cmdline);
        // An exiting process has an empty command line: "other" here, and the watcher keeps the role it had.
        if (own !== "other" || pid === rootPid || cmdline.length === 0) return own;
        const parent = parents.get(pid)!;
        return roles.get(parent) ?? roleInTree(parent, (readOrNull(`/proc/${parent}/cmdline`) ?? "").split("\0").filter(Boolean));
    };
    for (const pid of [...inTree].sort((a, b) => a - b)) {
        const status = readOrNull(`/proc/${pid}/status`);
        const stat = readOrNull(`/proc/${pid}/stat`);
        const cmdline = readOrNull(`/proc/${pid}/cmdline`);
        if (!status || !stat || cmdline === null) continue;
        const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        // utime and stime are fields 14 and 15 of stat; 12 and 13 after the command name and state.
        const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
        const role = roleInTree(pid, cmdline.split("\0").filter(Boolean));
        roles.set(pid, role);
        samples.push({ pid, role, rssKiB: rss ? Number(rss[1]) : 0, cpuSeconds });
    }
    return samples;
}

/**
 * Samples a process tree every `intervalMs` until stopped. The CPU time of a
 * process that exits between samples is counted up to its last sample, so a
 * short interval matters for short-lived helpers.
 */
export function watchTree(rootPid: number, intervalMs = 100): { stop(): TreeUsage } {
    const emptyRoles = (): Record<ProcessRole, RoleUsage> => ({
        engine: { peakRssKiB: 0, cpuSeconds: 0 },
        "language host": { peakRssKiB: 0, cpuSeconds: 0 },
        program: { peakRssKiB: 0, cpuSeconds: 0 },
        "nfvkit provider": { peakRssKiB: 0, cpuSeconds: 0 },
        other: { peakRssKiB: 0, cpuSeconds: 0 },
    });
    const usage: TreeUsage = {
        peakRssKiB: 0,
        roles: emptyRoles(),
        samples: 0,
        pids: { engine: [], "language host": [], program: [], "nfvkit provider": [], other: [] },
    };
    const lastCpu = new Map<number, { role: ProcessRole; cpuSeconds: number }>();
    const sample = () => {
        const processes = sampleTree(rootPid);
        if (processes.length === 0) return;
        usage.samples++;
        usage.peakRssKiB = Math.max(
            usage.peakRssKiB,
            processes.reduce((sum, p) => sum + p.rssKiB, 0),
        );
        const rssByRole = emptyRoles();
        for (const p of processes) {
            // An exiting process has an empty command line: it keeps the role it had.
            const previous = lastCpu.get(p.pid)?.role;
            const role = p.role === "other" && previous ? previous : p.role;
            rssByRole[role].peakRssKiB += p.rssKiB;
            lastCpu.set(p.pid, { role, cpuSeconds: p.cpuSeconds });
        }
        for (const role of Object.keys(rssByRole) as ProcessRole[]) {
            usage.roles[role].peakRssKiB = Math.max(usage.roles[role].peakRssKiB, rssByRole[role].peakRssKiB);
        }
    };
    sample();
    const timer = setInterval(sample, intervalMs);
    return {
        stop() {
            clearInterval(timer);
            for (const [pid, { role, cpuSeconds }] of lastCpu) {
                usage.roles[role].cpuSeconds += cpuSeconds;
                usage.pids[role].push(pid);
            }
            return usage;
        },
    };
}
