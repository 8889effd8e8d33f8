/**
 * A stack whose config is wrong in several places: the real engine's preview
 * fails before anything is built or created, listing every problem with its
 * YAML path, and no stack trace.
 */
import test from "ava";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { runPulumi, selectStack } from "../../tools/cli/engine";
import { domainsWithPrefix } from "../helpers/host";
import { scratchFolder } from "../helpers/scratch";

test("a preview of a bad stack config lists every problem by YAML path and creates nothing", async (t) => {
    selectStack("ci");
    const doc = yaml.load(readFileSync("stacks/Pulumi.ci.yaml", "utf8")) as { config: Record<string, any> };
    const pod = doc.config["nfv-testpod:pod"];
    pod.guests[1].name = "vnf"; // duplicate
    pod.guests[0].host = "nowhere";
    pod.links[0].size = "3M";
    doc.config["nfv-testpod:probes"] = { durationSec: 0 };
    doc.config["nfv-testpod:gate"] = "maybe";
    doc.config["nfv-testpod:targets"] = { timer: { maxUs: "fast" } };
    // A host key must be a secret config value, not plain text.
    pod.hosts[0].ssh = { privateKeySecret: "hostKeyLocal" };
    doc.config["nfv-testpod:hostKeyLocal"] = "-----BEGIN OPENSSH PRIVATE KEY----- (plain text)";
    const file = path.join(scratchFolder(t, "nfvkit-bad-"), "Pulumi.ci.yaml");
    writeFileSync(file, yaml.dump(doc));

    const r = await runPulumi(["preview", "--stack", "ci", "--config-file", file]);
    t.not(r.code, 0);
    const out = r.stdout + r.stderr;
    t.regex(out, /the stack config has 8 problems; nothing was created/, "the header counts every problem, probe, target and gate ones included");
    for (const p of [
        "nfv-testpod:pod.guests[1].name",
        "nfv-testpod:pod.guests[0].host",
        "nfv-testpod:pod.links[0].size",
        "nfv-testpod:probes.durationSec",
        "nfv-testpod:gate",
        "nfv-testpod:targets.timer.maxUs",
        'nfv-testpod:pod.hosts[0].ssh.privateKeySecret: names nfv-testpod:hostKeyLocal, which holds a private key in plain text (got "hostKeyLocal"). Fix: pulumi config set --secret hostKeyLocal',
    ]) {
        t.true(out.includes(p), `${p} is named:\n${out}`);
    }
    t.notRegex(out, /at .*\.ts:\d+:\d+/, "no stack trace");
    t.deepEqual(await domainsWithPrefix("nfv-testpod-ci"), []);
});
