/**
 * A problem never prints a secret's value: a private key pasted where a key
 * name, a host key or any other value belongs is described ("a private key"),
 * never echoed, in every place a problem is shown (the one-line form,
 * `npm run validate`'s lines, the preview comment), and nowhere in the error's
 * message.
 */
import test from "ava";
import { resolvePod } from "../../components/plan/resolvePod";
import { renderPreviewComment } from "../../components/preview";
import { describeSecret, formatProblem, formatValue, ProblemListError } from "../../components/spec/problems";
import { formatProblemLine, validateStack } from "../../components/validate";

const KEY_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACDx";
const PRIVATE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${KEY_BODY}\n-----END OPENSSH PRIVATE KEY-----\n`;

const pod = (ssh: unknown) => ({
    hosts: [
        {
            name: "lab1",
            uri: "qemu+ssh://root@lab-1.example/system",
            ssh,
            topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
            housekeepingCpus: "0",
            hugepages: [{ node: 0, size: "2M", count: 128 }],
        },
    ],
    guests: [{ name: "vnf", vcpus: 2, memory: "256M" }],
});

/** Every problem of a spec, as the error's message prints it. */
function messageOf(spec: unknown): string {
    try {
        resolvePod(spec, { namePrefix: "t" });
    } catch (err) {
        if (err instanceof ProblemListError) return err.message;
        throw err;
    }
    throw new Error("the spec was accepted");
}

test("what a secret looks like is said; other values are shown as written", (t) => {
    t.is(describeSecret(PRIVATE_KEY), "a private key");
    t.is(describeSecret("-----BEGIN RSA PRIVATE KEY-----"), "a private key");
    t.is(describeSecret("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE..."), "a private key");
    t.is(describeSecret(KEY_BODY), "a private key");
    t.is(describeSecret("PuTTY-User-Key-File-3: ssh-ed25519"), "a private key");
    t.is(describeSecret("AAAAC3NzaC1lZDI1NTE5AAAAIBvLb/kU+6cYbuNv0Lj2yPdUDAQzzzz"), "key material (55 characters)");
    t.is(describeSecret("hostKeyLab1"), undefined);
    t.is(describeSecret("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvLb/kU+6cYbuNv0Lj2yPdUDAQzzzz"), undefined, "a public key line is not secret");
    t.is(formatValue({ ssh: { privateKey: PRIVATE_KEY } }), '{"ssh":{"privateKey":a private key}}');
    t.is(formatValue(["0-3", PRIVATE_KEY]), '["0-3",a private key]');
});

test("a private key pasted into ssh.privateKeySecret is described, never echoed", (t) => {
    const message = messageOf(pod({ privateKeySecret: PRIVATE_KEY, knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvLb" }));
    t.is(
        message,
        "pod spec has 1 problem:\nhosts[0].ssh.privateKeySecret: is not a config key name (the key itself never goes in the spec) (got a private key). Fix: name a secret config key, e.g. hostKeyLab1, set with pulumi config set --secret hostKeyLab1 < ~/.ssh/id_ed25519",
    );
    t.false(message.includes(KEY_BODY.slice(0, 20)));
});

test("a private key in a field the kit does not know, or in knownHosts, is described too", (t) => {
    const message = messageOf(pod({ privateKeySecret: "k", privateKey: PRIVATE_KEY, knownHosts: [PRIVATE_KEY] }));
    t.false(message.includes("BEGIN OPENSSH"));
    t.false(message.includes(KEY_BODY.slice(0, 20)));
    t.regex(message, /hosts\[0\]\.ssh\.privateKey: is not a known field \(got a private key\)/);
    t.regex(message, /hosts\[0\]\.ssh\.knownHosts\[0\]: is not a known_hosts line \(host, key type, base64 key\) \(got a private key\)/);
});

test("a private key pasted into knownHosts as one text is one problem, described", (t) => {
    const message = messageOf(pod({ privateKeySecret: "k", knownHosts: PRIVATE_KEY }));
    t.is(
        message,
        'pod spec has 1 problem:\nhosts[0].ssh.knownHosts: is not known_hosts lines (host, key type, base64 key) (got a private key). Fix: paste the lines `ssh-keyscan -p <port> <address>` prints, e.g. "ssh-ed25519 AAAAC3Nza..."',
    );
});

test("npm run validate's lines and the preview comment describe the key the same way", (t) => {
    const config = { "nfv-testpod:pod": pod({ privateKeySecret: PRIVATE_KEY, knownHosts: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvLb" }) };
    const checked = validateStack({ config, namePrefix: "t", kind: "spec" });
    const lines = checked.problems.map((p) => formatProblemLine(p, "pod.yaml"));
    t.true(lines.some((l) => l.includes("(got a private key)")));
    t.false(lines.join("\n").includes(KEY_BODY.slice(0, 20)));
    const comment = renderPreviewComment({ stack: "t", file: "pod.yaml", problems: checked.problems });
    t.true(comment.includes("a private key"));
    t.false(comment.includes(KEY_BODY.slice(0, 20)));
    t.true(checked.problems.every((p) => !formatProblem(p).includes("BEGIN OPENSSH")));
});
