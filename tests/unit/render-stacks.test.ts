/**
 * Golden domain XML of every guest of every stack in stacks/, as this
 * machine shape (one NUMA node, CPUs 0-1, TCG, no memory locking) renders it,
 * reviewed through the snapshot report (tests/unit/snapshots/) and accepted
 * by libvirt's own schema (virt-xml-validate).
 */
import test from "ava";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as yaml from "js-yaml";
import { resolvePod } from "../../components/plan/resolvePod";
import { renderDomainXml } from "../../components/render/domainXml";
import { scratchFolder } from "../helpers/scratch";

const run = promisify(execFile);
const stacks = readdirSync("stacks")
    .filter((f) => /^Pulumi\..+\.yaml$/.test(f))
    .sort();
const machine = { numaNodes: [{ id: 0, cpus: [0, 1] }], smtSiblings: [] };

for (const file of stacks) {
    test(`${file}: every guest's domain XML, golden and schema-valid`, async (t) => {
        const stack = file.replace(/^Pulumi\.|\.yaml$/g, "");
        const config = (yaml.load(readFileSync(path.join("stacks", file), "utf8")) as { config: Record<string, unknown> }).config;
        const pod = resolvePod(config["nfv-testpod:pod"], {
            namePrefix: `nfv-testpod-${stack}`,
            discovered: { local: machine },
            knobDefaults: { local: { locked: false, memtuneHardLimit: false } },
            yamlPath: "nfv-testpod:pod",
        });
        const dir = scratchFolder(t, "nfvkit-golden-");
        for (const guest of pod.guests) {
            const xml = renderDomainXml(guest, {
                virtType: "qemu",
                kernelPath: "/var/cache/nfvkit/images/HASH/vmlinuz",
                initrdPath: "/var/cache/nfvkit/images/HASH/initrd.img",
                baseCmdline: `console=ttyS0 nfvkit.name=${guest.name}`,
                consoleLogPath: `/var/log/libvirt/qemu/${guest.domainName}-console.log`,
                metadata: { guest: guest.name, pod: "pod", prefix: `nfv-testpod-${stack}` },
            });
            t.snapshot(xml, `${stack}/${guest.name}`);
            const xmlFile = path.join(dir, `${guest.domainName}.xml`);
            writeFileSync(xmlFile, xml);
            const { stdout, stderr } = await run("virt-xml-validate", [xmlFile, "domain"]);
            t.regex(stdout + stderr, /validates/, `${guest.domainName}: ${stdout}${stderr}`);
        }
    });
}
