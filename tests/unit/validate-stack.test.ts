/**
 * The one validation of a whole stack (components/validate): one test per kind
 * of input, each asserting the exact line a user sees (file, line, path, value,
 * reason, fix), the input limits answering in under a second, and the program
 * and `npm run validate` agreeing on the same stack file.
 */
import test from "ava";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { formatProblemLine, readStackFile, stackConfigFromEngine, validateStack, type StackCheck } from "../../components/validate";
import { bigStackFile } from "../helpers/bigSpec";
import { scratchFolder } from "../helpers/scratch";

/** A good stack file: one local host, one RT guest, probes enforced. Tests replace parts of it. */
const good = `config:
  nfv-testpod:gate: enforce
  nfv-testpod:probes:
    probes: [cyclictest]
  nfv-testpod:pod:
    hosts:
      - name: local
        topology: { numaNodes: [{ id: 0, cpus: "0-3" }], smtSiblings: ["0,2", "1,3"] }
        housekeepingCpus: "0,2"
        hugepages: [{ node: 0, size: 2M, count: 512 }]
        pfs: [{ name: enp1s0, vfCount: 4 }]
    guests:
      - name: vnf
        vcpus: 2
        memory: 256M
`;

/** What `npm run validate` prints for a stack file's text, one line per problem (without the header). */
function lines(text: string | Uint8Array): string[] {
    const bytes = typeof text === "string" ? Buffer.from(text) : text;
    const source = readStackFile(bytes);
    const checked: StackCheck =
        source.problems.length > 0
            ? { problems: source.problems }
            : validateStack({ config: source.config, secretKeys: source.secretKeys, namePrefix: "t", kind: source.kind, lineOf: source.lineOf });
    return checked.problems.map((p) => formatProblemLine(p, "Pulumi.t.yaml"));
}

/**
 * A guard against the class of input that made validation run for minutes (an
 * alias bomb took 95 s): such input must be refused at once. The bound is far
 * above what a refusal costs (milliseconds), so the machine's load cannot trip
 * it; speed itself is measured by `npm run bench:validate`.
 */
/**
 * Runs `run` and checks what it cost this process in CPU time (user and system), which is the bound's point: the
 * work a file makes the reader do. Wall time also counts whatever else shares the machine's two cores (npm test
 * runs other files beside this one): a 1 MB merge chain once took 1578 ms of wall time there.
 */
function timed<T>(t: { true: (v: boolean, m?: string) => void; log: (m: string) => void }, run: () => T, limitMs = 5000): T {
    const start = process.cpuUsage();
    const wallStart = performance.now();
    const result = run();
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    const cost = `${ms.toFixed(0)} ms of CPU time (${(performance.now() - wallStart).toFixed(0)} ms of wall time)`;
    t.log(`took ${cost}`);
    t.true(ms < limitMs, `took ${cost}, over ${limitMs} ms`);
    return result;
}

test("the good stack has no problem", (t) => {
    t.deepEqual(lines(good), []);
});

test("a misspelt config key is an error with a suggestion", (t) => {
    t.deepEqual(lines(good.replace("nfv-testpod:gate:", "nfv-testpod:gates:")), [
        'Pulumi.t.yaml:2: nfv-testpod:gates: is not a setting of the kit (got "enforce"). Fix: did you mean "nfv-testpod:gate"?',
    ]);
    // A key without namespace belongs to the project, as Pulumi reads it.
    t.deepEqual(lines(good.replace("config:\n", "config:\n  bootTimeoutSecs: 30\n")), [
        'Pulumi.t.yaml:2: nfv-testpod:bootTimeoutSecs: is not a setting of the kit (got 30). Fix: did you mean "nfv-testpod:bootTimeoutSec"?',
    ]);
});

test("a misspelt secret key never shows its value", (t) => {
    const text = good.replace("config:\n", "config:\n  nfv-testpod:hostKeyLabb:\n    secure: v1:abc\n");
    t.deepEqual(lines(text), [
        "Pulumi.t.yaml:2: nfv-testpod:hostKeyLabb: is not a setting of the kit (got [secret]). Fix: remove it; the kit reads nfv-testpod:pod, nfv-testpod:probes, nfv-testpod:targets, nfv-testpod:gate, nfv-testpod:bootTimeoutSec, nfv-testpod:guestComponents, nfv-testpod:allowHostReboot",
    ]);
});

