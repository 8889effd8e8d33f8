/**
 * Domain XML of the fixture pods: snapshot-tested (tests/unit/snapshots/*.md
 * is the readable report), checked against libvirt's own schema with
 * virt-xml-validate, and checked for the NFV knobs a reviewer looks for.
 */
import test from "ava";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import { renderCputune, renderDomainXml, type RenderEnv } from "../../components/render/domainXml";
import { parseCputune } from "../../components/libvirt/cputune";
import { formatCpuList } from "../../components/spec/units";
import { resolvePod } from "../../components/plan/resolvePod";
import { realTest } from "../helpers/realParts";

const run = promisify(execFile);
const fixtures = path.join(__dirname, "..", "fixtures", "specs");

function fixturePod(file: string) {
    return resolvePod(load(readFileSync(path.join(fixtures, file), "utf8")), { namePrefix: "nfvkit-test" });
}

function env(virtType: RenderEnv["virtType"], guest: string): RenderEnv {
    return {
        virtType,
        kernelPath: "/var/cache/nfvkit/images/0123456789abcdef/vmlinuz",
        initrdPath: "/var/cache/nfvkit/images/0123456789abcdef/initrd.img",
        baseCmdline: `console=ttyS0 nfvkit.name=${guest}`,
        consoleLogPath: `/var/log/nfvkit/${guest}.console.log`,
        metadata: { pod: "test", guest },
    };
}

