/**
 * JUnit XML in the common Jenkins/Ant layout, so CI systems show the probes
 * as tests: one testsuite per guest, one testcase per probe × metric, a
 * <failure> carrying the failure message. Tool versions and command lines go
 * into the suite's properties.
 */
import type { AnyProbeKind } from "../kinds/kind";
import { PROBE_KINDS } from "../kinds/registry";
import { formatTarget, type Verdict } from "../verdict";
import { escapeXml } from "./escape";

export interface JunitOptions {
    /** Name of the root <testsuites>. @default "probes" */
    name?: string;
    /** Whose properties to write. @default the registry's */
    kinds?: readonly AnyProbeKind[];
}

export function junitReport(verdict: Verdict, opts: JunitOptions = {}): string {
    const guests = [...new Set(verdict.checks.map((c) => c.guest))];
    const total = verdict.checks.length;
    const failed = verdict.checks.filter((c) => !c.pass).length;
    const out: string[] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites name="${escapeXml(opts.name ?? "probes")}" tests="${total}" failures="${failed}" errors="0" time="0">`,
    ];
    for (const guest of guests) {
        const checks = verdict.checks.filter((c) => c.guest === guest);
        // Each kind's properties of this guest: the latency tools' versions and commands.
        const properties = (opts.kinds ?? PROBE_KINDS).flatMap((kind) => {
            const section = (verdict.sections as Record<string, unknown>)[kind.name];
            return section !== undefined && kind.report.junitProperties ? kind.report.junitProperties(section, guest) : [];
        });
        const suiteFailed = checks.filter((c) => !c.pass).length;
        out.push(`  <testsuite name="${escapeXml(guest)}" tests="${checks.length}" failures="${suiteFailed}" errors="0" skipped="0" time="0">`);
        if (properties.length > 0) {
            out.push("    <properties>");
            for (const p of properties) out.push(`      <property name="${escapeXml(p.name)}" value="${escapeXml(p.value)}"/>`);
            out.push("    </properties>");
        }
        for (const c of checks) {
            const name = `${c.name} ${c.statistic} (target ${c.target.op === "<=" ? "≤ " : ""}${formatTarget(c.target)})`;
            const open = `    <testcase classname="${escapeXml(`${guest}.${c.probe}`)}" name="${escapeXml(name)}" time="0"`;
            if (c.pass) {
                out.push(`${open}/>`);
            } else {
                const msg = escapeXml(c.message ?? "failed");
                out.push(
                    `${open}>`,
                    `      <failure message="${msg}" type="${c.measuredUs === null ? "NoSamples" : "TargetMissed"}">${msg}</failure>`,
                    "    </testcase>",
                );
            }
        }
        out.push("  </testsuite>");
    }
    out.push("</testsuites>");
    return out.join("\n") + "\n";
}
