/**
 * An example Pulumi program of your own that uses the kit as a library: it
 * discovers its host, finds (or builds) the guest image, and builds the pod
 * of pod.ts. Run it from this folder (see docs/library-use.md):
 *
 *   pulumi stack init lab && pulumi preview
 */
import * as pulumi from "@pulumi/pulumi";
import { discoverHosts, ensureGuestImage } from "../../../components";
import { createPod, labPodSpec } from "./pod";

export = async () => {
    const config = new pulumi.Config();
    const uri = config.get("uri") ?? "qemu:///system";
    const log = (line: string) => pulumi.log.info(line);
    // Discovery reads the host's topology from libvirt and picks KVM or TCG.
    const hostFacts = await discoverHosts(labPodSpec(uri), { log });
    const image = await ensureGuestImage({ log: (line) => log(`guest image: ${line}`) });
    const { outputs } = createPod({ image, hostFacts, uri });
    return outputs;
};
