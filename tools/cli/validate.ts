/**
 * `npm run validate -- <stack file or spec file> [--offline] [--prefix <name>]`
 *
 * Checks a stack the way `pulumi up` does, without creating anything: the
 * same validateStack over the same config, so both report the same problems.
 * Prints every problem with its line in the file and exits 1, or prints the
 * placement table and exits 0. A Pulumi stack file holds the spec under
 * `config: nfv-testpod:pod`; any other YAML file is taken as a bare spec.
 * Hosts without a declared topology are asked for it over libvirt unless
 * --offline is given.
 */
import * as path from "node:path";
import { formatPlacementTable } from "../../components/plan/placement";
import { countProblems } from "../../components/spec/problems";
import type { HostFacts } from "../../components/host/facts";
import { configNamespace, discoverableSpec, formatProblemLine, validateStack, type StackFile } from "../../components/validate";
import { readStackFileAt } from "./stackFileOnDisk";

async function main(argv: string[]): Promise<number> {
    const args = [...argv];
    const offline = args.includes("--offline");
    const prefixAt = args.indexOf("--prefix");
    const prefixArg = prefixAt >= 0 ? args[prefixAt + 1] : undefined;
    const files = args.filter((a, i) => !a.startsWith("--") && (prefixAt < 0 || i !== prefixAt + 1));
    if (files.length !== 1) {
        console.error("usage: tsx tools/cli/validate.ts <stack file or spec file> [--offline] [--prefix <name prefix>]");
        return 2;
    }
    const file = files[0];
    let source: StackFile;
    try {
        source = readStackFileAt(file);
    } catch (err) {
        console.error(`${file}: cannot read: ${(err as Error).message}`);
        return 2;
    }
    if (source.problems.length > 0) return report(file, source.problems);

    const stack = /^Pulumi\.(.+)\.ya?ml$/.exec(path.basename(file))?.[1];
    const namePrefix =
        prefixArg ??
        `nfv-testpod-${
            stack ??
            path
                .basename(file)
                .replace(/\.ya?ml$/, "")
                .replace(/[^A-Za-z0-9_-]/g, "-")
        }`;
    const spec = source.config[`${configNamespace}:pod`];
    const hostFacts = offline || spec === undefined ? {} : await discover(spec, (line) => console.error(line));

    const checked = validateStack({ config: source.config, secretKeys: source.secretKeys, hostFacts, namePrefix, kind: source.kind, lineOf: source.lineOf });
    if (checked.problems.length > 0 || !checked.plan) return report(file, checked.problems);
    const pod = checked.plan;
    console.log(
        `${file}: valid (${pod.hosts.length} host${pod.hosts.length === 1 ? "" : "s"}, ${pod.guests.length} guest${pod.guests.length === 1 ? "" : "s"}, ${pod.links.length} link${pod.links.length === 1 ? "" : "s"})\n`,
    );
    console.log(formatPlacementTable(pod.placement));
    console.log("");
    for (const guest of pod.guests) {
        console.log(
            `${guest.name}: domain ${guest.domainName}, ${guest.memory.mebibytes} MiB on node ${guest.numaNode} (${guest.pageSize.kibibytes === 4 ? "4K pages" : `${guest.pageSize.kibibytes} KiB hugepages`}), kernel args: ${guest.kernelArgs.join(" ") || "(none)"}`,
        );
    }
    return 0;
}

function report(file: string, problems: Parameters<typeof formatProblemLine>[0][]): number {
    // One write: thousands of problems print in one go rather than one syscall each.
    process.stderr.write(`${file}: ${countProblems(problems.length)}:\n${problems.map((p) => formatProblemLine(p, file)).join("\n")}\n`);
    return 1;
}

async function discover(spec: unknown, log: (line: string) => void): Promise<Record<string, HostFacts>> {
    // Loaded lazily: --offline runs need no libvirt client at all.
    const { discoverHosts } = await import("../../components/host/discover");
    return discoverHosts(discoverableSpec(spec), { log });
}

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
        console.error(err instanceof Error ? err.stack : err);
        process.exitCode = 2;
    },
);
