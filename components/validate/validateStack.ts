/**
 * One validation for a whole stack: every `nfv-testpod:*` config key (the pod,
 * the probe settings, the targets, the gate, the boot timeout and the SSH key
 * keys the pod's hosts name) checked against the host facts, every problem in
 * one shape. `npm run validate` and the Pulumi program both call it, so they
 * agree on what is wrong. Pure: config, secrets' key names and host facts in;
 * problems and resolved settings out.
 */
import { pfFactProblems } from "./pfFacts";
import type { HostFacts } from "../host/facts";
import { tryPlanPod, type PodPlan } from "../plan/podPlan";
import { probePodView, probePodViewFromSpec } from "../probes/kinds/podView";
import { checkGate, checkProbeSuiteConfig, type ProbeSuiteConfig } from "../probes/suiteConfig";
import { checkTargets, type Targets } from "../probes/targets";
import type { Gate } from "../probes/verdict";
import { checkLibvirtUri } from "../spec/access";
import { migrationDestinations, remoteHostsWithoutAccess, sshKeyNames, sshKeyProblems } from "./hostAccess";
import type { DomainKnobs } from "../spec/knobs";
import { closestMatch } from "../spec/names";
import type { PodNames } from "../spec/checked";
import { joinPath, ProblemListError, type SpecProblem } from "../spec/problems";
import { checkPod } from "../spec/check";
import type { HostTopology } from "../spec/types";
import { controlCharacters, maxDepth, maxValues } from "./limits";
import { configNamespace } from "./stackFile";
import { typed } from "./engineConfig";

export interface StackInput {
    /** The stack's config by fully qualified key ("nfv-testpod:pod"), values as loaded (mappings as objects). Keys of other namespaces are ignored. */
    config: Record<string, unknown>;
    /** Fully qualified keys whose values are secret: their values are never shown in a problem. */
    secretKeys?: readonly string[];
    /** What the kit learned about each host by name (topology, memory locking). @default {}: declared topologies only. */
    hostFacts?: Record<string, HostFacts>;
    /** Prefix of derived libvirt names, e.g. "nfv-testpod-lab". */
    namePrefix: string;
    /**
     * "stack": a stack's config (every key checked, SSH keys must be set and secret);
     * "spec": a bare pod spec under "nfv-testpod:pod", whose paths start at the spec's root.
     * @default "stack"
     */
    kind?: "stack" | "spec";
    /** Line of a problem path in the file the config came from, when known. */
    lineOf?: (path: string) => number | undefined;
    /** Where the pod spec sits, as problem paths name it (e.g. "labPodSpec()" for a spec built in code). @default "nfv-testpod:pod" for a stack, "" for a spec */
    podPath?: string;
    /** Problems found while reaching the hosts (unreachable, a secret that could not be read), listed with the rest in file order. @default [] */
    hostProblems?: readonly SpecProblem[];
}

export interface StackCheck {
    /** Every problem, in file order when lines are known. Empty when the stack can be created. */
    problems: SpecProblem[];
    /** The rest is set only when there is no problem. The pod's plan: placement, hugepages, names, kernel arguments. */
    plan?: PodPlan;
    probes?: ProbeSuiteConfig;
    targets?: Targets;
    gate?: Gate;
    bootTimeoutSec?: number;
    /** Whether the kit may reboot managed hosts (`nfv-testpod:allowHostReboot`). @default false */
    allowHostReboot?: boolean;
    /** `nfv-testpod:guestComponents`: wrap each guest and link in its own component (TestPodArgs.guestComponents). */
    guestComponents?: boolean;
}

const key = (name: string) => `${configNamespace}:${name}`;
const podKey = key("pod");
/** The kit's own config keys; a host's ssh.privateKeySecret names further ones. */
const settingKeys = ["pod", "probes", "targets", "gate", "bootTimeoutSec", "guestComponents", "allowHostReboot"];
const maxBootTimeoutSec = 86_400;

