/**
 * The kit's Pulumi program: one NFV test pod from the stack's `nfv-testpod:pod`
 * config. Library users write their own program with the same components
 * (see docs/library-use.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { ensureGuestImage } from "./guest-images/build";
import { discoverHosts } from "./components/host/discover";
import { TestPod } from "./components/pod/TestPod";

export = async () => {
    const config = new pulumi.Config();
    const spec = config.requireObject<unknown>("pod");
    const hostFacts = await discoverHosts(spec, { log: (line) => pulumi.log.info(line) });
    const image = await ensureGuestImage({ log: (line) => pulumi.log.info(`guest image: ${line}`) });
    const pod = new TestPod("pod", {
        spec,
        hostFacts,
        image,
        bootTimeoutSec: config.getNumber("bootTimeoutSec"),
    });
    return {
        accel: pod.accel,
        hostNotes: pod.hostNotes,
        placement: pod.placementTable,
        guests: pod.guestSummaries,
        image: { kernel: image.kernel, initrd: image.initrd, hash: image.hash, kernelVersion: image.kernelVersion },
    };
};