test("guestComponents takes true or false; anything else is named with its line and the fix", (t) => {
    t.deepEqual(lines(good.replace("config:\n", "config:\n  nfv-testpod:guestComponents: false\n")), []);
    t.deepEqual(lines(good.replace("config:\n", "config:\n  nfv-testpod:guestComponents: no components\n")), [
        "Pulumi.t.yaml:2: nfv-testpod:guestComponents: must be true or false (got \"no components\"). Fix: write false to register each guest's domain and each link's shm file directly under the pod (half the registrations, for pods of hundreds of guests), or true (the default)",
    ]);
});

test('the strings pulumi config set writes for top-level values ("true", "300") are read as the program reads them; other strings are still problems', (t) => {
    const quoted = good.replace(
        "config:\n",
        'config:\n  nfv-testpod:allowHostReboot: "true"\n  nfv-testpod:guestComponents: "false"\n  nfv-testpod:bootTimeoutSec: "300"\n',
    );
    t.deepEqual(lines(quoted), []);
    const source = readStackFile(Buffer.from(quoted));
    const checked = validateStack({ config: source.config, secretKeys: source.secretKeys, namePrefix: "t", kind: source.kind, lineOf: source.lineOf });
    t.like(checked, { allowHostReboot: true, guestComponents: false, bootTimeoutSec: 300 });
    // The program's own reading of the same file through the engine (every value a string) gives the same.
    const fromEngine = stackConfigFromEngine({ PULUMI_CONFIG: JSON.stringify({ "nfv-testpod:allowHostReboot": "true", "nfv-testpod:bootTimeoutSec": "300" }) });
    t.like(fromEngine.config, { "nfv-testpod:allowHostReboot": true, "nfv-testpod:bootTimeoutSec": 300 });
    t.deepEqual(lines(good.replace("config:\n", 'config:\n  nfv-testpod:allowHostReboot: "yes"\n  nfv-testpod:bootTimeoutSec: "5 min"\n')), [
        'Pulumi.t.yaml:2: nfv-testpod:allowHostReboot: must be true or false (got "yes"). Fix: write true to let the kit reboot managed hosts when their kernel or boot args change, or false (the default)',
        'Pulumi.t.yaml:3: nfv-testpod:bootTimeoutSec: must be a whole number of seconds from 1 to 86400 (got "5 min"). Fix: write e.g. 300',
    ]);
});

test("probes: [] with an enforcing gate can never fail", (t) => {
    t.deepEqual(lines(good.replace("probes: [cyclictest]", "probes: []")), [
        "Pulumi.t.yaml:4: nfv-testpod:probes.probes: lists no probe while the gate enforces: a gate with nothing to measure can never fail (got []). Fix: list probes, e.g. [cyclictest, timerlat], or set nfv-testpod:gate: report, or probes.enabled: false",
    ]);
    t.deepEqual(lines(good.replace("probes: [cyclictest]", "probes: []").replace("gate: enforce", "gate: report")), []);
});

test("the file size is capped, said with the size and the cap", (t) => {
    const source = timed(t, () => readStackFile(new Uint8Array(0), 9 * 1024 * 1024));
    t.deepEqual(
        source.problems.map((p) => formatProblemLine(p, "Pulumi.t.yaml")),
        [
            "Pulumi.t.yaml: the file is 9 MiB (9437184 bytes); the kit reads stack and spec files of up to 8 MiB (got 9437184 bytes). Fix: split the pod, or remove what the pod does not use",
        ],
    );
});

