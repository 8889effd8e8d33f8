/**
 * The lab's pure parts: names and addresses for N hosts, each host's libvirt,
 * QEMU and sshd settings, and the lab stack file, which must validate once
 * `lab up` has added the key (apart from the temporary remote-guest rule).
 */
import test from "ava";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { readStackFile, validateStack } from "../../components/validate";
import { libvirtdConf, qemuConf, sshdConfig } from "../../tools/lab/files";
import { LAB_MAX_HOSTS, labLayout } from "../../tools/lab/layout";
import { knownHostsPaths, LAB_KEY_CONFIG } from "../../tools/lab/stackConfig";
import type { LabState } from "../../tools/lab/state";

test("hosts get fixed addresses, namespaces and short veth names", (t) => {
    const lab = labLayout(3, "/x");
    t.deepEqual(
        lab.hosts.map((h) => [h.name, h.namespace, h.address, h.vethOutside]),
        [
            ["lab-1", "nfvkit-lab-1", "10.213.100.11", "nfvkit-lab1v"],
            ["lab-2", "nfvkit-lab-2", "10.213.100.12", "nfvkit-lab2v"],
            ["lab-3", "nfvkit-lab-3", "10.213.100.13", "nfvkit-lab3v"],
        ],
    );
    t.is(lab.controlAddress, "10.213.100.1");
    t.true(
        labLayout(LAB_MAX_HOSTS).hosts.every((h) => h.vethOutside.length <= 15),
        "the kernel's interface name limit",
    );
    t.deepEqual(
        lab.hosts[0].binds.map((b) => b.target),
        ["/etc/libvirt", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt", "/var/cache/nfvkit", "/var/lib/nfvkit"],
    );
    t.throws(() => labLayout(0), {
        message:
            "npm run lab arguments has 1 problem:\n--hosts: must be a whole number from 1 to 8: the hosts share this machine's CPUs and memory (got 0). Fix: give e.g. --hosts 2",
    });
});

test("libvirtd.conf and qemu.conf keep the machine's settings and set the lab's once", (t) => {
    const host = labLayout(2).hosts[1];
    const machine = '# a comment\nhost_uuid = "old"\nmax_clients = 5\n';
    const conf = libvirtdConf(machine, host, "11111111-2222-3333-4444-555555555555");
    t.regex(conf, /^max_clients = 5$/m);
    t.deepEqual(conf.match(/^host_uuid.*$/gm), ['host_uuid = "11111111-2222-3333-4444-555555555555"']);
    const qemu = qemuConf('cgroup_controllers = [ "cpuset", "memory" ] # nfvkit\nuser = "libvirt-qemu"\n', host);
    t.deepEqual(qemu.match(/^cgroup_controllers.*$/gm), ["cgroup_controllers = [ ]"]);
    t.regex(qemu, /^migration_host = "10\.213\.100\.12"$/m);
    t.regex(qemu, /^user = "libvirt-qemu"$/m);
    const sshd = sshdConfig(host);
    t.regex(sshd, /^ListenAddress 10\.213\.100\.12$/m);
    t.regex(sshd, /^PasswordAuthentication no$/m);
    t.regex(sshd, /^AuthorizedKeysFile \/var\/lib\/nfvkit-lab\/hosts\/lab-2\/ssh\/authorized_keys$/m);
});

test("the lab stack file holds no key; with the key and the pins lab up adds, it validates", (t) => {
    const file = path.resolve(__dirname, "../../stacks/Pulumi.lab.yaml");
    const text = readFileSync(file, "utf8");
    t.false(/PRIVATE KEY|secure:|ssh-ed25519/.test(text), "no key and no pin in the committed file");
    const source = readStackFile(Buffer.from(text));
    t.deepEqual(source.problems, []);
    const lines = [
        "10.213.100.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMcw+NVVU+IrfO4HD8Y9haOCUl+UyvCyD9CxxrQXW4zV",
        "10.213.100.12 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIACz0SKpMtNgPZyjhT6fe9oLjE9rUn8GiwlAdUEiGGJg",
    ];
    const state = {
        hosts: [
            { name: "lab-1", knownHosts: lines[0] },
            { name: "lab-2", knownHosts: lines[1] },
        ],
    } as unknown as LabState;
    const paths = knownHostsPaths(text, state.hosts);
    t.deepEqual(
        paths.map((p) => p.path),
        ["nfv-testpod:pod.hosts[0].ssh.knownHosts", "nfv-testpod:pod.hosts[1].ssh.knownHosts"],
    );
    // What `pulumi config set --path` makes of the pod.
    const pod = structuredClone(source.config["nfv-testpod:pod"]) as { hosts: { ssh: { knownHosts?: string } }[] };
    pod.hosts.forEach((h, i) => (h.ssh.knownHosts = lines[i]));
    const check = validateStack({
        config: { ...source.config, "nfv-testpod:pod": pod, [LAB_KEY_CONFIG]: "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n" },
        secretKeys: [LAB_KEY_CONFIG],
        namePrefix: "nfv-testpod-lab",
    });
    t.deepEqual(check.problems, []);
    t.deepEqual(
        check.plan!.guests.map((g) => `${g.name}@${g.host}`),
        ["vnf@lab-1", "peer@lab-2"],
    );
});
