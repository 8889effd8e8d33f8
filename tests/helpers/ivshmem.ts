/**
 * What a person does to prove two guests share memory: find the ivshmem PCI
 * device (vendor 1af4, device 1110) in each, write a fresh value into the
 * shared region (BAR 2) from one, read it from the other.
 */
import type { ExecutionContext } from "ava";
import { randomBytes } from "node:crypto";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";

export interface GuestRef {
    uri: string;
    domain: string;
}

/** The sysfs directory of the guest's ivshmem-plain device. */
export const FIND_IVSHMEM = `for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = 0x1af4 ] && [ "$(cat $d/device)" = 0x1110 ]; then echo $d; fi
done`;

/** Prints the guest-physical address of the shared region (BAR 2), enabling the device first. */
const BAR2_ADDRESS = `d=$(${FIND_IVSHMEM} | head -1); echo 1 > $d/enable 2>/dev/null; sed -n 3p $d/resource | cut -d' ' -f1`;

/** Asserts both guests see the device and that a value written by `writer` is read by `reader`. */
export async function assertSharedMemory(t: ExecutionContext, writer: GuestRef, reader: GuestRef): Promise<void> {
    for (const g of [writer, reader]) {
        const found = await guestShell(hostAccess(), g.domain, FIND_IVSHMEM);
        t.regex(found.stdout, /\/sys\/bus\/pci\/devices\/\S+/, `${g.domain} sees a 1af4:1110 PCI device`);
    }
    const token = `0x${randomBytes(4).toString("hex").toUpperCase()}`;
    const addrW = (await guestShell(hostAccess(), writer.domain, BAR2_ADDRESS)).stdout.trim();
    const addrR = (await guestShell(hostAccess(), reader.domain, BAR2_ADDRESS)).stdout.trim();
    t.regex(addrW, /^0x[0-9a-f]+$/);
    const write = await guestShell(hostAccess(), writer.domain, `devmem ${addrW} 32 ${token}`);
    t.is(write.exitCode, 0, write.stderr);
    const read = await guestShell(hostAccess(), reader.domain, `devmem ${addrR} 32`);
    t.is(read.stdout.trim().toUpperCase().replace(/^0X/, "0x"), token, `${reader.domain} reads what ${writer.domain} wrote into the shared region`);
}
