/** This machine: commands through zx's `$`, files through node:fs. */
import * as fs from "node:fs/promises";
import { HostFileError } from "./errors";
import { LOCAL_LIBVIRT_URI } from "./libvirtUri";
import { DEFAULT_TIMEOUT_MS, judge, spawnArgv } from "./process";
import type { FileStat, HostAccess, RunningCommand, RunOptions, RunResult } from "./types";
import { virsh, type VirshOptions } from "./virsh";

export class LocalHostAccess implements HostAccess {
    readonly local = true;

    constructor(
        /** How messages name this machine. @default "local" */
        readonly name = "local",
        /** This machine's libvirt daemon (LocalTarget.libvirtUri). @default "qemu:///system" */
        private readonly uri = LOCAL_LIBVIRT_URI,
    ) {}

    async libvirtUri(): Promise<string> {
        return this.uri;
    }

    virsh(args: readonly string[], opts: Omit<VirshOptions, "host"> = {}): Promise<string> {
        return virsh(this.uri, args, { ...opts, host: this.name });
    }

    async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
        const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
        const out = await spawnArgv(argv, { input: opts.input, timeoutMs, env: opts.env, cwd: opts.cwd });
        return judge(this.name, argv, out, timeoutMs, opts.nothrow ?? false);
    }

    start(argv: readonly string[], opts: Omit<RunOptions, "timeoutMs"> = {}): RunningCommand {
        const pp = spawnArgv(argv, { input: opts.input, env: opts.env, cwd: opts.cwd });
        let killed = false;
        const result = pp.then((out) => judge(this.name, argv, out, undefined, (opts.nothrow ?? false) || killed));
        // A caller that only kills must not see an unhandled rejection.
        result.catch(() => undefined);
        return {
            result,
            stdout: pp.stdout,
            kill: async (signal?: NodeJS.Signals) => {
                killed = true;
                if (pp.stage === "running") await pp.kill(signal).catch(() => undefined);
                await pp.catch(() => undefined);
            },
        };
    }

    async readFile(path: string): Promise<string> {
        try {
            return await fs.readFile(path, "utf8");
        } catch (e) {
            throw this.fileError(path, "read", e);
        }
    }

    async tryReadFile(path: string): Promise<string | undefined> {
        try {
            return await this.readFile(path);
        } catch (e) {
            if (e instanceof HostFileError && e.missing) return undefined;
            throw e;
        }
    }

    async writeFile(path: string, text: string, opts: { mode?: number } = {}): Promise<void> {
        try {
            await fs.writeFile(path, text, opts.mode === undefined ? {} : { mode: opts.mode });
            // writeFile applies mode only when it creates the file; an existing file must end up the same.
            if (opts.mode !== undefined) await fs.chmod(path, opts.mode);
        } catch (e) {
            throw this.fileError(path, "write", e);
        }
    }

    async exists(path: string): Promise<boolean> {
        try {
            await fs.stat(path);
            return true;
        } catch (e) {
            if (isMissing(e)) return false;
            throw this.fileError(path, "check", e);
        }
    }

    async remove(path: string): Promise<void> {
        try {
            await fs.unlink(path);
        } catch (e) {
            if (isMissing(e)) return;
            throw this.fileError(path, "remove", e);
        }
    }

    async mkdir(path: string): Promise<void> {
        try {
            await fs.mkdir(path, { recursive: true });
        } catch (e) {
            throw this.fileError(path, "create directory", e);
        }
    }

    async listDir(path: string): Promise<string[]> {
        try {
            return (await fs.readdir(path)).sort();
        } catch (e) {
            throw this.fileError(path, "list", e);
        }
    }

    async chown(path: string, uid: number, gid: number): Promise<void> {
        try {
            await fs.chown(path, uid, gid);
        } catch (e) {
            throw this.fileError(path, "chown", e);
        }
    }

    async stat(path: string): Promise<FileStat | undefined> {
        try {
            const s = await fs.stat(path);
            return { uid: s.uid, gid: s.gid, size: s.size, isFile: s.isFile(), isDirectory: s.isDirectory() };
        } catch (e) {
            if (isMissing(e)) return undefined;
            throw this.fileError(path, "stat", e);
        }
    }

    async copyTo(localPath: string, remotePath: string): Promise<void> {
        try {
            await fs.copyFile(localPath, remotePath);
        } catch (e) {
            throw this.fileError(`${localPath} -> ${remotePath}`, "copy", e);
        }
    }

    async close(): Promise<void> {
        // Nothing is held open for this machine.
    }

    private fileError(path: string, operation: string, e: unknown): HostFileError {
        const err = e as NodeJS.ErrnoException;
        return new HostFileError(this.name, path, operation, isMissing(e), err.code ? `${err.code}: ${err.message}` : String(e));
    }
}

function isMissing(e: unknown): boolean {
    return (e as NodeJS.ErrnoException)?.code === "ENOENT";
}