export function validateStack(input: StackInput): StackCheck {
    const kind = input.kind ?? "stack";
    const secret = new Set(input.secretKeys ?? []);
    const kit = Object.keys(input.config).filter((k) => k.startsWith(`${configNamespace}:`));
    const podPath = input.podPath ?? (kind === "stack" ? podKey : "");
    const pathOf = (k: string) => (k === podKey ? podPath : k);

    // Limits first: nothing else walks a value that is too big or too deep.
    const limitProblems: SpecProblem[] = [];
    const budget = { left: maxValues };
    for (const k of kit) {
        if (secret.has(k)) continue;
        checkValueLimits(input.config[k], pathOf(k), 0, budget, limitProblems);
        if (budget.left < 0) break;
    }
    if (limitProblems.some((p) => p.reason.startsWith("expands") || p.reason.startsWith("nests"))) return finish(limitProblems, input.lineOf);

    const problems: SpecProblem[] = [...(input.hostProblems ?? [])];
    const spec = input.config[podKey];
    const sshKeys = kind === "stack" ? sshKeyNames(spec).map((k) => k.key) : [];
    if (kind === "stack") problems.push(...unknownKeyProblems(kit, sshKeys, input.config, secret));
    if (spec === undefined) {
        problems.push({
            path: podKey,
            value: undefined,
            reason: "is required",
            fix: `put the pod spec under config: ${podKey}: (see docs/pod-spec.md)`,
        });
    }
    const podCheck: PodCheck = spec === undefined ? { problems: [] } : planPodSafely(spec, input.namePrefix, podPath, input.hostFacts);
    problems.push(...podCheck.problems);
    problems.push(...remoteHostsWithoutAccess(spec, podPath, migrationDestinations(input.config[key("probes")])));
    problems.push(...pfFactProblems(spec, input.hostFacts, podPath));
    if (kind === "stack") problems.push(...sshKeyProblems(spec, input.config, secret, podPath));

    // The probe settings, shape and cross-references to the pod in one pass: against the plan when the pod
    // planned, else against the names the spec gives, so a pod problem never hides a probe setting's.
    const podView = podCheck.plan ? probePodView(podCheck.plan) : spec === undefined ? undefined : probePodViewFromSpec(spec);
    const probes = checkProbeSuiteConfig(input.config[key("probes")], key("probes"), podView);
    const targets = checkTargets(input.config[key("targets")], key("targets"));
    const gate = checkGate(input.config[key("gate")], key("gate"));
    problems.push(...probes.problems, ...targets.problems, ...gate.problems);
    if (
        probes.config?.enabled &&
        probes.config.probes.length === 0 &&
        probes.config.interVm.length === 0 &&
        probes.config.migration.length === 0 &&
        gate.gate === "enforce"
    ) {
        problems.push({
            path: `${key("probes")}.probes`,
            value: [],
            reason: "lists no probe while the gate enforces: a gate with nothing to measure can never fail",
            fix: `list probes, e.g. [cyclictest, timerlat], or set ${key("gate")}: report, or probes.enabled: false`,
        });
    }
    const boot = input.config[key("bootTimeoutSec")];
    let bootTimeoutSec: number | undefined;
    if (boot !== undefined && boot !== null) {
        const seconds = asProgramReadsIt(boot);
        if (typeof seconds === "number" && Number.isInteger(seconds) && seconds >= 1 && seconds <= maxBootTimeoutSec) bootTimeoutSec = seconds;
        else
            problems.push({
                path: key("bootTimeoutSec"),
                value: boot,
                reason: `must be a whole number of seconds from 1 to ${maxBootTimeoutSec}`,
                fix: "write e.g. 300",
            });
    }

    const reboot = asProgramReadsIt(input.config[key("allowHostReboot")]);
    if (reboot !== undefined && reboot !== null && typeof reboot !== "boolean") {
        problems.push({
            path: key("allowHostReboot"),
            value: input.config[key("allowHostReboot")],
            reason: "must be true or false",
            fix: "write true to let the kit reboot managed hosts when their kernel or boot args change, or false (the default)",
        });
    }
    const wrap = asProgramReadsIt(input.config[key("guestComponents")]);
    if (wrap !== undefined && wrap !== null && typeof wrap !== "boolean") {
        problems.push({
            path: key("guestComponents"),
            value: input.config[key("guestComponents")],
            reason: "must be true or false",
            fix: "write false to register each guest's domain and each link's shm file directly under the pod (half the registrations, for pods of hundreds of guests), or true (the default)",
        });
    }
    const guestComponents = typeof wrap === "boolean" ? wrap : undefined;

    // A value with a control character gets that one problem, not also "is not a safe name" about the same value.
    const limited = new Set(limitProblems.map((p) => p.path));
    const all = [...limitProblems, ...problems.filter((p) => !limited.has(p.path))];
    if (all.length > 0) return finish(all, input.lineOf);
    return {
        problems: [],
        plan: podCheck.plan,
        probes: probes.config,
        targets: targets.targets,
        gate: gate.gate,
        bootTimeoutSec,
        guestComponents,
        allowHostReboot: reboot === true,
    };
}

