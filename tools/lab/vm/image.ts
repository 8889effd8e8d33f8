/**
 * Builds (or finds in the cache) the emulated lab VM host's disk: Debian
 * bookworm from Debian packages only, booting through its own GRUB from its
 * own disk. No loop devices and no mounts on the build machine: the root
 * file system is made from a folder with `mkfs.ext4 -d` straight into the
 * partition's offset of a raw disk, and GRUB is installed by the VM itself on
 * a first boot (recipe.ts, FIRST_BOOT_SCRIPT).
 *
 * The disk is cached by the recipe's content hash in ~/.cache/nfvkit/vmlab,
 * with the SSH keys made with it (the lab's client key and the host's pinned
 * key); it is never committed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hostAccess, HostCommandError, type RunOptions } from "../../../components/host/access";
import { alive, processStart } from "../../../components/host/access/sshDir";
import { FIRST_BOOT_SCRIPT, VM_DISK_MIB, VM_GRUB_DEFAULTS, VM_MIRROR, VM_NETWORK, VM_PACKAGES, VM_PARTITION_OFFSET_MIB, VM_SUITE, recipeHash } from "./recipe";

export const VMLAB_CACHE = path.join(os.homedir(), ".cache", "nfvkit", "vmlab");

/** A built image and what reaches it. */
export interface VmImage {
    dir: string;
    /** qcow2, read-only base: each run uses an overlay on it. */
    disk: string;
    /** The lab's client key (ed25519, private) that root's authorized_keys holds. */
    clientKey: string;
    /** The VM's ed25519 host public key ("ssh-ed25519 AAAA..."), to pin. */
    hostKeyPub: string;
    /** Kernel versions on the disk. */
    stockKernel: string;
    rtKernel: string;
    /** Seconds the build took (from its record; 0 means found in the cache by an older builder). */
    buildSeconds: number;
    /** True when this call built it. */
    built: boolean;
}

function log(msg: string): void {
    process.stderr.write(`[nfvkit vmlab] ${msg}\n`);
}

/** The image in `dir` (a built one's folder), as the running VM's state names it. */
export function readImage(dir: string, built = false): VmImage {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "image.json"), "utf8"));
    return {
        dir,
        disk: path.join(dir, "disk.qcow2"),
        clientKey: path.join(dir, "id_ed25519"),
        hostKeyPub: fs.readFileSync(path.join(dir, "ssh_host_ed25519_key.pub"), "utf8").trim().split(" ").slice(0, 2).join(" "),
        stockKernel: meta.stockKernel,
        rtKernel: meta.rtKernel,
        buildSeconds: meta.buildSeconds,
        built,
    };
}

/** The process building an image in a work folder (`<image>.building-<pid>`), to tell a live build from one that failed. */
export const BUILDER_FILE = "builder.json";

/**
 * Another process's build of the same image still under way, by pid: its work folder names it, and the
 * builder's record there says it is that process and not a later one with its pid. A failed build's folder,
 * kept for a look, has no live builder.
 */
export function buildUnderWay(dir: string): number | undefined {
    const prefix = `${path.basename(dir)}.building-`;
    const parent = path.dirname(dir);
    for (const name of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
        if (!name.startsWith(prefix)) continue;
        try {
            const builder = JSON.parse(fs.readFileSync(path.join(parent, name, BUILDER_FILE), "utf8")) as { pid: number; start: number };
            if (builder.pid !== process.pid && alive(builder.pid, builder.start)) return builder.pid;
        } catch {
            // No record (yet, or an older builder's folder): not a build to wait for.
        }
    }
    return undefined;
}

/**
 * The cached image for the current recipe, building it first when there is none. When another process is
 * building it (CI starts the build in the background and the lab VM test asks for the image while it runs, or
 * two terminals run `npm run lab -- up --kind vm`), this waits for that build instead of starting a second one.
 */
