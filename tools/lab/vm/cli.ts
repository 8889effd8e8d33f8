/**
 * `npm run lab -- up|down|status --kind vm`: the emulated lab VM host (docs/lab.md,
 * "The VM host"). Kept apart from the namespace lab so both can change alone.
 */
import * as path from "node:path";
import { VMLAB_STATE_DIR, vmDown, vmState, vmUp } from "./vm";

/** Where the lab-rt stack's config with keys goes: outside the repo, next to the VM's state. */
const LAB_RT_CONFIG = path.join(VMLAB_STATE_DIR, "Pulumi.lab-rt.yaml");

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
                    // The committed stack file holds no key (they are made with each image): a copy outside the repo gets them.
                    `  the lab-rt stack's config, with the key (secret) and the pinned host key:`,
                    `    cp stacks/Pulumi.lab-rt.yaml ${LAB_RT_CONFIG}`,
                    `    pulumi config --config-file ${LAB_RT_CONFIG} --stack lab-rt set --secret vmlabKey < ${vm.imageInfo.clientKey}`,
                    `    pulumi config --config-file ${LAB_RT_CONFIG} --stack lab-rt set --path 'nfv-testpod:pod.hosts[0].ssh.knownHosts' '${vm.imageInfo.hostKeyPub}'`,
                ].join("\n"),
            );
            return 0;
        }
        case "down":
            await vmDown();
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