test("alias expansion is refused within a budget (billion laughs)", (t) => {
    const laughs = ["config:", "  nfv-testpod:pod:", '    a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++)
        laughs.push(
            `    a${i}: &a${i} [${Array(10)
                .fill(`*a${i - 1}`)
                .join(", ")}]`,
        );
    const got = timed(t, () => lines(laughs.join("\n") + "\n"));
    t.deepEqual(got, [
        "Pulumi.t.yaml:9: nfv-testpod:pod.a6[0][6][8][8][8][8][8]: expands to more than 2000000 values: YAML aliases (*name) repeat data past what any pod needs (got more than 2000000 values). Fix: write the values out, or use fewer aliases",
    ]);
});

test("a chain of YAML merge keys is refused while it is read, at a bounded cost (1 MB file)", (t) => {
    // Each mapping merges the one before it: js-yaml copies every entry again, so the cost grows with the square of
    // the file. Before the limit counted merges, a 250 KB chain took 7 s and 1.1 GB.
    const chain = ["config:", "  nfv-testpod:pod:", "    a0: &a0 { k0: 0 }"];
    // The length is kept as it grows: joining the whole chain at every step took 100 s of the test's time.
    let length = chain.join("\n").length;
    for (let i = 1; length < 1024 * 1024; i++) {
        const line = `    a${i}: &a${i} { <<: *a${i - 1}, k${i}: ${i} }`;
        chain.push(line);
        length += line.length + 1;
    }
    const heapBefore = process.memoryUsage().heapUsed;
    const got = timed(t, () => lines(chain.join("\n") + "\n"), 1500);
    const grewMB = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    t.true(grewMB < 200, `the heap grew ${grewMB.toFixed(0)} MB`);
    t.is(got.length, 1);
    t.regex(
        got[0],
        /^Pulumi\.t\.yaml:\d+: builds more than 2000000 values while it is read: YAML merge keys \(<<: \*name\) copy mappings into mappings past what any pod needs \(got more than 2000000 values\)\. Fix: write the repeated settings out/,
    );
});

test("merge keys as people write them (guests sharing their settings) are read as written", (t) => {
    const shared = `config:
  nfv-testpod:pod:
    hosts:
      - { name: local, uri: "qemu:///system", housekeepingCpus: "0", isolatedCpus: "1", hugepages: [{ node: 0, size: 2M, count: 256 }], topology: { numaNodes: [{ id: 0, cpus: "0-1" }] } }
    guests:
      - &guest { name: vnf, host: local, vcpus: 1, rtVcpus: [], memory: 128M, pageSize: 2M }
      - { <<: *guest, name: peer }
      - { <<: *guest, name: tap, memory: 1024M }
`;
    const source = readStackFile(Buffer.from(shared));
    t.deepEqual(source.problems, []);
    const guests = (source.config["nfv-testpod:pod"] as { guests: { name: string; memory: string; host: string }[] }).guests;
    t.deepEqual(
        guests.map((g) => [g.name, g.host, g.memory]),
        [
            ["vnf", "local", "128M"],
            ["peer", "local", "128M"],
            ["tap", "local", "1024M"],
        ],
    );
    // The merged values are checked like written ones: peer's memory comes from vnf's entry, tap's overrides it.
    t.deepEqual(lines(shared), [
        "Pulumi.t.yaml:4: nfv-testpod:pod.hosts[0].hugepages[0].count: is 256 2M pages on node 0 of host local, but guest vnf (64) and guest peer (64) and guest tap (512) need 640 (got 256). Fix: raise count to 640, or give the guests less memory",
    ]);
});

test("deep nesting is refused, not a stack trace", (t) => {
    const deep = `config:\n  nfv-testpod:pod: ${"[".repeat(10_000)}${"]".repeat(10_000)}\n`;
    t.deepEqual(
        timed(t, () => lines(deep)),
        ["Pulumi.t.yaml:2: nests lists or mappings deeper than 32 levels (got nothing). Fix: write the pod spec as docs/pod-spec.md shows; it needs 6 levels"],
    );
    const fortyDeep = `config:\n  nfv-testpod:pod: { hosts: ${"[".repeat(40)}${"]".repeat(40)} }\n`;
    t.deepEqual(lines(fortyDeep), [
        "Pulumi.t.yaml:2: nfv-testpod:pod.hosts[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: nests lists or mappings deeper than 32 levels (got deeper nesting). Fix: write the pod spec as docs/pod-spec.md shows; it needs 6 levels",
    ]);
});

test("several YAML documents are refused", (t) => {
    t.deepEqual(
        timed(t, () => lines(`${good}---\nconfig: {}\n`)),
        [
            'Pulumi.t.yaml:17: the file holds 2 YAML documents; a stack file holds one (got 2 documents). Fix: keep one document: remove the "---" lines and what follows, or split the file',
        ],
    );
});

test("a size near 2^53 is a problem at its path, and every other problem is still reported", (t) => {
    const text = good
        .replace("memory: 256M", "memory: 256M\n        vcpu: 2")
        .replace("hosts:", "links:\n      - { name: l, size: 9007199254740990, members: [vnf, vnf] }\n    hosts:");
    t.deepEqual(lines(text), [
        'Pulumi.t.yaml:7: nfv-testpod:pod.links[0].size: is more than 1024T, past any memory the kit handles (got 9007199254740990). Fix: write a size such as "256M" or "1G"',
        'Pulumi.t.yaml:7: nfv-testpod:pod.links[0].members[1]: repeats guest vnf (got "vnf"). Fix: list each guest once',
        'Pulumi.t.yaml:7: nfv-testpod:pod.links[0].members: has 1 guest; a link joins at least two (got ["vnf","vnf"]). Fix: list two or more guests',
        'Pulumi.t.yaml:18: nfv-testpod:pod.guests[0].vcpu: is not a known field (got 2). Fix: did you mean "vcpus"?',
    ]);
});

test(".inf and .nan are shown as written", (t) => {
    t.deepEqual(lines(good.replace("vcpus: 2", "vcpus: .inf").replace("count: 512", "count: .nan")), [
        "Pulumi.t.yaml:10: nfv-testpod:pod.hosts[0].hugepages[0].count: must be a whole number (got .nan). Fix: write a number from 0 to 16777216",
        "Pulumi.t.yaml:14: nfv-testpod:pod.guests[0].vcpus: must be a whole number (got .inf). Fix: write a number from 1 to 255",
    ]);
});

test("bytes that are not UTF-8 and control characters are refused with their line", (t) => {
    const latin1 = Buffer.concat([Buffer.from(good.replace("name: vnf", "name: vnf")), Buffer.from([0x23, 0x20, 0xe9, 0x0a])]);
    t.deepEqual(lines(latin1), [
        "Pulumi.t.yaml:16: the file is not UTF-8: byte 0xe9 at offset 421 starts no UTF-8 character (got 0xe9). Fix: save the file as UTF-8",
    ]);
    t.deepEqual(lines(good.replace("name: vnf", "name: vnf\u0000")), [
        'Pulumi.t.yaml:13: holds the control character U+0000, which no setting of the kit takes (got "      - name: vnf\\u0000"). Fix: remove it (an editor shows it, e.g. as ^@ or <0x00>); write tabs and line ends only as white space',
    ]);
    // Escapes in double quotes make control characters without a raw byte in the file.
    t.deepEqual(lines(good.replace("name: vnf", 'name: "vnf\\x07"')), [
        'Pulumi.t.yaml:13: nfv-testpod:pod.guests[0].name: holds the control character U+0007 (got "vnf\\u0007"). Fix: remove it; names, sizes and URIs are plain text',
    ]);
});

test("an oversize shm link is refused with the limit", (t) => {
    const text =
        good.replace("guests:", "links:\n      - { name: l, size: 1T, members: [vnf, peer] }\n    guests:") +
        "      - { name: peer, rtVcpus: [], memory: 256M }\n";
    t.deepEqual(lines(text), [
        'Pulumi.t.yaml:13: nfv-testpod:pod.links[0].size: is 1T, more than the 4G the kit maps into each member guest (got "1T"). Fix: write "4G" or less; an ivshmem ring of a few MiB carries line rate',
    ]);
});

test("VFs: an index is required, within the PF's vfCount, and given to one guest only", (t) => {
    const withVfs = (vfs: string[]) =>
        good.replace("memory: 256M\n", `memory: 256M\n        vfs: [${vfs[0]}]\n`) + `      - { name: peer, rtVcpus: [], memory: 256M, vfs: [${vfs[1]}] }\n`;
    t.deepEqual(lines(withVfs(['{ pf: enp1s0, pciAddress: "01:10.0" }', '{ pf: enp1s0, vf: 4, pciAddress: "01:10.1" }'])), [
        "Pulumi.t.yaml:16: nfv-testpod:pod.guests[0].vfs[0].vf: is required: the kit creates the VF and sets its trust and spoofchk by its index on the PF (`ip link set <pf> vf <index>`) (got nothing). Fix: add vf: <index of the VF on its PF>, e.g. vf: 0",
        "Pulumi.t.yaml:17: nfv-testpod:pod.guests[1].vfs[0].vf: is beyond the 4 VFs of PF enp1s0 (VFs 0-3) (got 4). Fix: use a VF below 4, or raise vfCount of PF enp1s0 on host local",
    ]);
    t.deepEqual(lines(withVfs(['{ pf: enp1s0, vf: 1, pciAddress: "01:10.0" }', '{ pf: enp1s0, vf: 1, pciAddress: "01:10.1" }'])), [
        'Pulumi.t.yaml:17: nfv-testpod:pod.guests[1].vfs[0].vf: repeats the VF of host local, enp1s0 VF 1, name already used at nfv-testpod:pod.guests[0].vfs[0].vf (got "enp1s0 VF 1"). Fix: give each VF of host local, enp1s0 VF 1, its own name',
    ]);
});

test("an unknown isolcpus flag is refused with a suggestion", (t) => {
    t.deepEqual(lines(good.replace("memory: 256M\n", "memory: 256M\n        kernelArgs: { isolcpusFlags: [managed-irq, domain] }\n")), [
        'Pulumi.t.yaml:16: nfv-testpod:pod.guests[0].kernelArgs.isolcpusFlags[0]: is not an isolcpus flag the kernel knows (got "managed-irq"). Fix: did you mean "managed_irq"?',
    ]);
});

test("libvirt URIs must match the allow-list; a user value is never printed unquoted into a command", (t) => {
    const withUri = (uri: string) => lines(good.replace("- name: local\n", `- name: local\n        uri: '${uri}'\n`));
    const fix = 'Fix: write "qemu:///system" (this machine), "qemu+ssh://[user@]host[:port]/system" or "qemu+tcp://host[:port]/system"';
    t.deepEqual(withUri("qemu:///session"), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].uri: is a session daemon, which cannot pin vCPUs, lock memory or use hugepages (got "qemu:///session"). Fix: use the system daemon: "qemu:///system" (or qemu+ssh://host/system)',
    ]);
    t.deepEqual(withUri("qemu://$(touch /tmp/x)/system"), [
        `Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].uri: is not a libvirt URI the kit accepts (got "qemu://$(touch /tmp/x)/system"). ${fix}`,
    ]);
    t.deepEqual(withUri("qemu+ssh://-oProxyCommand=x/system"), [
        `Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].uri: is not a libvirt URI the kit accepts (got "qemu+ssh://-oProxyCommand=x/system"). ${fix}`,
    ]);
    t.deepEqual(withUri("qemu+ssh://root@lab-1/system?socket=/x"), [
        `Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].uri: is not a libvirt URI the kit accepts (got "qemu+ssh://root@lab-1/system?socket=/x"). ${fix}`,
    ]);
    t.deepEqual(withUri("qemu+ssh://root@lab-1:70000/system"), [
        `Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].uri: has port 70000, outside 1-65535 (got "qemu+ssh://root@lab-1:70000/system"). ${fix}`,
    ]);
});

