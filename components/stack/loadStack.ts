/**
 * One way in: a stack, by name or by file, to everything a command needs, the
 * same way for the Pulumi program, `npm run validate`, `npm run preview`,
 * `npm run probe`, the lab and the benches. It reads the config (from the
 * engine, or from the stack file within the input limits), the secrets the
 * hosts' SSH access names and the known_hosts files it names, reaches each host through its pinned access (never
 * this machine's ssh setup, never this machine in a remote host's place),
 * reads the host facts there, and runs the one validation, which gives the
 * problems and the plan. The name prefix is made here, once.
 *
 * This folder sits above validate/ (pure) and host/ (I/O): it is where the
 * two meet, so validate/ stays free of I/O and the commands in tools/ hold no
 * load logic of their own.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    closeHostAccesses,
    HostCommandError,
    hostAccess,
    isLocalLibvirtUri,
    knownHostsFiles,
    sshTargets,
    targetForHost,
    type HostAccess,
    type SshTarget,
} from "../host/access";
import { knownHostsFileProblems } from "../spec/check/ssh";
import { discoverHost, discoverableHosts } from "../host/discover";
import type { HostFacts } from "../host/facts";
import { stackNamePrefix } from "../spec/names";
import { joinPath, type SpecProblem } from "../spec/problems";
import { configNamespace, discoverableSpec, maxFileBytes, readStackFile, sshKeyNames, validateStack, type StackCheck, type StackFile } from "../validate";

export interface LoadStackOptions {
    /** The project folder: its Pulumi.yaml (the project's name, `stackConfigDir`) and stack files. @default process.cwd() */
    projectDir?: string;
    /** The stack's config file, when it is not `<projectDir>/<stackConfigDir>/Pulumi.<stack>.yaml` (e.g. the lab's generated config). */
    configFile?: string;
    /**
     * The config as the engine hands it to the program (stackConfigFromEngine),
     * secrets decrypted. The stack file is then read only for the lines of
     * problems, and only when it holds the same settings.
     */
    engineConfig?: { config: Record<string, unknown>; secretKeys: readonly string[] };
    /**
     * Decrypts a stack file's secret values, by fully qualified key (the tools
     * pass the engine's `pulumi config --show-secrets`). Asked only when a host's
     * SSH access names a secret and hosts are reached. Without it, such a host
     * cannot be reached, and a problem says why.
     */
    revealSecrets?: (stack: string, configFile: string) => Promise<Record<string, unknown>>;
    /** Reach no host: facts come from the spec alone. @default false */
    offline?: boolean;
    /**
     * Reach no host, but read the secrets and pins the hosts' ssh: settings name, so `sshTargets` holds the
     * stack's current access: `npm run up` and `npm run down` hand it to the provider for refresh and destroy
     * (host/access/currentAccess.ts). @default false
     */
    accessOnly?: boolean;
    /** The name prefix instead of `<project>-<stack>`. */
    namePrefix?: string;
    /** Progress lines: which hosts are reached and what was found. */
    log?: (line: string) => void;
}

/** A loaded stack. Secrets sit in `config` and `sshTargets`: never print them. */
export interface LoadedStack extends StackCheck {
    /** The stack's name: given, or read from the file's name (Pulumi.<stack>.yaml). */
    stack: string;
    /** The project's name (Pulumi.yaml). */
    project: string;
    /** Prefix of every derived name (domains, shm files): `<project>-<stack>` unless given. */
    namePrefix: string;
    /** "stack": a stack's config; "spec": a bare pod spec file. */
    kind: "stack" | "spec";
    /** The file the config and the problem lines come from; undefined when no file was read. */
    file?: string;
    /** Line of a problem path in `file`, when the file holds what was checked. */
    lineOf?: (path: string) => number | undefined;
    /** Every config key, fully qualified, with secret values revealed where they were needed. */
    config: Record<string, unknown>;
    /** Keys whose values are secret. */
    secretKeys: string[];
    /** SSH access per host name, from the spec's `ssh:` blocks and the secrets they name. */
    sshTargets: Record<string, SshTarget>;
    /** How each host the kit reached is reached (local or SSH); hosts it did not reach are absent. */
    access: Record<string, HostAccess>;
    /** What the kit read on each host it reached; for a host it did not reach, what the spec says (its accelerator); none offline. */
    hostFacts: Record<string, HostFacts>;
    /** Ends the connections this load opened (with every other cached HostAccess of the process). */
    close(): Promise<void>;
}

