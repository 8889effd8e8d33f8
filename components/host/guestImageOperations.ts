/**
 * The guest image on a host: the kernel and initramfs every guest there boots,
 * at the same path as on the machine running pulumi (the image cache, named by
 * the image's content hash). Copied once per host and image, and skipped when
 * the host already has the same bytes. The image stays in the host's cache on
 * destroy: it is shared by every stack that boots the same image there. The
 * Operations of the nfvkit provider's GuestImage.
 */
import type * as provider from "@pulumi/pulumi/provider";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import * as path from "node:path";
import type { OperationContext } from "../types/operations";
import { accessOf, type HostAccess, type HostTarget } from "./access";
import { HostFileError } from "./access/errors";

export interface GuestImageInputs {
    /** Host name in the pod spec, for messages. */
    host: string;
    /** The image's content hash (its cache folder's name). */
    hash: string;
    /** Absolute paths, the same on this machine and on the host. */
    files: string[];
    /** How the host is reached. @default this machine */
    access?: HostTarget;
}

export interface GuestImageOutputs extends GuestImageInputs {
    /** What create did: "copied" or "already there". */
    copied: string;
}

/**
 * The host's name in the pod spec names the image in messages only: the host itself is the one `access` reaches, and
 * it has the image already. A new name alone is stored by the provider (an update that touches nothing), never a copy.
 */
export const storedOnly = ["host"] as const;

/** New bytes or paths are a new image: copied to the host (a replacement; the old one stays in the host's cache). */
export async function diff(_id: string, olds: GuestImageInputs, news: GuestImageInputs): Promise<provider.DiffResult> {
    const replaces = olds.hash !== news.hash || JSON.stringify(olds.files) !== JSON.stringify(news.files) ? ["hash"] : [];
    return { changes: replaces.length > 0, replaces };
}

export async function create(inputs: GuestImageInputs, ctx?: OperationContext): Promise<provider.CreateResult> {
    const host = accessOf(inputs.access);
    ctx?.progress?.step(`comparing the image's files on host ${inputs.host} with this machine's (sha256)`);
    // Every file's two sums at once: on a local host both read the same bytes, and neither waits for the other.
    const sums = await Promise.all(inputs.files.map((file) => Promise.all([localSha256(file), remoteSha256(host, file)])));
    let copied = false;
    for (const [i, file] of inputs.files.entries()) {
        const [want, there] = sums[i];
        if (there === want) continue;
        await host.mkdir(path.dirname(file));
        ctx?.progress?.step(`copying ${file} to host ${inputs.host}`);
        // Through a temporary name, so a copy cut short is never taken for the image. The name is this run's own:
        // two stacks copying the same new image to one host at once must not write into one file.
        const part = `${file}.part-${process.pid}-${randomBytes(4).toString("hex")}`;
        try {
            await host.copyTo(file, part);
            if ((await remoteSha256(host, part)) !== want) {
                throw new HostFileError(inputs.host, file, "copy", false, "the copy has different bytes; check the host's disk space and run again");
            }
            await host.run(["mv", "-f", part, file]);
        } catch (err) {
            await host.remove(part).catch(() => undefined);
            throw err;
        }
        copied = true;
    }
    return { id: `${inputs.host}/${inputs.hash}`, outs: { ...inputs, copied: copied ? "copied" : "already there" } };
}

/** Present while every file is on the host with its bytes; otherwise the next `up` copies it again. */
export async function read(id: string, props: GuestImageOutputs): Promise<provider.ReadResult> {
    const host = accessOf(props.access);
    const same = await Promise.all(
        props.files.map(async (file) => {
            const [there, here] = await Promise.all([remoteSha256(host, file), localSha256(file).catch(() => undefined)]);
            return there === here;
        }),
    );
    return same.every(Boolean) ? { id, props } : { id: "", props: {} };
}

export async function deleteImage(): Promise<void> {
    // Kept in the host's content-addressed cache: other stacks on the host may boot the same image.
}
export { deleteImage as delete };

async function localSha256(file: string): Promise<string> {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    return hash.digest("hex");
}

async function remoteSha256(host: HostAccess, file: string): Promise<string | undefined> {
    if (!(await host.exists(file))) return undefined;
    return (await host.run(["sha256sum", "--", file])).stdout.split(/\s/)[0];
}
