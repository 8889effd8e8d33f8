/** The local HostAccess on this machine: commands through zx, files through node:fs, and the quote helper. */
import test from "ava";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HostCommandError, HostFileError, LocalHostAccess, hostAccess, shJoin, shQuote } from "../../components/host/access";

const local = new LocalHostAccess();

function tempDir(t: { teardown(fn: () => void): void }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nfvkit-local-access-"));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
}

test("runs argv without a shell reading the values", async (t) => {
    const words = ["a b", "it's", "$(id)", "`id`", "; id", "x\ny", "", "$HOME *"];
    t.deepEqual(await local.run(["printf", "<%s>", ...words]), { stdout: words.map((w) => `<${w}>`).join(""), stderr: "", exitCode: 0 });
});

test("stdin, env, cwd and a non-zero exit with nothrow", async (t) => {
    t.is((await local.run(["cat"], { input: "in\n" })).stdout, "in\n");
    t.is((await local.run(["cat"])).stdout, "", "no input means an empty stdin, not a hang");
    t.is((await local.run(["sh", "-c", 'printf %s "$NFVKIT_Y"'], { env: { NFVKIT_Y: "v" } })).stdout, "v");
    t.is((await local.run(["pwd"], { cwd: "/proc/sys" })).stdout, "/proc/sys\n");
    t.deepEqual(await local.run(["sh", "-c", "echo o; echo e >&2; exit 5"], { nothrow: true }), { stdout: "o\n", stderr: "e\n", exitCode: 5 });
});

test("failures read as words: exit code, not installed, timeout", async (t) => {
    const exit = await t.throwsAsync(local.run(["sh", "-c", "echo boom >&2; exit 2"]), { instanceOf: HostCommandError });
    t.is(exit!.message, "sh -c 'echo boom >&2; exit 2' on local failed: exit code 2: boom");
    t.like(exit, { host: "local", exitCode: 2, failure: "exit", stderr: "boom\n" });
    const missing = await t.throwsAsync(local.run(["nfvkit-no-such-tool"]), { instanceOf: HostCommandError });
    t.like(missing, { failure: "not-installed", exitCode: 127 });
    t.regex(missing!.message, /nfvkit-no-such-tool is not installed on local \(exit code 127, command not found\)/);
    const started = Date.now();
    const slow = await t.throwsAsync(local.run(["sleep", "20"], { timeoutMs: 300 }), { instanceOf: HostCommandError });
    t.like(slow, { failure: "timeout", exitCode: null, message: "sleep 20 on local failed: timed out after 300 ms and was killed" });
    t.true(Date.now() - started < 5000);
});

test("start() runs in the background and kill() ends it", async (t) => {
    const bg = local.start(["sh", "-c", "echo up; exec sleep 30"]);
    let out = "";
    bg.stdout.on("data", (d: Buffer) => (out += d.toString()));
    while (out === "") await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await bg.kill();
    t.true(Date.now() - started < 5000);
    t.like(await bg.result, { exitCode: null, stdout: "up\n" });
    t.like(await local.start(["true"]).result, { exitCode: 0 });
});

test("files round-trip; missing is .missing", async (t) => {
    const dir = tempDir(t);
    const sub = path.join(dir, "x", "y");
    await local.mkdir(sub);
    const file = path.join(sub, "f.txt");
    await local.writeFile(file, "text\n", { mode: 0o600 });
    t.is(await local.readFile(file), "text\n");
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    t.true(await local.exists(file));
    t.like(await local.stat(file), { size: 5, isFile: true, isDirectory: false, uid: process.getuid!() });
    t.deepEqual(await local.listDir(sub), ["f.txt"]);
    await local.copyTo(file, path.join(sub, "g.txt"));
    t.is(fs.readFileSync(path.join(sub, "g.txt"), "utf8"), "text\n");
    await local.remove(file);
    await local.remove(file);
    t.false(await local.exists(file));
    t.is(await local.stat(file), undefined);
    t.is(await local.tryReadFile(file), undefined);
    const err = await t.throwsAsync(local.readFile(file), { instanceOf: HostFileError });
    t.true(err!.missing);
    t.is(err!.message, `cannot read ${file} on local: it does not exist`);
    const notDir = await t.throwsAsync(local.listDir(path.join(sub, "g.txt")), { instanceOf: HostFileError });
    t.false(notDir!.missing);
    t.regex(notDir!.message, /cannot list .* on local: ENOTDIR/);
});

test("the factory gives this machine by default, one instance per process", (t) => {
    t.is(hostAccess(), hostAccess({ kind: "local" }));
    t.true(hostAccess().local);
    t.is(hostAccess().name, "local");
});

test("the quote helper: POSIX single quotes, plain words left alone", (t) => {
    t.is(shQuote("virsh"), "virsh");
    t.is(shQuote("/dev/hugepages/x-1.2"), "/dev/hugepages/x-1.2");
    t.is(shQuote(""), "''");
    t.is(shQuote("it's"), `'it'\\''s'`);
    t.is(shQuote("FOO=bar"), "'FOO=bar'", "never an assignment");
    t.is(shQuote("a\nb"), "'a\nb'");
    t.is(shJoin(["echo", "$(id)", "a b"]), "echo '$(id)' 'a b'");
});
