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
import { LAB_STATE_DIR, labLayout } from "../lab/layout";
import { LAB_STACK, LAB_STACK_FILE, writeStackConfig } from "../lab/stackConfig";
import { readLabState, stateFile } from "../lab/state";

/** The extra pulumi arguments for `stack`: `--config-file <lab config>` for the lab stack, nothing otherwise or when the caller chose a file. */
export async function labConfigArgs(stack: string, argv: string[], log: (line: string) => void, stateDir = LAB_STATE_DIR): Promise<string[]> {
    if (stack !== LAB_STACK || argv.includes("--config-file")) return [];
    const state = readLabState(stateDir);
    if (!state) {
        throw new Error(
            `stack ${LAB_STACK} runs on the emulated lab, and no lab is up (${stateFile(stateDir)} does not exist)\n  fix: npm run lab -- up, then run this again`,
        );
    }
    // Older than the lab (a new key) or than the committed file (an edited pod): made again from both.
    const made = existsSync(state.stackConfig) ? statSync(state.stackConfig).mtimeMs : 0;
    const stale = made < statSync(stateFile(stateDir)).mtimeMs || made < statSync(LAB_STACK_FILE).mtimeMs;
    if (stale) await writeStackConfig(labLayout(state.hosts.length, stateDir), state, () => undefined);
    log(
        `stack ${LAB_STACK}: using the lab's generated config ${state.stackConfig} (the lab key as a secret and the pinned host keys; npm run lab -- up writes it)`,
    );
    return ["--config-file", state.stackConfig];
}
