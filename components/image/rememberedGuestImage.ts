/**
 * The guest image without planning it again when nothing it is planned from
 * has changed. Planning (guest-images/build.ts) asks dpkg, apt and ldd, which
 * takes seconds on a loaded host, on every `up`, `preview` and no-change
 * `up`. Its result depends only on the recipe, the builder's sources and the
 * host's packages, so it is remembered under a cheap digest of exactly those:
 * the builder's files by content, dpkg's status file (it changes on every
 * install, removal and upgrade), apt's package lists and preferences (a new
 * candidate kernel), PATH (where tools are found) and SOURCE_DATE_EPOCH.
 * This lives outside guest-images/ because every file there is an input of
 * the image's hash.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultCacheDir, ensureGuestImage, type EnsureGuestImageOptions } from "../../guest-images/build";
import type { GuestImage } from "../types/guestImage";

const BUILDER_DIR = path.resolve(__dirname, "../../guest-images");
/** What else planning reads from the host. */
const HOST_FILES = [
    "/var/lib/dpkg/status",
    "/var/lib/apt/lists",
    "/etc/apt/preferences",
    "/etc/apt/preferences.d",
    "/etc/apt/sources.list",
    "/etc/apt/sources.list.d",
];

function sha256(data: string | Buffer): string {
    return createHash("sha256").update(data).digest("hex");
}

function filesUnder(dir: string): string[] {
    return fs
        .readdirSync(dir, { withFileTypes: true })
        .flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : d.isFile() ? [path.join(dir, d.name)] : []))
        .sort();
}

/** A digest of everything planning reads; equal digests plan the same image. */
export function planFingerprint(opts: Pick<EnsureGuestImageOptions, "recipeFile"> = {}): string {
    const stat = (file: string) => {
        try {
            const s = fs.statSync(file);
            return `${s.size}:${s.mtimeMs}`;
        } catch {
            return "-";
        }
    };
    const builder = filesUnder(BUILDER_DIR).map((f) => [path.relative(BUILDER_DIR, f), sha256(fs.readFileSync(f))]);
    const recipe = opts.recipeFile ? sha256(fs.readFileSync(opts.recipeFile)) : "";
    return sha256(
        JSON.stringify({
            builder,
            recipe,
            host: HOST_FILES.map((f) => [f, stat(f)]),
            path: process.env.PATH ?? "",
            epoch: process.env.SOURCE_DATE_EPOCH ?? "0",
        }),
    ).slice(0, 32);
}

function memoFile(cacheDir: string, fingerprint: string): string {
    return path.join(cacheDir, ".plans", `${fingerprint}.json`);
}

/** The image ensureGuestImage would return, remembered when nothing changed since; otherwise ensureGuestImage itself. */
export async function rememberedGuestImage(opts: EnsureGuestImageOptions = {}): Promise<GuestImage> {
    const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
    const fingerprint = planFingerprint(opts);
    const file = memoFile(cacheDir, fingerprint);
    if (!opts.force) {
        try {
            const image = JSON.parse(fs.readFileSync(file, "utf8")) as GuestImage;
            // The cache folder must still hold it, complete (its manifest is written last).
            if ([image.kernel, image.initrd, path.join(path.dirname(image.kernel), "manifest.json")].every((f) => fs.existsSync(f))) {
                opts.log?.(`cached image ${image.hash} in ${path.dirname(image.kernel)} (recipe and host packages unchanged since it was planned)`);
                return image;
            }
        } catch {
            // not remembered yet
        }
    }
    const image = await ensureGuestImage(opts);
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // A name of this process's own: two runs remembering at once each rename a whole file.
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(image));
        fs.renameSync(tmp, file);
    } catch {
        // A cache folder we cannot write to only costs the next run a full plan.
    }
    return image;
}
