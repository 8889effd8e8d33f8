/**
 * The host gate: before anything is measured, each host of the pod is read
 * through its access (its running kernel: PREEMPT_RT, the hwlat tracer, the
 * boot arguments the plan asks for; host/readiness.ts) and compared with
 * what the pod needs. `probes.hostGate: report` lists what is missing in the
 * reports; `enforce` stops the pipeline there, before any probe runs, and
 * fails with the list. Read at run time, so `pulumi up` and `npm run probe`
 * judge the host as it runs then.
 */
import { assessHostReadiness, describeUnready, readKernelFacts, type HostCheck } from "../../../host/readiness";
import type { Gate } from "../../verdict";
import type { ProbeKindModule } from "../kind";
import { guestsAccel } from "./facts";
import { hostGateHtml } from "./html";

export interface HostGateSettings {
    /**
     * What a host that is not an RT KVM host for the pod (no PREEMPT_RT, missing boot
     * arguments, see host/readiness.ts) does to the suite: `report` lists it in the
     * results; `enforce` fails before probing.
     * @default "report": the host's kernel is the operator's to change, and a pod on an unprepared host still teaches something.
     */
    hostGate: Gate;
}

/** Per host of the pod: its readiness rows, or why it was not read. */
export interface HostGateSection {
    gate: Gate;
    /** `kernel` (uname -r) and `accel` (its guests' libvirt domain type) are what the run history keeps of the host. */
    hosts: { host: string; checks: HostCheck[]; notRead: string | null; kernel?: string | null; accel?: string | null }[];
}

export const hostGate: ProbeKindModule<"hostGate", HostGateSettings, HostGateSection> = {
    name: "hostGate",
    defaults: { hostGate: "report" },
    check(given, ctx) {
        const v = given.hostGate;
        if (v === undefined || v === "enforce" || v === "report") return { settings: { hostGate: v ?? "report" }, problems: [] };
        return {
            settings: { hostGate: "report" },
            problems: [{ path: `${ctx.path}.hostGate`, value: v, reason: "is not a gate", fix: 'write "enforce" or "report"' }],
        };
    },
    // Always: knowing the host is part of every verdict.
    named: () => true,
    async run(ctx) {
        const hosts = await Promise.all(
            Object.values(ctx.hosts).map(async (h) => {
                const accel = await guestsAccel(ctx.guests.filter((g) => g.host === h.name));
                if (!h.access) return { host: h.name, checks: [], notRead: "the kit has no access to it (a remote host without ssh:)", kernel: null, accel };
                try {
                    const facts = await readKernelFacts(h.access);
                    return { host: h.name, checks: assessHostReadiness(facts, h.kernelArgs), notRead: null, kernel: facts.release, accel };
                } catch (err) {
                    return { host: h.name, checks: [], notRead: (err as Error).message.split("\n")[0], kernel: null, accel };
                }
            }),
        );
        return { gate: ctx.config.hostGate, hosts };
    },
    judge(section) {
        const unready = section.hosts.flatMap((h) => describeUnready(h.host, h.checks));
        const notes = [...unready, ...section.hosts.filter((h) => h.notRead).map((h) => `host ${h.host}: readiness not read: ${h.notRead}`)];
        const stop =
            section.gate === "enforce" && unready.length > 0
                ? `host readiness gate failed:\n${unready.map((l) => `  - ${l}`).join("\n")}\nSet probes.hostGate: report to probe anyway.`
                : undefined;
        return { checks: [], notes, ...(stop ? { stop } : {}) };
    },
    report: {
        markdown(section) {
            const rows = section.hosts.flatMap((h) =>
                h.notRead
                    ? [`| ${h.host} | not read | | ${h.notRead.replace(/\|/g, "\\|")} | |`]
                    : h.checks.map(
                          (c) => `| ${h.host} | ${c.name} | ${c.expected.replace(/\|/g, "\\|")} | ${c.found.replace(/\|/g, "\\|")} | ${c.pass ? "✅" : "❌"} |`,
                      ),
            );
            if (rows.length === 0) return "";
            return (
                [
                    "",
                    `### Host readiness (probes.hostGate: ${section.gate}${section.gate === "report" ? ", reported only" : ""})`,
                    "",
                    "| Host | Check | Expected | Found | Ready |",
                    "|---|---|---|---|---|",
                    ...rows,
                ].join("\n") + "\n"
            );
        },
        json: (section) => ({ hosts: section.hosts }),
        charts: () => [],
        html: (section) => hostGateHtml(section),
    },
};
