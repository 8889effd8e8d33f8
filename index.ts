/**
 * The kit's Pulumi program: one NFV test pod from the stack's `nfv-testpod:pod`
 * config, with its latency probes. Library users write their own program with
 * the same components (see docs/library-use.md).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { hostAccess, sshTargets, targetForHost } from "./components/host/access";
import { discoverHosts } from "./components/host/discover";
import { rememberedGuestImage } from "./components/image/rememberedGuestImage";
import { TestPod } from "./components/pod/TestPod";
import { skipPromiseStacks } from "./components/promiseStacks";
import { countProblems } from "./components/spec/problems";
import { recordSpan, timed } from "./components/timing";
import { configNamespace, discoverableSpec, formatProblemLine, readStackFile, stackConfigFromEngine, validateStack } from "./components/validate";

// Before the first resource: the SDK takes a stack trace for every promise it makes, to print only when a leak is debugged.
skipPromiseStacks();

// From the Node.js process's start to here: Node.js, tsx, the SDK and the kit's modules loading.
recordSpan("program: Node.js start, module load", "", Math.round(performance.timeOrigin));

export = async () => {
    // Every config key the engine holds (PULUMI_CONFIG), so a misspelt key is an error, not a silent default.
    const { config, secretKeys } = stackConfigFromEngine(process.env);
    const stackFile = path.join(process.cwd(), `Pulumi.${pulumi.getStack()}.yaml`);
    const lineOf = stackFileLines(stackFile);
    const spec = config[`${configNamespace}:pod`];
    // Hosts reached over SSH: their facts are read there, and the pod's resources there work through it.
    const ssh = sshTargets(spec, config, configNamespace);
    const accessFor = (host: { name: string; uri: string }) => {
        const target = targetForHost(host, ssh[host.name]);
        return target ? hostAccess(target) : undefined;
    };
    const hostFacts =
        spec === undefined
            ? {}
            : await timed("program: host facts (discovery)", "", () =>
                  discoverHosts(discoverableSpec(spec), { log: (line) => pulumi.log.info(line), access: accessFor }),
              );

    // Every setting is checked before anything is built or created, and every
    // problem is reported at once, without a stack trace: the same check as npm run validate.
    const checked = validateStack({ config, secretKeys, hostFacts, namePrefix: `${pulumi.getProject()}-${pulumi.getStack()}`, lineOf });
    const { plan, probes: probeConfig, targets, gate } = checked;
    if (checked.problems.length > 0 || !plan || !probeConfig || !targets || !gate) {
        const file = lineOf ? path.basename(stackFile) : undefined;
        const lines = checked.problems.map((p) => formatProblemLine(p, file)).join("\n");
        throw new pulumi.RunError(`the stack config has ${countProblems(checked.problems.length)}; nothing was created:\n${lines}`);
    }

    const image = await timed("program: guest image check", "", () => rememberedGuestImage({ log: (line) => pulumi.log.info(`guest image: ${line}`) }));
    const registering = Date.now();
    // The plan the validation made: TestPod walks it and checks nothing again.
    const pod = new TestPod("pod", {
        plan,
        hostFacts,
        image,
        bootTimeoutSec: checked.bootTimeoutSec,
        guestComponents: checked.guestComponents,
        allowHostReboot: checked.allowHostReboot,
        // The private key stays a secret in the state: the engine encrypts it there.
        hostAccess: Object.fromEntries(
            Object.entries(ssh).map(([host, target]) => [host, pulumi.output({ ...target, privateKey: pulumi.secret(target.privateKey) })]),
        ),
        probes: probeConfig.enabled ? { config: probeConfig, targets, gate, resultsDir: path.join("results", pulumi.getStack()) } : undefined,
    });
    recordSpan("program: plan and register the pod", "", registering);
    return {
        accel: pod.accel,
        hostNotes: pod.hostNotes,
        hostKernelArgs: pod.hostKernelArgs,
        hostReadiness: pod.hostReadiness,
        managedHosts: pod.managedHosts,
        placement: pod.placementTable,
        guests: pod.guestSummaries,
        // Only with probes on: an undefined output makes the engine warn on every up.
        ...(pod.probes && {
            probes: {
                gate,
                pass: pod.probes.pass,
                failures: pod.probes.failures,
                checks: pod.probes.checks,
                reports: pod.probes.files,
                seconds: pod.probes.suiteSeconds,
            },
        }),
        image: { kernel: image.kernel, initrd: image.initrd, hash: image.hash, kernelVersion: image.kernelVersion },
    };
};

/** Lines of the stack file, for problem messages; none when it cannot be read (config from elsewhere is still checked). */
function stackFileLines(file: string): ((path: string) => number | undefined) | undefined {
    try {
        const source = readStackFile(readFileSync(file));
        return source.problems.length === 0 ? source.lineOf : undefined;
    } catch {
        return undefined;
    }
}
