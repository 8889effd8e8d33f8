/**
 * The kit's Pulumi program: one NFV test pod from the stack's `nfv-testpod:pod`
 * config, with its latency probes. Library users write their own program with
 * the same components (see docs/library-use.md).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ensureGuestImage } from "./guest-images/build";
import { discoverHosts } from "./components/host/discover";
import { resolveTestPodSpec, TestPod } from "./components/pod/TestPod";
import { ProbeSuiteConfigError, resolveGate, resolveProbeSuiteConfig } from "./components/probes/suiteConfig";
import { resolveTargets, TargetsError } from "./components/probes/targets";
import { configKeyPattern } from "./components/spec/names";
import { PodSpecError } from "./components/spec/problems";

export = async () => {
    const config = new pulumi.Config();
    const spec = config.requireObject<unknown>("pod");

    // Every setting is checked before anything is built or created, and every
    // problem is reported at once, without a stack trace.
    const problems: string[] = [];
    const checked = <T>(read: () => T): T | undefined => {
        try {
            return read();
        } catch (err) {
            if (err instanceof PodSpecError || err instanceof TargetsError || err instanceof ProbeSuiteConfigError) {
                problems.push(err.message);
                return undefined;
            }
            throw err;
        }
    };
    const probeConfig = checked(() => resolveProbeSuiteConfig(config.getObject("probes")));
    const targets = checked(() => resolveTargets(config.getObject("targets") ?? {}, "nfv-testpod:targets"));
    const gate = checked(() => resolveGate(config.get("gate")));
    const hostFacts = await discoverHosts(spec, { log: (line) => pulumi.log.info(line) });
    checked(() => resolveTestPodSpec({ spec, hostFacts }));
    problems.push(...sshKeyProblems(config, spec));
    if (problems.length > 0 || !probeConfig || !targets || !gate) {
        throw new pulumi.RunError(`the stack config has problems; nothing was created:\n\n${problems.join("\n\n")}`);
    }

    const image = await ensureGuestImage({ log: (line) => pulumi.log.info(`guest image: ${line}`) });
    const pod = new TestPod("pod", {
        spec,
        hostFacts,
        image,
        bootTimeoutSec: config.getNumber("bootTimeoutSec"),
        probes: probeConfig.enabled ? { config: probeConfig, targets, gate, resultsDir: path.join("results", pulumi.getStack()) } : undefined,
    });
    return {
        accel: pod.accel,
        hostNotes: pod.hostNotes,
        hostKernelArgs: pod.hostKernelArgs,
        hostReadiness: pod.hostReadiness,
        placement: pod.placementTable,
        guests: pod.guestSummaries,
        probes: pod.probes && {
            gate,
            pass: pod.probes.pass,
            failures: pod.probes.failures,
            checks: pod.probes.checks,
            reports: pod.probes.files,
            seconds: pod.probes.suiteSeconds,
        },
        image: { kernel: image.kernel, initrd: image.initrd, hash: image.hash, kernelVersion: image.kernelVersion },
    };
};

/**
 * A host's SSH key must be a secret stack config value: set, and encrypted.
 * Read from the raw spec, so it is reported even when the spec has other
 * problems. (The engine tells the program which config keys are secret.)
 */
function sshKeyProblems(config: pulumi.Config, spec: unknown): string[] {
    const secretKeys: string[] = JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS || "[]");
    const hosts = (spec as { hosts?: unknown })?.hosts;
    const problems: string[] = [];
    (Array.isArray(hosts) ? hosts : []).forEach((host: { ssh?: { privateKeySecret?: unknown } }, i) => {
        const key = host?.ssh?.privateKeySecret;
        if (typeof key !== "string" || !configKeyPattern.test(key)) return; // the spec check reports it
        const at = `nfv-testpod:pod.hosts[${i}].ssh.privateKeySecret`;
        const fix = `Fix: pulumi config set --secret ${key} < ~/.ssh/id_ed25519`;
        if (config.get(key) === undefined) problems.push(`${at}: names nfv-testpod:${key}, which is not set. ${fix}`);
        else if (!secretKeys.includes(`nfv-testpod:${key}`)) problems.push(`${at}: nfv-testpod:${key} holds a private key in plain text. ${fix}`);
    });
    return problems;
}