/**
 * Loads a stack by name (its file under the project's stack folder, or
 * `options.configFile`) or a stack or spec file by path (anything with a "/"
 * or ending in .yaml). Never throws for bad input: every problem is in
 * `problems`, with its line when the file is known.
 */
export async function loadStack(stackOrFile: string, options: LoadStackOptions = {}): Promise<LoadedStack> {
    const projectDir = options.projectDir ?? process.cwd();
    const project = readProject(projectDir);
    const byFile = namesAFile(stackOrFile);
    const stack = byFile ? stackNameOfFile(stackOrFile) : stackOrFile;
    const file = byFile ? stackOrFile : (options.configFile ?? path.join(projectDir, project.stackConfigDir, `Pulumi.${stack}.yaml`));
    const namePrefix = options.namePrefix ?? stackNamePrefix(project.name, stack);
    const log = options.log ?? (() => undefined);
    const base = { stack, project: project.name, namePrefix, close: closeHostAccesses };

    // The config: the engine's (secrets decrypted) or the file's (secrets encrypted until asked for).
    let source: StackFile | undefined;
    let config: Record<string, unknown>;
    let secretKeys: string[];
    let kind: "stack" | "spec" = "stack";
    let lineOf: LoadedStack["lineOf"];
    if (options.engineConfig) {
        config = { ...options.engineConfig.config };
        secretKeys = [...options.engineConfig.secretKeys];
        source = tryReadFile(file);
        // Lines only from a file that holds what the engine gave (a --config-file elsewhere does not).
        if (source && sameSettings(source, config, secretKeys)) lineOf = source.lineOf;
        else source = undefined;
    } else {
        try {
            source = readFileWithinLimits(file);
        } catch (err) {
            const problem = { path: "", value: undefined, shown: "no file", reason: `cannot be read: ${(err as Error).message}`, fix: "give the stack's file" };
            return { ...base, kind, file, config: {}, secretKeys: [], sshTargets: {}, access: {}, hostFacts: {}, problems: [problem] };
        }
        if (source.problems.length > 0) {
            return { ...base, kind, file, config: {}, secretKeys: [], sshTargets: {}, access: {}, hostFacts: {}, problems: source.problems };
        }
        ({ config, secretKeys, kind, lineOf } = { config: { ...source.config }, secretKeys: [...source.secretKeys], kind: source.kind, lineOf: source.lineOf });
    }

    const spec = config[`${configNamespace}:pod`];
    const hostProblems: SpecProblem[] = [];
    const podPath = kind === "stack" ? `${configNamespace}:pod` : "";
    const hostPath = (name: string) => {
        const i = Array.isArray((spec as { hosts?: unknown })?.hosts) ? (spec as { hosts: { name?: unknown }[] }).hosts.findIndex((h) => h?.name === name) : -1;
        return i < 0 ? joinPath(podPath, "hosts") : joinPath(joinPath(podPath, "hosts"), i);
    };

    // Secrets a host's SSH access names, revealed only when a host is to be reached with them.
    if ((!options.offline || options.accessOnly) && !options.engineConfig) {
        const names = sshKeyNames(spec);
        const needed = [...new Set(names.map((n) => `${configNamespace}:${n.key}`))].filter((k) => secretKeys.includes(k) && typeof config[k] !== "string");
        if (needed.length > 0) {
            const revealed = await reveal(options.revealSecrets, stack, file);
            if (typeof revealed === "string") {
                for (const { host, index, key: keyName } of names)
                    if (host !== undefined && needed.includes(`${configNamespace}:${keyName}`))
                        hostProblems.push({
                            path: `${joinPath(joinPath(podPath, "hosts"), index)}.ssh.privateKeySecret`,
                            value: keyName,
                            reason: `names ${configNamespace}:${keyName}, a secret this command could not read (${revealed}), so host ${host} is not reached`,
                            fix: "bootstrap the engine (npm run bootstrap) and create the stack (pulumi stack select --create <stack>), or check offline with --offline",
                        });
            } else for (const k of needed) if (typeof revealed[k] === "string") config[k] = revealed[k];
        }
    }

    // Pinned host keys a host names by file: read now, so its lines travel with the stack (refresh and destroy need no file).
    const pinsFromFiles: Record<string, string[]> = {};
    for (const f of knownHostsFiles(spec)) {
        const read = readKnownHostsFile(f.file, projectDir);
        const checked = knownHostsFileProblems(
            {
                path: `${joinPath(joinPath(podPath, "hosts"), f.index)}.ssh.knownHostsFile`,
                written: f.file,
                resolved: read.resolved,
                address: f.address,
                port: f.port,
            },
            read,
        );
        hostProblems.push(...checked.problems);
        if (checked.problems.length === 0) pinsFromFiles[f.host] = checked.lines;
    }

    const ssh = sshTargets(spec, config, configNamespace, pinsFromFiles);
    const access: Record<string, HostAccess> = {};
    const hostFacts: Record<string, HostFacts> = {};
    const hosts = spec === undefined ? [] : discoverableHosts(discoverableSpec(spec));
    // A remote host the kit has no pinned access to is a problem found before any connection: while one is
    // open, no host is reached at all, so a stack that names one never makes a connection (validation says
    // what each such host needs, with the rest of the problems).
    const unpinned = hosts.filter((h) => !isLocalLibvirtUri(h.uri) && ssh[h.name] === undefined).map((h) => h.name);
    if (!options.offline && !options.accessOnly && unpinned.length > 0) {
        log(
            `no host is reached: ${unpinned.map((n) => `host ${n}`).join(", ")} ha${unpinned.length === 1 ? "s" : "ve"} no pinned SSH access; facts come from the spec`,
        );
        for (const host of hosts) hostFacts[host.name] = await discoverHost(host, undefined);
    } else if (!options.offline && !options.accessOnly) {
        // Only hosts the kit may ask over libvirt: this machine's, and remote ones through their pinned access. All at
        // once, each its own machine or SSH connection; the facts and problems are then kept in the spec's host order.
        const reads = await Promise.all(
            hosts.map(async (host): Promise<{ facts?: HostFacts; reached?: HostAccess; problem?: SpecProblem }> => {
                const target = targetForHost(host, ssh[host.name]);
                if (!target) {
                    const why = isLocalLibvirtUri(host.uri) ? "libvirt's test driver" : "no pinned SSH access";
                    log(`host ${host.name} (${host.uri}): not reached (${why}); its facts come from the spec`);
                    // What the spec says (its accelerator), with no I/O: the host is not asked anything.
                    return { facts: await discoverHost(host, undefined) };
                }
                try {
                    const reached = hostAccess(target);
                    return { facts: await discoverHost(host, reached, log), reached };
                } catch (err) {
                    const said = ((err as Error).message ?? String(err)).split("\n").filter((l) => l.trim() !== "")[0] ?? String(err);
                    return {
                        problem: {
                            path: hostPath(host.name),
                            value: undefined,
                            shown: target.kind === "ssh" ? `${target.user ?? "root"}@${target.host}:${target.port ?? 22}` : "this machine",
                            reason: `could not be read: ${said}`,
                            // The access's own fix when it knows one (no ssh-agent: start one), else the usual suspects.
                            fix:
                                err instanceof HostCommandError && err.fix !== undefined
                                    ? err.fix
                                    : "check that the host is up and its ssh: settings and knownHosts are right, or check offline with --offline",
                        },
                    };
                }
            }),
        );
        hosts.forEach((host, i) => {
            const { facts, reached, problem } = reads[i];
            if (facts) hostFacts[host.name] = facts;
            if (reached) access[host.name] = reached;
            if (problem) hostProblems.push(problem);
        });
    }

    const checked = validateStack({ config, secretKeys, hostFacts, namePrefix, kind, lineOf, hostProblems });
    // The engine's config names no file unless the stack's file holds the same settings.
    const shownFile = options.engineConfig && !lineOf ? undefined : file;
    return { ...base, ...checked, kind, file: shownFile, lineOf, config, secretKeys, sshTargets: ssh, access, hostFacts };
}

