/**
 * Reserves hugepages on one NUMA node of a host for the pod's guests and hands
 * them back on destroy. Reservations add to what the host already has, so
 * pods and other users of hugepages can share a host. Loaded by providerShell;
 * no module-level state.
 */
import type * as pulumi from "@pulumi/pulumi";
import { promises as fs } from "node:fs";
import { isLocalUri } from "../libvirt/virsh";

export interface HugepageReservationInputs {
    /** libvirt URI of the host. */
    uri: string;
    /** Host name in the pod spec, for messages. */
    host: string;
    /** NUMA node. */
    node: number;
    /** Page size in KiB (2048 or 1048576). */
    sizeKiB: number;
    /** Pages to add to the node's pool. */
    count: number;
}

export interface HugepageReservationOutputs extends HugepageReservationInputs {
    /** Pool size on the node after the reservation. */
    poolAfter: number;
}

function poolDir(node: number, sizeKiB: number): string {
    return `/sys/devices/system/node/node${node}/hugepages/hugepages-${sizeKiB}kB`;
}

async function readCount(file: string): Promise<number> {
    return Number((await fs.readFile(file, "utf8")).trim());
}

export async function check(_olds: unknown, news: HugepageReservationInputs): Promise<pulumi.dynamic.CheckResult> {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!isLocalUri(news.uri)) {
        failures.push({
            property: "uri",
            reason: `reserving hugepages on ${news.uri} needs host access the kit only has for local URIs so far; reserve them at boot (hugepages= on the host kernel cmdline)`,
        });
    }
    if (!Number.isInteger(news.count) || news.count < 0) failures.push({ property: "count", reason: `must be a whole number ≥ 0, got ${news.count}` });
    return { inputs: news, failures };
}

export async function diff(_id: string, olds: HugepageReservationInputs, news: HugepageReservationInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = (["uri", "node", "sizeKiB"] as const).filter((k) => olds[k] !== news[k]);
    const changes = replaces.length > 0 || olds.count !== news.count;
    return { changes, replaces, deleteBeforeReplace: true };
}

/** Grows or shrinks the node's pool by `delta` pages and checks the kernel delivered. */
async function adjust(r: HugepageReservationInputs, delta: number): Promise<number> {
    const dir = poolDir(r.node, r.sizeKiB);
    const nrFile = `${dir}/nr_hugepages`;
    const before = await readCount(nrFile).catch(() => {
        throw new Error(`host ${r.host} has no ${r.sizeKiB} KiB hugepage pool on NUMA node ${r.node} (${dir} is missing)`);
    });
    const wanted = Math.max(0, before + delta);
    await fs.writeFile(nrFile, String(wanted));
    const after = await readCount(nrFile);
    if (after !== wanted) {
        await fs.writeFile(nrFile, String(before));
        throw new Error(
            `host ${r.host} NUMA node ${r.node}: asked the kernel for ${wanted} pages of ${r.sizeKiB} KiB, got ${after} ` +
                `(memory is short or fragmented). Free memory, or reserve at boot with hugepages= on the host kernel cmdline.`,
        );
    }
    return after;
}

export async function create(inputs: HugepageReservationInputs): Promise<pulumi.dynamic.CreateResult<HugepageReservationOutputs>> {
    const poolAfter = await adjust(inputs, inputs.count);
    return { id: `${inputs.host}/node${inputs.node}/${inputs.sizeKiB}kB`, outs: { ...inputs, poolAfter } };
}

export async function update(
    _id: string,
    olds: HugepageReservationInputs,
    news: HugepageReservationInputs,
): Promise<pulumi.dynamic.UpdateResult<HugepageReservationOutputs>> {
    const poolAfter = await adjust(news, news.count - olds.count);
    return { outs: { ...news, poolAfter } };
}

export async function deleteReservation(_id: string, props: HugepageReservationInputs): Promise<void> {
    await adjust(props, -props.count);
}
export { deleteReservation as delete };
