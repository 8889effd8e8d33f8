/**
 * `npm run lab -- up [--hosts N] | down | status`: the emulated multi-host
 * lab on this machine (docs/lab.md).
 */
import { LAB_DEFAULT_HOSTS } from "../lab/layout";
import { labDown, labStatus, labUp } from "../lab/lab";

const usage = "usage: npm run lab -- up [--hosts N] | down | status [--kind ns|vm]";

async function main(argv: string[]): Promise<number> {
    // `--kind vm`: the emulated VM host (tools/lab/vm/), one QEMU VM instead of namespaces.
    const kind = argv.indexOf("--kind");
    if (kind >= 0) {
        const rest = argv.filter((_, i) => i !== kind && i !== kind + 1);
        if (argv[kind + 1] === "vm") return (await import("../lab/vm/cli")).vmLab(rest[0]);
        if (argv[kind + 1] !== "ns") {
            console.error(`lab: unknown --kind ${argv[kind + 1] ?? ""}: write vm (one emulated VM host) or ns (namespaced hosts, the default)`);
            return 2;
        }
        argv = rest;
    }
    const [command, ...rest] = argv;
    const at = rest.indexOf("--hosts");
    const hosts = at >= 0 ? Number(rest[at + 1]) : undefined;
    const unknown = rest.filter((a, i) => !(a === "--hosts" || (at >= 0 && i === at + 1)));
    if (unknown.length > 0 || (at >= 0 && command !== "up")) {
        console.error(`lab: unexpected ${unknown.join(" ") || "--hosts"}\n${usage}`);
        return 2;
    }
    switch (command) {
        case "up":
            await labUp({ hosts: hosts ?? undefined });
            return 0;
        case "down":
            await labDown();
            return 0;
        case "status": {
            const s = await labStatus();
            const broken = s.hosts.some((h) => !(h.namespace && h.holder && h.libvirtd && h.sshd && h.overSsh)) || s.leftovers.length > 0;
            return broken ? 1 : 0;
        }
        default:
            console.error(
                `${usage}\n  up: build ${LAB_DEFAULT_HOSTS} hosts (or N), or say what runs; down: remove everything the lab made; status: what runs and what answers`,
            );
            return 2;
    }
}

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
        console.error(err instanceof Error ? err.message : err);
        process.exitCode = 1;
    },
);