/** Runs libvirt's schema check on the XML; resolves to virt-xml-validate's verdict line. */
async function validateWithLibvirt(xml: string): Promise<string> {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-xml-"));
    try {
        const file = path.join(dir, "domain.xml");
        writeFileSync(file, xml);
        // It exits non-zero on an invalid document (run then rejects with its output) and says "validates" on stderr.
        const { stdout, stderr } = await run("virt-xml-validate", [file, "domain"]);
        return `${stdout}${stderr}`.trim().replace(file, "domain.xml");
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

for (const file of ["local-one-guest.yaml", "two-node-smt.yaml", "explicit-cpus.yaml"]) {
    for (const virtType of ["kvm", "qemu"] as const) {
        test(`${file} under ${virtType}: snapshot and libvirt schema`, async (t) => {
            for (const guest of fixturePod(file).guests) {
                const xml = renderDomainXml(guest, env(virtType, guest.name));
                t.snapshot(xml, `${guest.name} (${virtType})`);
                t.is(await validateWithLibvirt(xml), "domain.xml validates");
            }
        });
    }
}

test("an RT guest under KVM gets every NFV knob", (t) => {
    const guest = fixturePod("two-node-smt.yaml").guests.find((g) => g.name === "vnf-fast")!;
    const xml = renderDomainXml(guest, env("kvm", guest.name));
    for (const fragment of [
        "<domain type='kvm'",
        "<type arch='x86_64' machine='q35'>hvm</type>",
        "<vcpusched vcpus='1-2' scheduler='fifo' priority='10'/>",
        "<hugepages><page size='1048576' unit='KiB' nodeset='0'/></hugepages>",
        "<locked/>",
        "<nosharepages/>",
        "<memory mode='strict' nodeset='1'/>",
        "<memnode cellid='0' mode='strict' nodeset='1'/>",
        "<cpu mode='host-passthrough' check='none' migratable='off'>",
        "<feature policy='require' name='tsc-deadline'/>",
        "<pmu state='off'/>",
        "<kvm><hint-dedicated state='on'/></kvm>",
        "<memballoon model='none'/>",
        "<controller type='usb' model='none'/>",
        "<log file='/var/log/nfvkit/vnf-fast.console.log' append='off'/>",
        "<target type='virtio' name='org.qemu.guest_agent.0'/>",
        "<interface type='hostdev' managed='yes'>",
        "<source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x4'/></source>",
        "<vlan><tag id='100'/></vlan>",
        "<mac address='52:54:00:aa:00:01'/>",
        "<shmem name='nfvkit-test-control'>",
        "<qemu:arg value='memory-backend-file,id=nfvkit-shm-nfvkit-test-fastpath,mem-path=/dev/hugepages/nfvkit-test-fastpath,size=16777216,share=on'/>",
        "<cmdline>console=ttyS0 nfvkit.name=vnf-fast isolcpus=managed_irq,domain,1-2 nohz_full=1-2 rcu_nocbs=1-2 irqaffinity=0</cmdline>",
    ]) {
        t.true(xml.includes(fragment), `missing ${fragment}`);
    }
});

test("a VF asked as a hostdev is a plain PCI device, with no MAC or VLAN in the XML (the kit's SriovPf sets them)", (t) => {
    const guest = fixturePod("two-node-smt.yaml").guests.find((g) => g.name === "vnf-fast")!;
    const asHostdev = { ...guest, vfs: guest.vfs.map((vf) => ({ ...vf, attach: "hostdev" as const })) };
    const xml = renderDomainXml(asHostdev, env("kvm", guest.name));
    t.true(
        xml.includes(
            "<hostdev mode='subsystem' type='pci' managed='yes'>\n      <driver name='vfio'/>\n      <source><address type='pci' domain='0x0000' bus='0x01' slot='0x10' function='0x4'/></source>\n    </hostdev>",
        ),
    );
    t.false(xml.includes("<interface type='hostdev'"));
    t.false(xml.includes("<vlan>"));
    t.false(xml.includes("52:54:00:aa:00:01"));
});

test("under TCG there is no host-passthrough and no KVM hint", (t) => {
    const guest = fixturePod("local-one-guest.yaml").guests[0];
    const xml = renderDomainXml(guest, env("qemu", guest.name));
    t.true(xml.includes("<cpu mode='maximum' check='none' migratable='off'>"));
    t.false(xml.includes("host-passthrough"));
    t.false(xml.includes("<kvm>"));
    t.false(xml.includes("tsc-deadline"));
});

test("a named TCG CPU model and knobs turned off", (t) => {
    const guest = fixturePod("explicit-cpus.yaml").guests[0];
    const xml = renderDomainXml(guest, env("qemu", guest.name));
    t.true(xml.includes("<model fallback='forbid'>qemu64</model>"));
    for (const absent of ["<locked/>", "<memtune>", "<vcpusched", "<hugepages>"]) t.false(xml.includes(absent), `unexpected ${absent}`);
    t.true(xml.includes("<iothreadpin iothread='2' cpuset='0-1'/>"));
});

test("text is escaped in XML", (t) => {
    const guest = fixturePod("local-one-guest.yaml").guests[0];
    const xml = renderDomainXml(guest, { ...env("qemu", guest.name), baseCmdline: "console=ttyS0 x=<a&b>", metadata: { note: 'it\'s "quoted"' } });
    t.true(xml.includes("<cmdline>console=ttyS0 x=&lt;a&amp;b&gt;</cmdline>"));
    t.true(xml.includes("<nfvkit:entry key='note'>it&apos;s &quot;quoted&quot;</nfvkit:entry>"));
});

test("a pinning change only touches <cputune>", (t) => {
    const before = fixturePod("two-node-smt.yaml").guests[1];
    const after = { ...before, pins: before.pins.map((p) => (p.vcpu === 3 ? { ...p, hostCpu: 0 } : p)), emulatorCpus: [8] };
    const strip = (xml: string) => xml.replace(/\s*<cputune>[\s\S]*?<\/cputune>/, "");
    const xmlBefore = renderDomainXml(before, env("kvm", before.name));
    const xmlAfter = renderDomainXml(after, env("kvm", after.name));
    t.not(xmlBefore, xmlAfter);
    t.is(strip(xmlBefore), strip(xmlAfter));
    t.true(
        xmlAfter.includes(
            renderCputune(after)
                .map((l) => `  ${l}`)
                .join("\n"),
        ),
    );
});

test("<cputune> carries every planned pin and the FIFO priority of exactly the RT vCPUs", (t) => {
    for (const guest of [...fixturePod("two-node-smt.yaml").guests, ...fixturePod("explicit-cpus.yaml").guests]) {
        const tune = parseCputune(renderDomainXml(guest, env("kvm", guest.name)));
        t.deepEqual(tune.vcpuPins, Object.fromEntries(guest.pins.map((p) => [String(p.vcpu), String(p.hostCpu)])), guest.name);
        t.is(tune.emulatorPin, formatCpuList(guest.emulatorCpus), guest.name);
        const rt = guest.knobs.vcpuSchedFifo ? guest.pins.filter((p) => p.role === "rt") : [];
        t.deepEqual(tune.fifo, Object.fromEntries(rt.map((p) => [String(p.vcpu), guest.fifoPriority])), guest.name);
    }
});

/** True when this machine's libvirt answers, so the define check can run (asked once, when the file loads). */
function libvirtReachable(): boolean {
    return spawnSync("virsh", ["-c", "qemu:///system", "version"], { stdio: "ignore", timeout: 30_000 }).status === 0;
}

// A real skip where libvirt is missing (never a pass); a failure under CI.
const withLibvirt = realTest(libvirtReachable(), "a libvirt daemon answering on qemu:///system (tools/setup-host.sh starts libvirtd)");

withLibvirt("libvirt defines every rendered domain (and it is undefined again)", async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-define-"));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    for (const file of ["local-one-guest.yaml", "two-node-smt.yaml", "explicit-cpus.yaml"]) {
        const pod = resolvePod(load(readFileSync(path.join(fixtures, file), "utf8")), { namePrefix: "nfvkit-xmltest" });
        for (const guest of pod.guests) {
            const xmlFile = path.join(dir, `${guest.domainName}.xml`);
            writeFileSync(xmlFile, renderDomainXml(guest, env("qemu", guest.name)));
            t.teardown(() => run("virsh", ["-c", "qemu:///system", "undefine", guest.domainName]).catch(() => undefined));
            await run("virsh", ["-c", "qemu:///system", "define", xmlFile]);
            const { stdout } = await run("virsh", ["-c", "qemu:///system", "dumpxml", "--inactive", guest.domainName]);
            // libvirt kept the pinning as rendered.
            for (const pin of guest.pins)
                t.true(stdout.includes(`<vcpupin vcpu='${pin.vcpu}' cpuset='${pin.hostCpu}'/>`), `${guest.domainName} vCPU ${pin.vcpu}`);
            await run("virsh", ["-c", "qemu:///system", "undefine", guest.domainName]);
        }
    }
});
