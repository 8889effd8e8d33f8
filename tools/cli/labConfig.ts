/**
 * The lab stack runs with the config `npm run lab -- up` generates outside the
 * repo (the committed stacks/Pulumi.lab.yaml holds no key, docs/lab.md). So
 * that `npm run lab -- up && npm run up -- --stack lab` works as the README
 * says, `up`, `down` and `probe` add `--config-file <the lab's file>` for the
 * lab stack themselves, and say so. The file is (re)written here when it is
 * missing or older than the lab or the committed file: on a fresh clone `lab up` runs before the
 * Pulumi CLI is bootstrapped and can only print how to make it, while these
 * commands run after the bootstrap.
 */
import { existsSync, statSync } from "node:fs";
import * as path from "node:path";
import { LAB_STATE_DIR, labLayout } from "../lab/layout";
import { LAB_STACK, LAB_STACK_FILE, namespaceLabKeys, writeStackConfig } from "../lab/stackConfig";
import { readLabState, stateFile } from "../lab/state";
import { LAB_RT_STACK, vmLabKeys } from "../lab/vm/cli";
import { readImage } from "../lab/vm/image";
import { vmState } from "../lab/vm/vm";

/** True when `file` is missing or older than any of `sources`. */
function olderThan(file: string, sources: string[]): boolean {
    const made = existsSync(file) ? statSync(file).mtimeMs : 0;
    return sources.some((s) => made < statSync(s).mtimeMs);
}

/** The extra pulumi arguments for `stack`: `--config-file <lab config>` for the lab stack, nothing otherwise or when the caller chose a file. */
export async function labConfigArgs(stack: string, argv: string[], log: (line: string) => void, stateDir = LAB_STATE_DIR): Promise<string[]> {
    if (argv.includes("--config-file")) return [];
    if (stack === LAB_RT_STACK) return vmLabConfigArgs(log);
    if (stack !== LAB_STACK) return [];
    const state = readLabState(stateDir);
    if (!state) {
        throw new Error(
            `stack ${LAB_STACK} runs on the emulated lab, and no lab is up (${stateFile(stateDir)} does not exist)\n  fix: npm run lab -- up, then run this again`,
        );
    }
    // Older than the lab (a new key) or than the committed file (an edited pod): made again from both.
    if (olderThan(state.stackConfig, [stateFile(stateDir), LAB_STACK_FILE]))
        await writeStackConfig(namespaceLabKeys(labLayout(state.hosts.length, stateDir), state), () => undefined);
    log(
        `stack ${LAB_STACK}: using the lab's generated config ${state.stackConfig} (the lab key as a secret and the pinned host keys; npm run lab -- up writes it)`,
    );
    return ["--config-file", state.stackConfig];
}

/** The same for the lab-rt stack and the lab VM host: its key and host key come with the VM's image. */
async function vmLabConfigArgs(log: (line: string) => void): Promise<string[]> {
    const vm = vmState();
    if (!vm) {
        throw new Error(`stack ${LAB_RT_STACK} manages the lab VM host, and it is not running\n  fix: npm run lab -- up --kind vm, then run this again`);
    }
    const keys = vmLabKeys(readImage(path.dirname(vm.image)));
    // Older than the image (a new key) or than the committed file (an edited pod): made again.
    if (olderThan(keys.configFile, [path.join(path.dirname(vm.image), "image.json"), keys.stackFile])) await writeStackConfig(keys, () => undefined);
    log(`stack ${LAB_RT_STACK}: using the lab VM host's generated config ${keys.configFile} (its key as a secret and its pinned host key)`);
    return ["--config-file", keys.configFile];
}