test("unsafe ssh user and address are refused", (t) => {
    const text = good
        .replace("- name: local\n", "- name: local\n        ssh: { privateKeySecret: hostKey, user: '-oProxyCommand=x', address: '-lab' }\n")
        .replace("config:\n", "config:\n  nfv-testpod:hostKey:\n    secure: v1:abc\n");
    t.deepEqual(lines(text), [
        'Pulumi.t.yaml:10: nfv-testpod:pod.hosts[0].ssh.user: starts with -, which ssh would take as an option (got "-oProxyCommand=x"). Fix: write a login name: lower-case letters, digits, "_", "." and "-", not starting with "-", e.g. root',
        'Pulumi.t.yaml:10: nfv-testpod:pod.hosts[0].ssh.address: starts with -, which ssh would take as an option (got "-lab"). Fix: write a DNS name or an IP address, e.g. "lab-1.example.net" or "192.0.2.10"',
    ]);
});

test("an SSH key that is not set, or set in plain text, is refused", (t) => {
    const text = good.replace("- name: local\n", "- name: local\n        ssh: { privateKeySecret: hostKey }\n");
    t.deepEqual(lines(text), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].ssh.privateKeySecret: names nfv-testpod:hostKey, which is not set (got "hostKey"). Fix: pulumi config set --secret hostKey < ~/.ssh/id_ed25519',
    ]);
    t.deepEqual(lines(text.replace("config:\n", "config:\n  nfv-testpod:hostKey: plain\n")), [
        'Pulumi.t.yaml:9: nfv-testpod:pod.hosts[0].ssh.privateKeySecret: names nfv-testpod:hostKey, which holds a private key in plain text (got "hostKey"). Fix: pulumi config set --secret hostKey < ~/.ssh/id_ed25519',
    ]);
});

