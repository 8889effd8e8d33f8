/**
 * How the lab reaches the lab stack. The committed stacks/Pulumi.lab.yaml
 * names the hosts by their fixed lab addresses and names the key's secret
 * config key (labKey), but holds no key: the key and the host keys change on
 * every `lab up`, and a committed file must never carry them. `lab up` writes
 * the stack's full config to a file outside the repo,
 * /var/lib/nfvkit-lab/Pulumi.lab.yaml: the committed file, plus the private
 * key set as a secret (`pulumi config set --secret`, through stdin, so it
 * never shows in a process list) and each host's pinned key as its
 * `ssh.knownHosts`. The stack then runs with `--config-file` pointing at it,
 * which `npm run up`, `down` and `probe` add for the lab stack themselves
 * (tools/cli/labConfig.ts, docs/lab.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { commandFailure, LocalHostAccess } from "../../components/host/access";
import { loadStack } from "../../components/stack";
import { formatProblemLine, readStackFile } from "../../components/validate";
import { projectRoot, pulumiEnv } from "../cli/engine";
import type { LabLayout } from "./layout";
import type { LabState } from "./state";

/** The committed lab stack file. */
export const LAB_STACK_FILE = path.join(projectRoot, "stacks", "Pulumi.lab.yaml");
export const LAB_STACK = "lab";
/** The secret config key the lab stack's hosts name as ssh.privateKeySecret. */
export const LAB_KEY_CONFIG = "nfv-testpod:labKey";

/**
 * What a lab stack's generated config is made of: the committed file, the
 * client key (set as the secret the hosts name) and each host's pinned key.
 * Both labs give one: the namespace lab (lab) and the VM host (lab-rt).
 */
export interface LabStackKeys {
    stack: string;
    /** The committed stack file, which holds no key. */
    stackFile: string;
    /** The secret config key the hosts name as ssh.privateKeySecret. */
    keyConfig: string;
    /** Path of the client's private key. */
    clientKey: string;
    /** Each host's pinned key line, by the stack file's host name. */
    hosts: { name: string; knownHosts: string }[];
    /** Where the full config goes, outside the repo. */
    configFile: string;
}

/** The namespace lab's keys for the lab stack. */
export function namespaceLabKeys(layout: LabLayout, state: LabState): LabStackKeys {
    return {
        stack: LAB_STACK,
        stackFile: LAB_STACK_FILE,
        keyConfig: LAB_KEY_CONFIG,
        clientKey: state.clientKey,
        hosts: state.hosts,
        configFile: layout.stackConfig,
    };
}

/** Where each lab host's pinned key goes: the `ssh.knownHosts` of the stack file's host of that name (by index, as `pulumi config set --path` wants). */
export function knownHostsPaths(stackFileText: string, labHosts: { name: string; knownHosts: string }[]): { host: string; path: string; line: string }[] {
    const pod = readStackFile(Buffer.from(stackFileText)).config["nfv-testpod:pod"] as { hosts?: { name?: unknown }[] } | undefined;
    const hosts = pod?.hosts ?? [];
    return labHosts.flatMap((h) => {
        const i = hosts.findIndex((s) => s?.name === h.name);
        return i < 0 ? [] : [{ host: h.name, path: `nfv-testpod:pod.hosts[${i}].ssh.knownHosts`, line: h.knownHosts }];
    });
}

/** The commands that make the stack's config by hand, for when the Pulumi CLI is not bootstrapped yet. */
export function stackConfigCommands(keys: LabStackKeys): string[] {
    const base = `pulumi config --config-file ${keys.configFile} --stack ${keys.stack}`;
    return [
        `cp ${keys.stackFile} ${keys.configFile}`,
        `${base} set --secret ${keys.keyConfig} < ${keys.clientKey}`,
        ...knownHostsPaths(readOr(keys.stackFile), keys.hosts).map((k) => `${base} set --path '${k.path}' '${k.line}'`),
    ];
}

/** Writes a lab stack's config outside the repo, or prints how to when the Pulumi CLI is not there yet. */
export async function writeStackConfig(keys: LabStackKeys, log: (line: string) => void): Promise<void> {
    const local = new LocalHostAccess("control");
    const env = pulumiEnv() as Record<string, string>;
    const pulumi = await local.run(["sh", "-c", "command -v pulumi"], { env, nothrow: true });
    if (pulumi.exitCode !== 0 || !fs.existsSync(keys.stackFile)) {
        log(`lab: the Pulumi CLI is not bootstrapped here (npm run bootstrap); make the ${keys.stack} stack's config with:`);
        for (const c of stackConfigCommands(keys)) log(`  ${c}`);
        return;
    }
    const pulumiRun = async (args: string[], input?: string) => {
        const r = await local.run(["pulumi", ...args], { env, cwd: projectRoot, input, nothrow: true, timeoutMs: 60_000 });
        if (r.exitCode !== 0) throw commandFailure("control", ["pulumi", ...args], r).withFix("run npm run bootstrap, then npm run lab -- up again");
    };
    // The stack must exist for its secrets provider (the passphrase and the salt in the committed file) to encrypt the key.
    await pulumiRun(["stack", "select", "--create", keys.stack, "--non-interactive"]);
    fs.mkdirSync(path.dirname(keys.configFile), { recursive: true });
    fs.copyFileSync(keys.stackFile, keys.configFile);
    fs.chmodSync(keys.configFile, 0o600);
    const base = ["config", "--config-file", keys.configFile, "--stack", keys.stack];
    await pulumiRun([...base, "set", "--secret", keys.keyConfig], fs.readFileSync(keys.clientKey, "utf8"));
    for (const k of knownHostsPaths(fs.readFileSync(keys.stackFile, "utf8"), keys.hosts)) await pulumiRun([...base, "set", "--path", k.path, k.line]);
    // Loaded as every command loads it (offline: the hosts are reached when a command runs), so a config the kit would refuse is said now.
    const written = await loadStack(keys.configFile, { projectDir: projectRoot, offline: true });
    for (const line of written.problems.map((p) => formatProblemLine(p, keys.configFile))) log(`lab: ${line}`);
    log(`lab: stack config with the lab key (secret) and pinned host keys: ${keys.configFile}`);
    log(`  bring the pod up with: npm run up -- --stack ${keys.stack}   (it picks this file for the ${keys.stack} stack)`);
}

function readOr(file: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return "";
    }
}
