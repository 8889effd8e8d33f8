/**
 * An S3 endpoint on this machine for the tests of the S3 team backend:
 * `nfvkit-s3` (tools/s3: gofakes3's S3 protocol on an in-memory store, every
 * request's SigV4 signature checked against one key pair), built by
 * tools/bootstrap.sh and linked into .state/bin. Started on a free loopback
 * port with one bucket; stopped in the test's teardown.
 *
 * The key pair is made up for each start and lives only in environments: the
 * server's, and the one this helper returns for pulumi and the kit. It is
 * never on a command line, in a URL or on disk, and the bucket is in the
 * server's memory, so nothing is left once it stops. The server also stops
 * by itself when its stdin closes, so a test process killed with SIGKILL
 * leaves no server behind.
 */
import type { ExecutionContext } from "ava";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../tools/cli/engine";

export interface S3Server {
    /** The Pulumi backend URL of the bucket: `s3://<bucket>?endpoint=http://127.0.0.1:<port>&...`; holds no key. */
    backendUrl: string;
    bucket: string;
    /** `http://127.0.0.1:<port>` */
    endpoint: string;
    /** What pulumi and the kit need to reach the bucket: the backend URL and the key pair. */
    env: NodeJS.ProcessEnv;
    /** Keys under `prefix` in the bucket, through the kit's reader (nfvkit-blob), as the engine sees them. */
    list(prefix: string): string[];
    /** An object's text, or undefined. */
    read(key: string): string | undefined;
}

/** Starts nfvkit-s3 with one bucket and a new key pair; its teardown stops it. */
export async function startS3(t: ExecutionContext, bucket = "nfvkit-state"): Promise<S3Server> {
    const bin = path.join(projectRoot, ".state", "bin");
    if (!existsSync(path.join(bin, "nfvkit-s3"))) throw new Error("nfvkit-s3 is not built: run npm run bootstrap (it builds tools/s3 with Go)");
    const keys = { AWS_ACCESS_KEY_ID: `NFVKIT${randomBytes(7).toString("hex").toUpperCase()}`, AWS_SECRET_ACCESS_KEY: randomBytes(30).toString("base64url") };
    const child = spawn(path.join(bin, "nfvkit-s3"), ["-bucket", bucket], {
        env: { PATH: process.env.PATH, ...keys },
        stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    t.teardown(async () => {
        child.stdin.end();
        const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5_000))]);
        if (!stopped) {
            child.kill("SIGKILL");
            await exited;
        }
    });
    const endpoint = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (d: Buffer) => {
            out += d;
            if (out.includes("\n")) resolve(out.trim());
        });
        child.on("close", (code) => reject(new Error(`nfvkit-s3 exited (${code}) before it listened: ${stderr}`)));
    });

    const backendUrl = `s3://${bucket}?endpoint=${endpoint}&s3ForcePathStyle=true&region=us-east-1`;
    const env: NodeJS.ProcessEnv = {
        PULUMI_BACKEND_URL: backendUrl,
        ...keys,
        AWS_REGION: "us-east-1",
        // No config, profile or key file of the machine's user may change what the test reaches.
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    };
    const blob = (args: string[]) => spawnSync(path.join(bin, "nfvkit-blob"), args, { env: { ...process.env, ...env }, encoding: "utf8", timeout: 30_000 });
    return {
        backendUrl,
        bucket,
        endpoint,
        env,
        list(prefix) {
            const r = blob(["list", prefix]);
            if (r.status !== 0) throw new Error(`nfvkit-blob list ${prefix} failed: ${r.stderr}${stderr}`);
            return JSON.parse(r.stdout) as string[];
        },
        read(key) {
            const r = blob(["get", key]);
            if (r.status === 3) return undefined;
            if (r.status !== 0) throw new Error(`nfvkit-blob get ${key} failed: ${r.stderr}${stderr}`);
            return r.stdout;
        },
    };
}
