/**
 * `npm run validate -- <stack file or spec file> [--offline] [--prefix <name>]`
 *
 * Checks a pod spec the way `pulumi up` would, without creating anything:
 * prints every problem with its line in the file and exits 1, or prints the
 * placement table and exits 0. A Pulumi stack file holds the spec under
 * `config: nfv-testpod:pod`; any other YAML file is taken as a bare spec.
 * Hosts without a declared topology are asked for it over libvirt unless
 * --offline is given.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { load, YAMLException } from "js-yaml";
import { formatPlacementTable } from "../../components/plan/placement";
import { formatProblem, PodSpecError } from "../../components/spec/problems";
import { ProbeSuiteConfigError, resolveGate, resolveProbeSuiteConfig } from "../../components/probes/suiteConfig";
import { resolveTargets, TargetsError } from "../../components/probes/targets";
import { resolvePod } from "../../components/spec/resolve";
import type { HostTopology } from "../../components/spec/types";

const CONFIG_KEY = "nfv-testpod:pod";

/** A YAML node with where it starts and ends in the text, from js-yaml's parse events. */
interface YamlNode {
    start: number;
    end: number;
    result: unknown;
    children: YamlNode[];
}

/** Parses `text` and records the position of every node (js-yaml's listener reports nested open/close events). */
function parseWithPositions(text: string, filename: string): { doc: unknown; root?: YamlNode } {
    const stack: YamlNode[] = [{ start: 0, end: text.length, result: undefined, children: [] }];
    const listener = (event: string, state: { position: number; result: unknown }) => {
        if (event === "open") stack.push({ start: state.position, end: state.position, result: undefined, children: [] });
        else if (event === "close" && stack.length > 1) {
            const node = stack.pop()!;
            node.end = state.position;
            node.result = state.result;
            stack[stack.length - 1].children.push(node);
        }
    };
    const doc = load(text, { filename, listener } as Parameters<typeof load>[1]);
    return { doc, root: stack[0].children[0] };
}

/** Skips wrapper nodes js-yaml opens around a flow collection. */
function unwrap(node: YamlNode): YamlNode {
    while (node.children.length === 1 && node.children[0].result === node.result) node = node.children[0];
    return node;
}

/** Line (1-based) of the field a problem path names, or of the deepest part of it that exists. */
function lineOf(text: string, root: YamlNode | undefined, segments: (string | number)[]): number | undefined {
    if (!root) return undefined;
    const lineAt = (pos: number) => {
        while (pos < text.length && /\s|-/.test(text[pos])) pos++;
        return text.slice(0, pos).split("\n").length;
    };
    let node = unwrap(root);
    let line: number | undefined;
    for (const segment of segments) {
        if (Array.isArray(node.result) && typeof segment === "number") {
            const item = node.children[segment];
            if (!item) break;
            node = unwrap(item);
            line = lineAt(node.start);
        } else if (node.result && typeof node.result === "object" && typeof segment === "string") {
            let found: YamlNode | undefined;
            for (let i = 0; i + 1 < node.children.length; i += 2) {
                if (node.children[i].result === segment) {
                    line = lineAt(node.children[i].start);
                    found = node.children[i + 1];
                    break;
                }
            }
            if (!found) break;
            node = unwrap(found);
        } else break;
    }
    return line;
}