export async function vmImage(): Promise<VmImage> {
    const hash = recipeHash();
    const dir = path.join(VMLAB_CACHE, `image-${hash}`);
    const built = () => fs.existsSync(path.join(dir, "image.json"));
    const waitStarted = Date.now();
    let saidAt: number | undefined;
    for (let builder = buildUnderWay(dir); builder !== undefined && !built(); builder = buildUnderWay(dir)) {
        // A line a minute, so a long wait is never silent.
        if (saidAt === undefined || Date.now() - saidAt >= 60_000) {
            log(`waiting for the lab VM disk that process ${builder} is building (${Math.round((Date.now() - waitStarted) / 1000)} s so far)`);
            saidAt = Date.now();
        }
        await new Promise((r) => setTimeout(r, 2_000));
    }
    if (built()) return readImage(dir, false);
    await buildImage(dir);
    return readImage(dir, true);
}

async function buildImage(dir: string): Promise<void> {
    const started = Date.now();
    const work = `${dir}.building-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    fs.writeFileSync(path.join(work, BUILDER_FILE), JSON.stringify({ pid: process.pid, start: processStart(process.pid) }));
    const root = path.join(work, "root");
    const debs = path.join(VMLAB_CACHE, "debs");
    fs.mkdirSync(debs, { recursive: true });
    // Every step is a command on this machine: a failure is the kit's HostCommandError. Building a disk takes minutes.
    const local = hostAccess();
    const run = (argv: string[], opts: RunOptions = {}) => local.run(argv, { timeoutMs: 60 * 60_000, ...opts });
    try {
        log(`building the lab VM disk (Debian ${VM_SUITE}, ${VM_PACKAGES.length} packages over minbase) in ${work}`);
        // --cache-dir keeps the downloaded .debs, so a recipe change rebuilds without downloading again.
        const debootstrap = ["debootstrap", "--variant=minbase", `--cache-dir=${debs}`, `--include=${VM_PACKAGES.join(",")}`, VM_SUITE, root, VM_MIRROR];
        await run(debootstrap, { env: { DEBIAN_FRONTEND: "noninteractive" } });
        const kernels = fs
            .readdirSync(path.join(root, "boot"))
            .filter((f) => f.startsWith("vmlinuz-"))
            .map((f) => f.slice("vmlinuz-".length));
        const rtKernel = kernels.find((k) => k.endsWith("-rt-amd64"));
        const stockKernel = kernels.find((k) => !k.includes("-rt-"));
        if (!rtKernel || !stockKernel)
            throw new HostCommandError(
                "local",
                debootstrap,
                0,
                "",
                "",
                "exit",
                `installed no stock and RT kernel pair: found ${kernels.join(", ") || "none"} in /boot`,
                {
                    fix: "check that the Debian mirror offers linux-image-amd64 and linux-image-rt-amd64",
                },
            );

        // Keys: the lab's client key and the host's own key, made here so the host key is pinned from the start.
        await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nfvkit-vmlab", "-f", path.join(work, "id_ed25519")]);
        for (const f of fs.readdirSync(path.join(root, "etc/ssh")).filter((f) => f.startsWith("ssh_host_"))) fs.rmSync(path.join(root, "etc/ssh", f));
        await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nfvkit-vmlab-host", "-f", path.join(root, "etc/ssh/ssh_host_ed25519_key")]);
        fs.copyFileSync(path.join(root, "etc/ssh/ssh_host_ed25519_key.pub"), path.join(work, "ssh_host_ed25519_key.pub"));
        fs.mkdirSync(path.join(root, "root/.ssh"), { recursive: true, mode: 0o700 });
        fs.copyFileSync(path.join(work, "id_ed25519.pub"), path.join(root, "root/.ssh/authorized_keys"));
        fs.writeFileSync(
            path.join(root, "etc/ssh/sshd_config.d/nfvkit-vmlab.conf"),
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n",
        );

        // Identity, file systems, network, bootloader settings.
        const uuid = fs.readFileSync("/proc/sys/kernel/random/uuid", "utf8").trim();
        fs.writeFileSync(path.join(root, "etc/hostname"), "nfvkit-vmlab\n");
        fs.writeFileSync(path.join(root, "etc/hosts"), "127.0.0.1 localhost\n127.0.1.1 nfvkit-vmlab\n");
        fs.writeFileSync(path.join(root, "etc/fstab"), `UUID=${uuid} / ext4 errors=remount-ro 0 1\n`);
        fs.writeFileSync(path.join(root, "etc/systemd/network/10-eth0.network"), VM_NETWORK);
        fs.symlinkSync("/lib/systemd/system/systemd-networkd.service", path.join(root, "etc/systemd/system/multi-user.target.wants/systemd-networkd.service"));
        fs.writeFileSync(path.join(root, "etc/default/grub"), `${VM_GRUB_DEFAULTS}GRUB_DEFAULT="Debian GNU/Linux, with Linux ${stockKernel}"\n`);
        fs.mkdirSync(path.join(root, "etc/default/grub.d"), { recursive: true });
        fs.writeFileSync(path.join(root, "usr/local/sbin/nfvkit-firstboot"), FIRST_BOOT_SCRIPT, { mode: 0o755 });
        // The .debs live in the shared cache; the disk does not need apt's copies.
        fs.rmSync(path.join(root, "var/cache/apt/archives"), { recursive: true, force: true });
        fs.mkdirSync(path.join(root, "var/cache/apt/archives/partial"), { recursive: true });

        // The disk: an MBR with one partition at 1 MiB, the file system written from the folder at that offset.
        const raw = path.join(work, "disk.raw");
        await run(["qemu-img", "create", "-q", "-f", "raw", raw, `${VM_DISK_MIB}M`]);
        await run(["parted", "-s", raw, "mklabel", "msdos", "mkpart", "primary", "ext4", `${VM_PARTITION_OFFSET_MIB}MiB`, "100%", "set", "1", "boot", "on"]);
        const fsKib = (VM_DISK_MIB - VM_PARTITION_OFFSET_MIB) * 1024;
        const offset = `offset=${VM_PARTITION_OFFSET_MIB * 1024 * 1024}`;
        await run(["mkfs.ext4", "-q", "-F", "-U", uuid, "-L", "nfvkit-root", "-E", offset, "-d", root, raw, `${fsKib}k`]);

        // First boot: the stock kernel straight from the folder, PID 1 installs GRUB and powers off.
        log(`first boot (TCG) to install GRUB on the disk`);
        const qemu = [
            ...["-machine", "q35", "-accel", "tcg", "-m", "1024", "-smp", "1", "-nographic", "-no-reboot"],
            ...["-kernel", path.join(root, "boot", `vmlinuz-${stockKernel}`), "-initrd", path.join(root, "boot", `initrd.img-${stockKernel}`)],
            ...["-append", `root=UUID=${uuid} rw console=ttyS0 init=/usr/local/sbin/nfvkit-firstboot panic=-1`],
            ...["-drive", `file=${raw},format=raw,if=virtio`, "-nic", "none"],
        ];
        const firstBoot = ["qemu-system-x86_64", ...qemu];
        const out = await run(firstBoot, { nothrow: true, timeoutMs: 15 * 60_000 });
        const firstBootLog = path.join(work, "firstboot.log");
        fs.writeFileSync(firstBootLog, out.stdout + out.stderr);
        if (!out.stdout.includes("nfvkit-firstboot: ok")) {
            throw new HostCommandError("local", firstBoot, out.exitCode, out.stdout, out.stderr, "exit", "the first boot did not install GRUB", {
                fix: `read its console in ${firstBootLog}`,
            });
        }
        await run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, path.join(work, "disk.qcow2")]);
        fs.rmSync(raw);
        fs.rmSync(root, { recursive: true, force: true });
        const buildSeconds = Math.round((Date.now() - started) / 1000);
        fs.writeFileSync(path.join(work, "image.json"), JSON.stringify({ recipe: recipeHash(), stockKernel, rtKernel, buildSeconds, uuid }, null, 2));
        fs.rmSync(path.join(work, BUILDER_FILE));
        fs.rmSync(dir, { recursive: true, force: true });
        fs.renameSync(work, dir);
        log(`built ${path.join(dir, "disk.qcow2")} in ${buildSeconds} s`);
    } catch (err) {
        log(`build failed; kept ${work} for a look (remove it when done)`);
        throw err;
    }
}

// `tsx tools/lab/vm/image.ts` builds or finds the image and prints where it is.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(__filename)) {
    vmImage().then(
        (img) => console.log(JSON.stringify(img, null, 2)),
        (err) => {
            console.error(err instanceof Error ? err.message : err);
            process.exitCode = 1;
        },
    );
}