test("SMT siblings on different NUMA nodes are refused", (t) => {
    const text = good.replace('numaNodes: [{ id: 0, cpus: "0-3" }]', 'numaNodes: [{ id: 0, cpus: "0-1" }, { id: 1, cpus: "2-3" }]');
    t.deepEqual(lines(text), [
        'Pulumi.t.yaml:8: nfv-testpod:pod.hosts[0].topology.smtSiblings[0]: groups CPUs of NUMA nodes 0 and 1; SMT siblings are threads of one core, on one node (got "0,2"). Fix: list the threads of each core as the host shows them (lscpu -e: same CORE, same NODE)',
    ]);
});

test("RT vCPUs of two guests on the two threads of one core are refused", (t) => {
    const text = good
        .replace('smtSiblings: ["0,2", "1,3"]', 'smtSiblings: ["0,4", "1,3"]')
        .replace('cpus: "0-3"', 'cpus: "0-4"')
        .replace('housekeepingCpus: "0,2"', 'housekeepingCpus: "0,4"');
    const twoGuests = text.replace("vcpus: 2\n", "vcpus: 2\n        cpus: [0, 1]\n") + '      - { name: peer, vcpus: 2, cpus: "0,3", memory: 256M }\n';
    t.deepEqual(lines(twoGuests), [
        'Pulumi.t.yaml:17: nfv-testpod:pod.guests[1].cpus: puts RT vCPU 1 of guest peer on host CPU 3, the SMT sibling of CPU 1 that runs an RT vCPU of guest vnf (got "0,3"). Fix: give RT vCPUs of different guests different cores (CPUs that are not SMT siblings)',
    ]);
});