function pathSegments(problemPath: string): (string | number)[] {
    return [...problemPath.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

async function discover(spec: unknown, log: (line: string) => void): Promise<Record<string, HostTopology>> {
    // Loaded lazily: --offline runs need no libvirt client at all.
    const { discoverHosts } = await import("../../components/host/discover");
    const facts = await discoverHosts(spec, { log });
    const topologies: Record<string, HostTopology> = {};
    for (const [host, f] of Object.entries(facts)) if (f.topology) topologies[host] = f.topology;
    return topologies;
}

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
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (err) {
        console.error(`${file}: cannot read: ${(err as Error).message}`);
        return 2;
    }
    let parsed: { doc: unknown; root?: YamlNode };
    try {
        parsed = parseWithPositions(text, file);
    } catch (err) {
        if (err instanceof YAMLException) {
            const mark = err.mark;
            console.error(`${file}:${mark.line + 1}:${mark.column + 1}: malformed YAML: ${err.reason}`);
            if (mark.snippet) console.error(mark.snippet);
            return 1;
        }
        throw err;
    }

    const doc = parsed.doc as Record<string, unknown> | null;
    const isStack = !!doc && typeof doc === "object" && "config" in doc;
    let spec: unknown = doc;
    let yamlPath = "";
    let pathRoot: (string | number)[] = [];
    if (isStack) {
        const config = doc!.config as Record<string, unknown> | null;
        spec = config?.[CONFIG_KEY];
        yamlPath = CONFIG_KEY;
        pathRoot = ["config"];
        if (spec === undefined) {
            console.error(`${file}: has no ${CONFIG_KEY} under config. Fix: put the pod spec under config: ${CONFIG_KEY}: (see docs/pod-spec.md)`);
            return 1;
        }
    }
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
    const discovered = offline ? {} : await discover(spec, (line) => console.error(line));

    // A stack file also carries the probe settings: check them with the pod.
    const settingProblems = isStack ? probeSettingProblems(doc!.config as Record<string, unknown>) : [];
    for (const line of settingProblems) console.error(`${file}: ${line}`);

    try {
        const pod = resolvePod(spec, { namePrefix, discovered, yamlPath });
        if (settingProblems.length > 0) return 1;
        console.log(
            `${file}: valid (${pod.hosts.length} host${pod.hosts.length === 1 ? "" : "s"}, ${pod.guests.length} guest${pod.guests.length === 1 ? "" : "s"}, ${pod.links.length} link${pod.links.length === 1 ? "" : "s"})\n`,
        );
        console.log(formatPlacementTable(pod.placement));
        console.log("");
        for (const guest of pod.guests) {
            console.log(
                `${guest.name}: domain ${guest.domainName}, ${guest.memoryMiB} MiB on node ${guest.numaNode} (${guest.pageSizeKiB === 4 ? "4K pages" : `${guest.pageSizeKiB} KiB hugepages`}), kernel args: ${guest.kernelArgs.join(" ") || "(none)"}`,
            );
        }
        return 0;
    } catch (err) {
        if (!(err instanceof PodSpecError)) throw err;
        console.error(`${file}: ${err.problems.length} problem${err.problems.length === 1 ? "" : "s"}:`);
        // In file order, as an editor shows them; problems without a line keep their place at the end.
        const located = err.problems.map((problem) => ({ problem, line: lineOf(text, parsed.root, [...pathRoot, ...pathSegments(problem.path)]) }));
        located.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
        for (const { problem, line } of located) console.error(`${file}${line ? `:${line}` : ""}: ${formatProblem(problem)}`);
        return 1;
    }
}

/** Problems in nfv-testpod:probes, :targets and :gate, one line each. */
function probeSettingProblems(config: Record<string, unknown>): string[] {
    const problems: string[] = [];
    const collect = (check: () => unknown) => {
        try {
            check();
        } catch (err) {
            if (err instanceof TargetsError) problems.push(...err.issues.map((i) => `${i.path}: ${i.message}`));
            else if (err instanceof ProbeSuiteConfigError) problems.push(...err.problems);
            else throw err;
        }
    };
    collect(() => resolveProbeSuiteConfig(config["nfv-testpod:probes"]));
    collect(() => resolveTargets(config["nfv-testpod:targets"] ?? {}, "nfv-testpod:targets"));
    collect(() => resolveGate(config["nfv-testpod:gate"]));
    return problems;
}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
        console.error(err instanceof Error ? err.stack : err);
        process.exit(2);
    },
);
