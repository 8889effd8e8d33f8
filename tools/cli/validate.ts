/**
 * `npm run validate -- <stack file or spec file> [--offline] [--prefix <name>]`
 * `npm run validate -- --stack <name> [--offline]`
 *
 * Checks a stack the way `pulumi up` does, without creating anything: the
 * same loader (loadStack) reaches the same hosts through their pinned access
 * and runs the same validation, so both report the same problems. Prints
 * every problem with its line in the file and exits 1, or prints the
 * placement table and what was read on each host (kernel, accelerator,
 * memory locking, SR-IOV PFs) and exits 0. A Pulumi stack file holds the spec
 * under `config: nfv-testpod:pod`; any other YAML file is taken as a bare
 * spec. `--stack lab` checks the lab stack with the lab's generated config,
 * as `npm run up -- --stack lab` runs it. --offline reaches no host: facts
 * come from the spec alone.
 */
import { formatPlacementTable } from "../../components/plan/placement";
import { countProblems } from "../../components/spec/problems";
import type { HostFacts } from "../../components/host/facts";
import { formatProblemLine } from "../../components/validate";
import { loadCommandStack } from "./stack";

const usage = "usage: npm run validate -- <stack file or spec file> | --stack <name>  [--offline] [--prefix <name prefix>]";

async function main(argv: string[]): Promise<number> {
    const args = [...argv];
    const offline = args.includes("--offline");
    const valueOf = (flag: string) => (args.indexOf(flag) >= 0 ? args[args.indexOf(flag) + 1] : undefined);
    const prefixArg = valueOf("--prefix");
    const stackArg = valueOf("--stack");
    const flagValues = new Set([prefixArg, stackArg].filter((v) => v !== undefined));
    const files = args.filter((a) => !a.startsWith("--") && !flagValues.has(a));
    if (files.length + (stackArg === undefined ? 0 : 1) !== 1 || (args.includes("--prefix") && prefixArg === undefined)) {
        console.error(usage);
        return 2;
    }
    const loaded = await loadCommandStack(stackArg ?? files[0], { offline, namePrefix: prefixArg });
    try {
        const shown = loaded.file ?? stackArg ?? files[0];
        if (loaded.problems.length > 0 || !loaded.plan) return report(shown, loaded.problems);
        const pod = loaded.plan;
        const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
        console.log(`${shown}: valid (${count(pod.hosts.length, "host")}, ${count(pod.guests.length, "guest")}, ${count(pod.links.length, "link")})\n`);
        console.log(formatPlacementTable(pod.placement));
        console.log("");
        for (const guest of pod.guests) {
            console.log(
                `${guest.name}: domain ${guest.domainName}, ${guest.memory.mebibytes} MiB on node ${guest.numaNode} (${guest.pageSize.kibibytes === 4 ? "4K pages" : `${guest.pageSize.kibibytes} KiB hugepages`}), kernel args: ${guest.kernelArgs.join(" ") || "(none)"}`,
            );
        }
        const reached = Object.entries(loaded.hostFacts).filter(([host]) => loaded.access[host] !== undefined);
        if (reached.length > 0) {
            console.log("");
            for (const [host, facts] of reached) console.log(describeHost(host, facts, loaded.sshTargets[host]));
        }
        return 0;
    } finally {
        await loaded.close();
    }
}

/** What was read on a host, in the words of the readiness table. */
function describeHost(host: string, facts: HostFacts, ssh: { user?: string; host: string; port?: number } | undefined): string {
    const via = ssh ? `over SSH ${ssh.user ?? "root"}@${ssh.host}:${ssh.port ?? 22}` : "this machine";
    const lines = [`host ${host} (${via}):`];
    if (facts.kernel)
        lines.push(
            `  kernel ${facts.kernel.release}${facts.kernel.realtime || /PREEMPT_RT/.test(facts.kernel.version) ? " (PREEMPT_RT)" : " (not PREEMPT_RT)"}`,
        );
    lines.push(`  ${facts.accel.reason}`);
    if (facts.memoryLocking) lines.push(`  memory locking: ${facts.memoryLocking.supported ? "yes" : "no"} (${facts.memoryLocking.reason})`);
    if (facts.pfs) {
        const pfs = facts.pfs.map((p) => `${p.name} (${p.driver}, ${p.pciAddress}, ${p.totalVfs} VFs, node ${p.numaNode})`);
        lines.push(`  SR-IOV PFs: ${pfs.join(", ") || "none"}`);
    }
    return lines.join("\n");
}

function report(file: string, problems: Parameters<typeof formatProblemLine>[0][]): number {
    // One write: thousands of problems print in one go rather than one syscall each.
    process.stderr.write(`${file}: ${countProblems(problems.length)}:\n${problems.map((p) => formatProblemLine(p, file)).join("\n")}\n`);
    return 1;
}

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exitCode = 2;
    },
);