/**
 * A top-level setting as the program reads it: `pulumi config set <key> <value>` writes top-level values as
 * strings ("true", "300"), and rewrites the file's other ones that way whenever it saves it (`npm run lab -- up`
 * saves the lab stacks' files with it); the program gets every value as a string from the engine and types it
 * (engineConfig.ts). The file is read the same way, so both agree; a problem still shows the value as written.
 */
function asProgramReadsIt(value: unknown): unknown {
    return typeof value === "string" ? typed(value) : value;
}

/** The pod's plan when it has no problem, its problems, and every named entry for the references of other settings. */
interface PodCheck {
    plan?: PodPlan;
    problems: SpecProblem[];
    names?: PodNames;
}

/**
 * The pod check (spec/), then placement and hugepage budgets (plan/), in one
 * list. It must never throw; if a bug makes it throw, the user still gets one
 * problem, not a stack trace.
 */
function planPodSafely(spec: unknown, namePrefix: string, podPath: string, hostFacts: StackInput["hostFacts"]): PodCheck {
    try {
        const checked = checkPod(spec, { namePrefix, yamlPath: podPath, ...hostFactOptions(hostFacts) });
        return { ...tryPlanPod(checked, hostFacts ?? {}, { namePrefix }), names: checked.names };
    } catch (err) {
        return {
            problems: [
                {
                    path: podPath,
                    value: undefined,
                    shown: "(not shown)",
                    reason: `could not be checked: ${(err as Error).message.split("\n")[0]}`,
                    fix: "this is a bug in the kit; report it with the stack file",
                },
            ],
        };
    }
}

/** What validatePodSpec needs besides the spec. */
export interface PodSpecInput {
    /** Prefix of derived libvirt names, e.g. stackNamePrefix(project, stack). */
    namePrefix: string;
    /** What the kit learned about each host (discoverHosts). @default {}: declared topologies, TCG */
    hostFacts?: Record<string, HostFacts>;
    /** Where the spec sits, as problem paths name it. @default "nfv-testpod:pod" */
    specPath?: string;
}

/**
 * A pod spec held in code to its plan, through the one validation of a stack
 * (validateStack, the spec alone, no probe settings): for library programs
 * that have a spec and no stack config. Throws one ProblemListError listing
 * every problem.
 */
export function validatePodSpec(spec: unknown, input: PodSpecInput): PodPlan {
    const checked = validateStack({
        config: { [podKey]: spec },
        kind: "spec",
        podPath: input.specPath ?? podKey,
        namePrefix: input.namePrefix,
        hostFacts: input.hostFacts,
    });
    if (checked.problems.length > 0 || !checked.plan) throw new ProblemListError(checked.problems);
    return checked.plan;
}

/** Attaches lines and puts problems in file order, as an editor shows them; problems without a line keep their order at the end. */
function finish(problems: SpecProblem[], lineOf: StackInput["lineOf"]): StackCheck {
    if (!lineOf) return { problems };
    const located = problems.map((p, i) => {
        const line = p.line ?? (p.path === "" ? undefined : lineOf(p.path));
        return { p: line === undefined ? p : { ...p, line }, i };
    });
    located.sort((a, b) => (a.p.line ?? Infinity) - (b.p.line ?? Infinity) || a.i - b.i);
    return { problems: located.map((x) => x.p) };
}