/** Past this, a "known_hosts file" is something else: it is not read. */
const maxKnownHostsBytes = 1024 * 1024;

/** A host's known_hosts file: `~/` is the home folder, a relative name is taken from the project folder. */
function readKnownHostsFile(file: string, projectDir: string): ({ text: string } | { readError: string }) & { resolved: string } {
    const resolved = file === "~" || file.startsWith("~/") ? path.join(os.homedir(), file.slice(1)) : path.resolve(projectDir, file);
    try {
        const st = statSync(resolved);
        if (st.isDirectory()) return { resolved, readError: "it is a folder" };
        if (st.size > maxKnownHostsBytes) return { resolved, readError: `it holds ${st.size} bytes, more than a known_hosts file's ${maxKnownHostsBytes}` };
        return { resolved, text: readFileSync(resolved, "utf8") };
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const words: Record<string, string> = {
            ENOENT: "there is no such file",
            EACCES: "permission denied",
            ENOTDIR: "a part of the path is not a folder",
            ELOOP: "too many symlinks",
        };
        return { resolved, readError: (code && words[code]) ?? (err as Error).message };
    }
}

/** True when a command's stack argument names a file (it has a "/" or ends in .yaml) rather than a stack. */
export function namesAFile(stackOrFile: string): boolean {
    return /[/\\]/.test(stackOrFile) || /\.ya?ml$/.test(stackOrFile);
}

