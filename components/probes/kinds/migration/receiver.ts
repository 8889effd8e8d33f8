/**
 * The receiver of the guest's packet stream, on this machine (where `pulumi
 * up` or `npm run probe` runs): its address and its process.
 *
 * Its address, when the stack does not set one (`receiver:`): the source
 * address this machine uses on its route to the host, as the kernel's
 * routing table gives it (`ip -j route get <address>`, its `prefsrc`). That
 * is the address a host sees this machine's SSH connection come from, so
 * QEMU's user-mode NIC on that host reaches it the same way; it is read when
 * the program builds the ProbeSuite's inputs.
 */
import { spawn } from "node:child_process";
import { commandFailure, hostAccess } from "../../../host/access";

export async function receiverAddressToward(address: string): Promise<string> {
    const argv = ["ip", "-j", "route", "get", address];
    const route = await hostAccess({ kind: "local" }).run(argv, { nothrow: true, timeoutMs: 10_000 });
    let src: unknown;
    try {
        src = (JSON.parse(route.stdout) as { prefsrc?: string }[])[0]?.prefsrc;
    } catch {
        src = undefined;
    }
    if (route.exitCode !== 0 || typeof src !== "string" || src === "") {
        const failed = commandFailure("local", argv, route);
        throw failed.withFix(
            "set receiver: <this machine's address> in the migration entry",
            `gave no address of this machine that host ${address} reaches, which the migration probe's receiver needs (${failed.reason})`,
        );
    }
    return src;
}

export interface Receiver {
    ready: Promise<void>;
    /** SIGTERM, then its whole output (it prints its summary on the way out). */
    stop(): Promise<string>;
    kill(): void;
}

/** Starts `nfvkit-migload recv` (argv from receiverArgv); `ready` once it listens. */
export function startReceiver(argv: string[]): Receiver {
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const ready = new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
            out += d;
            if (out.includes('"ready":true')) resolve();
        });
        child.stderr.on("data", (d: Buffer) => (err += d));
        child.on("error", reject);
        void exited.then((code) => reject(commandFailure("local", argv, { exitCode: code, stdout: out, stderr: err })));
    });
    return {
        ready,
        async stop() {
            child.kill("SIGTERM");
            await exited;
            return out;
        },
        kill() {
            if (child.exitCode === null) child.kill("SIGKILL");
        },
    };
}
