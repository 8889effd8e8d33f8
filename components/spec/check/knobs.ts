/** `knobs:` of a guest and `guestKnobs:` of a host: the NFV tuning knobs over their defaults. */
import { defaultKnobs, type DomainKnobs } from "../knobs";
import { joinPath } from "../problems";
import type { SpecReader } from "../reader";

export function readKnobs(r: SpecReader, value: unknown, path: string, base: DomainKnobs): DomainKnobs {
    const knobs: DomainKnobs = { ...base };
    if (value === undefined || value === null) return knobs;
    const spec = r.object(value, path, Object.keys(defaultKnobs));
    if (!spec) return knobs;
    for (const key of Object.keys(defaultKnobs) as (keyof DomainKnobs)[]) {
        const p = joinPath(path, key);
        const v = spec[key];
        if (v === undefined) continue;
        const kind = typeof defaultKnobs[key];
        if (kind === "boolean") {
            const b = r.boolean(v, p);
            if (b !== undefined) (knobs as unknown as Record<string, unknown>)[key] = b;
        } else if (kind === "number") {
            const n = r.integer(v, p, 0, 1 << 20);
            if (n !== undefined) (knobs as unknown as Record<string, unknown>)[key] = n;
        } else {
            const s = r.string(v, p);
            if (s !== undefined && !/^[A-Za-z0-9_.-]+$/.test(s))
                r.report(p, s, "is not a CPU model name", 'write a model libvirt knows, e.g. "maximum" or "qemu64"');
            else if (s !== undefined) (knobs as unknown as Record<string, unknown>)[key] = s;
        }
    }
    return knobs;
}
