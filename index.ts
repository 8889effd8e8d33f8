/**
 * The kit's Pulumi program: one NFV test pod from the stack's `nfv-testpod:pod`
 * config, with its latency probes. Library users write their own program with
 * the same components (see docs/library-use.md).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { rememberedGuestImage } from "./components/image/rememberedGuestImage";
import { TestPod } from "./components/pod/TestPod";
import { skipPromiseStacks } from "./components/promiseStacks";
import { countProblems } from "./components/spec/problems";
import { recordSpan, timed } from "./components/timing";
import { loadStack } from "./components/stack";
import { tokens } from "./components/tokens";
import { formatProblemLine, stackConfigFromEngine } from "./components/validate";

// Before the first resource: the SDK takes a stack trace for every promise it makes, to print only when a leak is debugged.
skipPromiseStacks();

// From the Node.js process's start to here: Node.js, tsx, the SDK and the kit's modules loading.
recordSpan("program: Node.js start, module load", "", Math.round(performance.timeOrigin));

export = async () => {
    // The engine starts the provider plugin when the program first needs it, which would be the first resource,
    // after the hosts are read and the pod planned. A call of the plugin's one function now starts it beside that
    // work (about half a second of Node.js start each). Its failure is not this call's to report: the first
    // resource's registration meets the same plugin and says it with the engine's words.
    pulumi.runtime.invoke(tokens.providerVersion, {}).catch(() => undefined);
    // The one loader, as npm run validate and preview use it: every config key the engine holds (PULUMI_CONFIG,
    // so a misspelt key is an error, not a silent default), each host reached through its pinned access, the
    // host facts, the one validation and the plan. Nothing is built or created before every problem is known.
    const loaded = await timed("program: load the stack (config, host facts, validation)", "", () =>
        loadStack(pulumi.getStack(), {
            projectDir: process.cwd(),
            engineConfig: stackConfigFromEngine(process.env),
            log: (line) => pulumi.log.info(line),
        }),
    );
    const { plan, probes: probeConfig, targets, gate, hostFacts } = loaded;
    if (loaded.problems.length > 0 || !plan || !probeConfig || !targets || !gate) {
        const file = loaded.file ? path.basename(loaded.file) : undefined;
        const lines = loaded.problems.map((p) => formatProblemLine(p, file)).join("\n");
        throw new pulumi.RunError(`the stack config has ${countProblems(loaded.problems.length)}; nothing was created:\n${lines}`);
    }

    const image = await timed("program: guest image check", "", () => rememberedGuestImage({ log: (line) => pulumi.log.info(`guest image: ${line}`) }));
    const registering = Date.now();
    // The plan the validation made: TestPod walks it and checks nothing again.
    const pod = new TestPod("pod", {
        plan,
        hostFacts,
        image,
        bootTimeoutSec: loaded.bootTimeoutSec,
        guestComponents: loaded.guestComponents,
        allowHostReboot: loaded.allowHostReboot,
        // The private key stays a secret in the state: the engine encrypts it there. A host that logs in
        // with the user's ssh-agent (agent: true) has no key in the stack at all.
        hostAccess: Object.fromEntries(
            Object.entries(loaded.sshTargets).map(([host, target]) => [
                host,
                target.privateKey === undefined ? pulumi.output(target) : pulumi.output({ ...target, privateKey: pulumi.secret(target.privateKey) }),
            ]),
        ),
        probes: probeConfig.enabled ? { config: probeConfig, targets, gate, resultsDir: path.join("results", pulumi.getStack()) } : undefined,
    });
    recordSpan("program: plan and register the pod", "", registering);
    return {
        // Stamped with the URN on what the pod makes on its hosts (docs/ownership.md): a refusal names it.
        lineage: pod.lineage,
        accel: pod.accel,
        hostNotes: pod.hostNotes,
        hostKernelArgs: pod.hostKernelArgs,
        // One line per host; each check with what was expected and found is in the probe reports (results/<stack>/index.html, probes.json).
        hostReadiness: pod.hostReadinessSummary,
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