/** Counts values against the expansion budget, and refuses deep nesting and control characters in strings. */
function checkValueLimits(value: unknown, path: string, depth: number, budget: { left: number }, problems: SpecProblem[]): void {
    if (--budget.left < 0) {
        if (budget.left === -1) {
            problems.push({
                path,
                value: undefined,
                shown: `more than ${maxValues} values`,
                reason: `expands to more than ${maxValues} values: YAML aliases (*name) repeat data past what any pod needs`,
                fix: "write the values out, or use fewer aliases",
            });
        }
        return;
    }
    if (typeof value === "string") {
        const control = controlCharacters.exec(value);
        if (control) {
            const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
            problems.push({ path, value, reason: `holds the control character U+${code}`, fix: "remove it; names, sizes and URIs are plain text" });
        }
        return;
    }
    if (value === null || typeof value !== "object") return;
    if (depth >= maxDepth) {
        problems.push({
            path,
            value: undefined,
            shown: "deeper nesting",
            reason: `nests lists or mappings deeper than ${maxDepth} levels`,
            fix: "write the pod spec as docs/pod-spec.md shows; it needs 6 levels",
        });
        budget.left = -2;
        return;
    }
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length && budget.left >= 0; i++) checkValueLimits(value[i], joinPath(path, i), depth + 1, budget, problems);
    } else {
        for (const k of Object.keys(value)) {
            if (budget.left < 0) break;
            checkValueLimits((value as Record<string, unknown>)[k], joinPath(path, k), depth + 1, budget, problems);
        }
    }
}

/** Config keys nobody reads are typos until proven otherwise: `nfv-testpod:gates` would silently leave the gate at its default. */
function unknownKeyProblems(kit: string[], sshKeys: string[], config: Record<string, unknown>, secret: Set<string>): SpecProblem[] {
    const known = [...settingKeys, ...sshKeys];
    const problems: SpecProblem[] = [];
    for (const k of kit) {
        const name = k.slice(configNamespace.length + 1);
        if (known.includes(name)) continue;
        const guess = closestMatch(name, known);
        problems.push({
            path: k,
            value: secret.has(k) ? undefined : config[k],
            ...(secret.has(k) ? { shown: "[secret]" } : {}),
            reason: "is not a setting of the kit",
            fix: guess ? `did you mean "${key(guess)}"?` : `remove it; the kit reads ${known.map(key).join(", ")}`,
        });
    }
    return problems;
}

/** Topologies the kit read, and knobs a host cannot honour turned off by default there (a guest's own `knobs:` still wins). */
export function hostFactOptions(hostFacts: Record<string, HostFacts> = {}): {
    discovered: Record<string, HostTopology>;
    knobDefaults: Record<string, Partial<DomainKnobs>>;
} {
    const discovered: Record<string, HostTopology> = {};
    const knobDefaults: Record<string, Partial<DomainKnobs>> = {};
    for (const [host, facts] of Object.entries(hostFacts)) {
        if (facts.topology) discovered[host] = facts.topology;
        // libvirt also applies memtune hard_limit as the memlock limit, so both go.
        if (facts.memoryLocking?.supported === false) knobDefaults[host] = { locked: false, memtuneHardLimit: false };
    }
    return { discovered, knobDefaults };
}

/**
 * The spec with only the hosts the kit may ask over libvirt: a URI outside the
 * allow-list is never handed to virsh, not even to discover a topology.
 */
export function discoverableSpec(spec: unknown): unknown {
    const hosts = (spec as { hosts?: unknown } | null | undefined)?.hosts;
    if (!Array.isArray(hosts)) return spec;
    return {
        ...(spec as object),
        hosts: hosts.filter((h) => {
            const uri = (h as { uri?: unknown } | null)?.uri ?? "qemu:///system";
            return typeof uri === "string" && checkLibvirtUri(uri).ok;
        }),
    };
}
