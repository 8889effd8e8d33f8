/**
 * `npm run lab -- up|down|status --kind vm`: the emulated lab VM host (docs/lab.md,
 * "The VM host"). Kept apart from the namespace lab so both can change alone.
 */
import { vmDown, vmState, vmUp } from "./vm";

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