test("two host entries for one libvirt host are refused", (t) => {
    const text = good
        .replace("    guests:", '      - { name: other, uri: "qemu:///system", topology: { numaNodes: [{ id: 0, cpus: "0-3" }] } }\n    guests:')
        .replace("vcpus: 2", "host: local\n        vcpus: 2");
    t.deepEqual(lines(text), [
        'Pulumi.t.yaml:12: nfv-testpod:pod.hosts[1].uri: is the same libvirt host as host local (nfv-testpod:pod.hosts[0]); two entries would plan its CPUs and hugepages twice (got "qemu:///system"). Fix: declare each host once and put all its guests on it, or give this host its own URI',
    ]);
});

test("one wrong pageSize gives one problem, none about a page size nobody wrote", (t) => {
    t.deepEqual(lines(good.replace("memory: 256M", "memory: 255M\n        pageSize: 3M")), [
        'Pulumi.t.yaml:16: nfv-testpod:pod.guests[0].pageSize: is not a page size of x86-64 (got "3M"). Fix: write "4K" (no hugepages), "2M" or "1G"',
    ]);
});

test("guests on a remote libvirt host need SSH access with pinned host keys", (t) => {
    t.deepEqual(lines(good.replace("- name: local\n", "- name: local\n        uri: qemu+ssh://root@lab-1/system\n")), [
        "Pulumi.t.yaml:7: nfv-testpod:pod.hosts[0].ssh: is needed: host local is remote (qemu+ssh://root@lab-1/system) and has guests, so the kit copies the guest image there and works on its files over SSH (got nothing). Fix: add ssh: { privateKeySecret: <config key>, knownHosts: <what ssh-keyscan prints> }, or ssh: { agent: true, knownHosts: <...> } to log in with your ssh-agent; the kit never uses your own ssh config or known_hosts",
    ]);
    const unpinned = good.replace(
        "- name: local\n",
        "- name: local\n        uri: qemu+ssh://root@lab-1/system\n        ssh: {privateKeySecret: hostKeyLab1}\n",
    );
    t.true(
        lines(unpinned).some((l) =>
            l.includes(
                "nfv-testpod:pod.hosts[0].ssh.knownHosts: is needed: the kit connects to host local over SSH and never trusts a host key it was not given",
            ),
        ),
        lines(unpinned).join("\n"),
    );
    const badPin = good.replace("- name: local\n", '- name: local\n        ssh: {privateKeySecret: hostKeyLab1, knownHosts: "-oProxyCommand=evil"}\n');
    t.true(
        lines(badPin).some((l) =>
            l.includes('nfv-testpod:pod.hosts[0].ssh.knownHosts: is not a known_hosts line (host, key type, base64 key) (got "-oProxyCommand=evil")'),
        ),
        lines(badPin).join("\n"),
    );
});

