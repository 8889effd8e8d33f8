/**
 * loadStack as the kit's commands call it: in the project's folder, with the
 * lab's generated config for a lab stack (labConfig.ts), and with the engine
 * to decrypt the secrets a host's SSH access names (`pulumi config
 * --show-secrets`, the same provider that encrypted them). Every command
 * (validate, preview, probe, the benches) loads a stack through here, so they
 * see the stack as `pulumi up` does; `npm run probe` and the migration bench
 * read what `up` recorded through loadRecordedProbes.
 */
import { commandFailure, currentAccessEnv } from "../../components/host/access";
import type { ProbeSuiteInputs } from "../../components/probes/inputs";
import { recordedProbeSuiteInputs } from "../../components/probes/recorded";
import { loadStack, namesAFile, type LoadedStack } from "../../components/stack";
import { pulumiOutput, runPulumi, projectRoot } from "./engine";
import { labConfigArgs } from "./labConfig";

export interface CommandStackOptions {
    /** Reach no host (facts from the spec alone). @default false */
    offline?: boolean;
    /** The name prefix instead of `<project>-<stack>`. */
    namePrefix?: string;
    /** The stack's config file, as `--config-file` gives it. */
    configFile?: string;
    /** Progress lines. @default stderr */
    log?: (line: string) => void;
}

/** A loaded stack and the extra pulumi arguments that name its config file (`--config-file <lab config>` for a lab stack). */
export type CommandStack = LoadedStack & { configArgs: string[] };

/** Loads a stack by name (a lab stack with the lab's generated config) or a stack or spec file by path. */
export async function loadCommandStack(stackOrFile: string, opts: CommandStackOptions = {}): Promise<CommandStack> {
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const byFile = namesAFile(stackOrFile);
    let configArgs = opts.configFile ? ["--config-file", opts.configFile] : [];
    if (!byFile && !opts.configFile) {
        try {
            configArgs = await labConfigArgs(stackOrFile, [], log);
        } catch (err) {
            // A lab stack whose lab is down: offline, its committed file is still checked; online, there is nothing to reach.
            if (!opts.offline) throw err;
        }
    }
    const loaded = await loadStack(stackOrFile, {
        projectDir: projectRoot,
        configFile: configArgs[1],
        offline: opts.offline,
        namePrefix: opts.namePrefix,
        log,
        revealSecrets,
    });
    return { ...loaded, configArgs };
}

/**
 * The environment that hands the stack's current SSH access to the provider
 * (host/access/currentAccess.ts says why): read from the stack's config and
 * its secrets now, reaching no host. Empty when no host is reached over SSH,
 * or when the config cannot be read (the stored access is then used, and the
 * engine's own errors say what is wrong).
 */
export async function currentAccessEnvOf(stack: string, configArgs: string[], log: (line: string) => void = () => undefined): Promise<Record<string, string>> {
    try {
        const loaded = await loadStack(stack, {
            projectDir: projectRoot,
            configFile: configArgs.includes("--config-file") ? configArgs[configArgs.indexOf("--config-file") + 1] : undefined,
            offline: true,
            accessOnly: true,
            revealSecrets,
        });
        const hosts = Object.keys(loaded.sshTargets);
        if (hosts.length > 0) log(`The hosts are reached with the stack's current ssh: access, not the one stored by the last up: ${hosts.join(", ")}.`);
        return currentAccessEnv(stack, loaded.sshTargets);
    } catch (err) {
        log(`The stack's current ssh: access could not be read (${(err as Error).message?.split("\n")[0]}); the access stored by the last up is used.`);
        return {};
    }
}

/** The stack's secret values, decrypted by the engine: `pulumi config --json --show-secrets` of that stack and file. */
async function revealSecrets(stack: string, configFile: string): Promise<Record<string, unknown>> {
    const r = await runPulumi(["config", "--json", "--show-secrets", "--stack", stack, "--config-file", configFile]);
    const argv = ["pulumi", "config", "--json", "--show-secrets", "--stack", stack, "--config-file", configFile];
    if (r.code !== 0) throw commandFailure("local", argv, { exitCode: r.code, stdout: r.stdout, stderr: r.stderr });
    const raw = JSON.parse(r.stdout) as Record<string, { value?: unknown; objectValue?: unknown; secret?: boolean }>;
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v.objectValue ?? v.value]));
}

/**
 * What `pulumi up` recorded for the stack's probe suite, read back from its
 * state (`pulumi stack export --show-secrets`: the SSH keys are shown only to
 * this process, in memory, never written): what `npm run probe` and the
 * migration bench run the probe pipeline on.
 */
export async function loadRecordedProbes(stack: string): Promise<ProbeSuiteInputs> {
    return recordedProbeSuiteInputs(JSON.parse(await pulumiOutput(["stack", "export", "--show-secrets", "--stack", stack])), stack);
}