/** The project's name and stack folder from its Pulumi.yaml (the kit's own when there is none). */
export function readProject(dir: string): { name: string; stackConfigDir: string } {
    const file = path.join(dir, "Pulumi.yaml");
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    return {
        name: /^name:\s*(\S+)/m.exec(text)?.[1] ?? "nfv-testpod",
        stackConfigDir: /^stackConfigDir:\s*(\S+)/m.exec(text)?.[1] ?? ".",
    };
}

/** `Pulumi.<stack>.yaml` gives the stack; any other file name gives a stack-like name made of it (for a bare spec's name prefix). */
function stackNameOfFile(file: string): string {
    const base = path.basename(file);
    return /^Pulumi\.(.+)\.ya?ml$/.exec(base)?.[1] ?? base.replace(/\.ya?ml$/, "").replace(/[^A-Za-z0-9_-]/g, "-");
}

/** A stack file read within the input limits: a file over the size cap is not read at all. */
function readFileWithinLimits(file: string): StackFile {
    const size = statSync(file).size;
    return readStackFile(size > maxFileBytes ? new Uint8Array(0) : readFileSync(file), size);
}

function tryReadFile(file: string): StackFile | undefined {
    try {
        const source = readFileWithinLimits(file);
        return source.problems.length === 0 ? source : undefined;
    } catch {
        return undefined;
    }
}

/** The file holds the settings the engine gave: every kit key but the secret ones, value for value. */
function sameSettings(source: StackFile, config: Record<string, unknown>, secretKeys: readonly string[]): boolean {
    const kit = (c: Record<string, unknown>) =>
        JSON.stringify(
            Object.keys(c)
                .filter((k) => k.startsWith(`${configNamespace}:`) && !secretKeys.includes(k))
                .sort()
                .map((k) => [k, c[k]]),
        );
    return kit(source.config) === kit(config);
}

/** The revealed secrets, or why they could not be read. */
async function reveal(revealSecrets: LoadStackOptions["revealSecrets"], stack: string, file: string): Promise<Record<string, unknown> | string> {
    if (!revealSecrets) return "no way to decrypt the stack's secrets was given";
    try {
        return await revealSecrets(stack, file);
    } catch (err) {
        return ((err as Error).message ?? String(err)).split("\n")[0];
    }
}