test("the program's check and npm run validate give the same problems for the same stack file", (t) => {
    const text = good
        .replace("nfv-testpod:gate:", "nfv-testpod:gates:")
        .replace("vcpus: 2", "vcpus: 300")
        .replace("- name: local\n", "- name: local\n        ssh: { privateKeySecret: hostKey }\n")
        .replace(
            "config:\n",
            "config:\n  nfv-testpod:hostKey:\n    secure: v1:abc\n  nfv-testpod:bootTimeoutSec: 0\n  nfv-testpod:targets: { timer: { maxUs: -1 } }\n",
        );
    const source = readStackFile(Buffer.from(text));
    const fromFile = validateStack({ config: source.config, secretKeys: source.secretKeys, namePrefix: "t", lineOf: source.lineOf });
    // What the engine hands the program: every value as text, structured ones as JSON, secrets decrypted.
    const engineConfig: Record<string, string> = {};
    for (const [key, value] of Object.entries(source.config)) {
        engineConfig[key] = source.secretKeys.includes(key) ? "-----BEGIN OPENSSH PRIVATE KEY-----" : typeof value === "string" ? value : JSON.stringify(value);
    }
    const engine = stackConfigFromEngine({ PULUMI_CONFIG: JSON.stringify(engineConfig), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(source.secretKeys) });
    const fromEngine = validateStack({ ...engine, namePrefix: "t", lineOf: source.lineOf });
    t.is(fromFile.problems.length, 4);
    t.deepEqual(fromEngine.problems, fromFile.problems);
    // Without the file's text the program still names every problem by path, in the same words.
    const withoutLines = validateStack({ ...engine, namePrefix: "t" });
    t.deepEqual(withoutLines.problems.map((p) => p.path).sort(), fromFile.problems.map((p) => p.path).sort());
});

// How fast this is, is measured by `npm run bench:validate`, not here: a timed test fails with the machine's load.
test("npm run validate on a 5 MB spec with thousands of problems reports and counts every problem", async (t) => {
    const dir = scratchFolder(t, "nfvkit-big-");
    const file = path.join(dir, "Pulumi.big.yaml");
    writeFileSync(file, bigStackFile(5 * 1024 * 1024));
    const root = path.join(__dirname, "..", "..");
    const start = performance.now();
    const stderr = await new Promise<string>((resolve) => {
        execFile(
            path.join(root, "node_modules", ".bin", "tsx"),
            ["tools/cli/validate.ts", file, "--offline"],
            { cwd: root, maxBuffer: 64 * 1024 * 1024 },
            (_err, _out, err) => resolve(err),
        );
    });
    const seconds = (performance.now() - start) / 1000;
    const problemLines = stderr.trimEnd().split("\n");
    const count = Number(/: (\d+) problems:$/.exec(problemLines[0])?.[1]);
    t.true(count > 5000, problemLines[0]);
    t.is(problemLines.length, count + 1);
    t.log(`validated 5 MB with ${count} problems in ${seconds.toFixed(1)} s`);
});
