/**
 * What the run history keeps of a host beside its readiness: the accelerator
 * its guests ran under, read from each guest's running domain (`<domain
 * type='kvm'>` or `'qemu'`, which is TCG), so a figure in the history is
 * never read as hardware when it came from emulation.
 */
import { virsh } from "../../../host/access/virsh";
import type { ProbeGuest } from "../../inputs";

/** `kvm` or `tcg` for a domain's type attribute; the type as written for anything else. */
export function accelOfDomainXml(xml: string): string | null {
    const type = /<domain\b[^>]*\btype=['"]([^'"]+)['"]/.exec(xml)?.[1];
    if (!type) return null;
    return type === "qemu" ? "tcg" : type;
}

/** The accelerator of the guests on one host (their distinct types joined); null with no guest there or none readable. */
export async function guestsAccel(guests: readonly ProbeGuest[]): Promise<string | null> {
    const types = await Promise.all(
        guests.map(async (g) => {
            try {
                return accelOfDomainXml(await virsh(g.uri, ["dumpxml", g.domain], { timeoutMs: 30_000 }));
            } catch {
                // A guest not running or not reachable: the history says null rather than guess.
                return null;
            }
        }),
    );
    const distinct = [...new Set(types.filter((t): t is string => t !== null))];
    return distinct.length > 0 ? distinct.join("+") : null;
}
