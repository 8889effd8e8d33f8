/**
 * `npm run lab -- up|down|status --kind vm`: the emulated lab VM host (docs/lab.md,
 * "The VM host"). Kept apart from the namespace lab so both can change alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../cli/engine";
import { writeStackConfig, type LabStackKeys } from "../stackConfig";
import type { VmImage } from "./image";
import { VMLAB_STATE_DIR, vmDown, vmState, vmUp } from "./vm";

/** The stack that manages the lab VM host, and its committed file (which holds no key). */
export const LAB_RT_STACK = "lab-rt";
/** Where the lab-rt stack's config with keys goes: outside the repo, next to the VM's state. */
export const LAB_RT_CONFIG = path.join(VMLAB_STATE_DIR, "Pulumi.lab-rt.yaml");

/** The lab-rt stack's keys: the image's client key as the secret vmlabKey, the VM's host key pinned for lab-rt-1. */
export function vmLabKeys(img: VmImage): LabStackKeys {
    return {
        stack: LAB_RT_STACK,
        stackFile: path.join(projectRoot, "stacks", "Pulumi.lab-rt.yaml"),
        keyConfig: "nfv-testpod:vmlabKey",
        clientKey: img.clientKey,
        hosts: [{ name: "lab-rt-1", knownHosts: img.hostKeyPub }],
        configFile: LAB_RT_CONFIG,
    };
}

export async function vmLab(command: string | undefined): Promise<number> {
    switch (command) {
        case "up": {
            const vm = await vmUp();
            console.log(
                [
                    `lab VM host ${vm.name}: QEMU pid ${vm.pid} (TCG, intel-iommu, igb PF), booted in ${vm.bootSeconds} s`,
                    `  image:   ${vm.imageInfo.disk} (built in ${vm.imageInfo.buildSeconds} s; kernels ${vm.imageInfo.stockKernel}, ${vm.imageInfo.rtKernel})`,
                    `  ssh:     ssh -i ${vm.imageInfo.clientKey} -p ${vm.sshPort} root@127.0.0.1   (host key ${vm.imageInfo.hostKeyPub.slice(0, 30)}...)`,
                    `  console: ${vm.console}`,
                ].join("\n"),
            );
            // The committed stack file holds no key (they are made with each image): a copy outside the repo gets them.
            await writeStackConfig(vmLabKeys(vm.imageInfo), (line) => console.log(line));
            return 0;
        }
        case "down":
            await vmDown();
            // The stack's config holds the lab key (a secret, and the VM it opens is gone): it goes with the VM.
            fs.rmSync(LAB_RT_CONFIG, { force: true });
            return 0;
        case "status": {
            const s = vmState();
            console.log(s ? `lab VM host ${s.name}: running, pid ${s.pid}, ssh 127.0.0.1:${s.sshPort}` : "lab VM host: not running");
            return s ? 0 : 1;
        }
        default:
            console.error("usage: npm run lab -- up|down|status --kind vm");
            return 2;
    }
}
