/**
 * The kit's Pulumi program: one NFV test pod from the stack's `nfv-testpod:pod`
 * config. Library users write their own program with the same components
 * (see docs/library-use.md).
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ensureGuestImage } from "./guest-images/build";
import { discoverHosts } from "./components/host/discover";
import { TestPod } from "./components/pod/TestPod";
import { resolveGate, resolveProbeSuiteConfig } from "./components/probes/suiteConfig";
import { resolveTargets } from "./components/probes/targets";

export = async () => {
    const config = new pulumi.Config();
    const spec = config.requireObject<unknown>("pod");
    // Probe settings are checked before anything else runs, like the pod spec.
    const probeConfig = resolveProbeSuiteConfig(config.getObject("probes"));
    const targets = resolveTargets(config.getObject("targets") ?? {}, "nfv-testpod:targets");
    const gate = resolveGate(config.get("gate"));
    const hostFacts = await discoverHosts(spec, { log: (line) => pulumi.log.info(line) });
    const image = await ensureGuestImage({ log: (line) => pulumi.log.info(`guest image: ${line}`) });
    const pod = new TestPod("pod", {
        spec,
        hostFacts,
        image,
        bootTimeoutSec: config.getNumber("bootTimeoutSec"),
        probes: probeConfig.enabled
            ? { config: probeConfig, targets, gate, resultsDir: path.join(__dirname, "results", pulumi.getStack()) }
            : undefined,
    });
    return {
        accel: pod.accel,
        hostNotes: pod.hostNotes,
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
