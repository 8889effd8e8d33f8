/**
 * Debian's Chromium, headless, for the tests that open a report as a person
 * would: each run with its own throw-away profile, no sandbox (the tests run
 * as root), no GPU, and Chromium's own background services asked to stay
 * quiet. What it cannot be asked to stop (its update and account checks)
 * shows in a net log with the initiator "not an origin"; a request the page
 * makes carries the page's origin ("null" for a file).
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

export const CHROMIUM = "chromium";

/** Whether `chromium` runs here (tools/setup-host.sh installs it). */
export function chromiumAvailable(): boolean {
    return spawnSync(CHROMIUM, ["--version"], { encoding: "utf8" }).status === 0;
}

const FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--no-pings",
    "--hide-scrollbars",
    "--disable-features=NetworkTimeServiceQuerying",
];

export interface ChromiumResult {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** Runs Chromium once with `args` (then the URL), in a fresh profile removed afterwards. */
export function runChromium(args: string[], url: string, timeoutMs = 60_000): Promise<ChromiumResult> {
    const profile = mkdtempSync(path.join(tmpdir(), "nfvkit-chromium-"));
    return new Promise((resolve, reject) => {
        execFile(
            CHROMIUM,
            [...FLAGS, `--user-data-dir=${profile}`, ...args, url],
            { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
            (err, stdout, stderr) => {
                rmSync(profile, { recursive: true, force: true });
                if (err && (err as NodeJS.ErrnoException).code === "ENOENT") return reject(err);
                resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
            },
        );
    });
}

/** One URL request from a Chromium net log (`--log-net-log`): its URL and who started it. */
export interface NetRequest {
    url: string;
    /** The page's origin (`null` for a file page) or `not an origin` for Chromium's own services. */
    initiator: string;
}

/** Every URL request a net log records. */
export function netLogRequests(file: string): NetRequest[] {
    const log = JSON.parse(readFileSync(file, "utf8")) as {
        constants: { logEventTypes: Record<string, number> };
        events: { type: number; params?: { url?: string; initiator?: string } }[];
    };
    const start = log.constants.logEventTypes.URL_REQUEST_START_JOB;
    return log.events
        .filter((e) => e.type === start && typeof e.params?.url === "string")
        .map((e) => ({ url: e.params!.url!, initiator: e.params!.initiator ?? "" }));
}
