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
import { problemError } from "../../components/spec/problems";
import { LAB_STATE_DIR, labLayout } from "../lab/layout";
import { LAB_STACK, LAB_STACK_FILE, namespaceLabKeys, writeStackConfig, type LabStackKeys } from "../lab/stackConfig";
import { readLabState, stateFile } from "../lab/state";
import { LAB_RT_STACK, vmLabKeys } from "../lab/vm/cli";
import { readImage } from "../lab/vm/image";
import { vmState } from "../lab/vm/vm";

/** True when `file` is missing or older than any of `sources`. */
function olderThan(file: string, sources: string[]): boolean {
    const made = existsSync(file) ? statSync(file).mtimeMs : 0;
    return sources.some((s) => made < statSync(s).mtimeMs);
}

/** A lab stack's generated config: what it is made of, what makes it stale, and how to say it is used. */
interface LabStackConfig {
    keys: LabStackKeys;
    /** Files newer than the config make it stale: the lab's record (a new key) and the committed stack file (an edited pod). */
    sources: string[];
    used: string;
}

/** The extra pulumi arguments for `stack`: `--config-file <lab config>` for a lab stack (lab, lab-rt), nothing otherwise or when the caller chose a file. */
export async function labConfigArgs(stack: string, argv: string[], log: (line: string) => void, stateDir = LAB_STATE_DIR): Promise<string[]> {
    if (argv.includes("--config-file")) return [];
    const lab = stack === LAB_STACK ? namespaceLabConfig(stateDir) : stack === LAB_RT_STACK ? vmLabConfig() : undefined;
    if (!lab) return [];
    if (olderThan(lab.keys.configFile, lab.sources)) await writeStackConfig(lab.keys, () => undefined);
    log(lab.used);
    return ["--config-file", lab.keys.configFile];
}

function namespaceLabConfig(stateDir: string): LabStackConfig {
    const state = readLabState(stateDir);
    if (!state) {
        throw problemError(
            `stack ${LAB_STACK}`,
            "--stack",
            LAB_STACK,
            `runs on the emulated lab, and no lab is up (${stateFile(stateDir)} does not exist)`,
            "npm run lab -- up, then run this again",
        );
    }
    return {
        keys: namespaceLabKeys(labLayout(state.hosts.length, stateDir), state),
        sources: [stateFile(stateDir), LAB_STACK_FILE],
        used: `stack ${LAB_STACK}: using the lab's generated config ${state.stackConfig} (the lab key as a secret and the pinned host keys; npm run lab -- up writes it)`,
    };
}

/** The lab-rt stack and the lab VM host: its key and host key come with the VM's image. */
function vmLabConfig(): LabStackConfig {
    const vm = vmState();
    if (!vm) {
        throw problemError(
            `stack ${LAB_RT_STACK}`,
            "--stack",
            LAB_RT_STACK,
            "manages the lab VM host, and it is not running",
            "npm run lab -- up --kind vm, then run this again",
        );
    }
    const imageDir = path.dirname(vm.image);
    const keys = vmLabKeys(readImage(imageDir));
    return {
        keys,
        sources: [path.join(imageDir, "image.json"), keys.stackFile],
        used: `stack ${LAB_RT_STACK}: using the lab VM host's generated config ${keys.configFile} (its key as a secret and its pinned host key)`,
    };
}
