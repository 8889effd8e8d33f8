/**
 * A refresh of an RT host only reads (issue 20: a read must not write). The
 * tuning checks run here against this machine's real /proc in their read form,
 * with housekeeping CPU 0: every IRQ affinity is the same afterwards, and an IRQ
 * outside the housekeeping CPUs that the last change did not find kept by the
 * kernel is reported as drift instead of being moved.
 */
import { readdirSync, readFileSync } from "node:fs";
import { hostAccess } from "../../components/host/access";
import { tuningChecks } from "../../components/host/rtHostOperations";
import { realTest } from "../helpers/realParts";

const test = realTest(process.getuid?.() === 0 && readdirSync("/proc/irq").length > 0, "root and /proc/irq");

function affinities(): Map<string, string> {
    const out = new Map<string, string>();
    for (const irq of readdirSync("/proc/irq").filter((n) => /^\d+$/.test(n))) {
        const file = `/proc/irq/${irq}/smp_affinity_list`;
        try {
            out.set(file, readFileSync(file, "utf8").trim());
        } catch {
            // An IRQ without the file (freed while we read) is not ours to compare.
        }
    }
    return out;
}

test("the read form of the tuning checks writes no IRQ affinity and names what lies outside as drift", async (t) => {
    const before = affinities();
    const outside = [...before].filter(([, list]) => list !== "0").map(([file]) => file);
    // Half of them as the kernel's own (as the last up found them), the rest as drift.
    const kept = outside.slice(0, Math.floor(outside.length / 2));
    const { checks, irqsKeptByKernel } = await tuningChecks(hostAccess({ kind: "local" }), { housekeepingCpus: "0", isolatedCpus: "1" }, kept);

    t.deepEqual(affinities(), before, "no IRQ was moved by a read");
    t.deepEqual(irqsKeptByKernel, kept);
    const irqs = checks.find((c) => c.name === "movable IRQs on housekeeping CPUs");
    const drifted = outside.length - kept.length;
    t.is(irqs?.pass, drifted === 0);
    t.is(
        irqs?.found,
        (drifted === 0 ? "within 0" : `${drifted} ${drifted === 1 ? "is" : "are"} outside`) +
            (kept.length === 1
                ? " (1 managed or per-CPU IRQ stays where the kernel keeps it)"
                : kept.length > 1
                  ? ` (${kept.length} managed or per-CPU IRQs stay where the kernel keeps them)`
                  : ""),
    );
});
