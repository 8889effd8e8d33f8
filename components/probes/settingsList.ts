/**
 * The shape shared by the probe settings that are lists of mappings
 * (`probes.interVm`, `probes.migration`): a list, each entry a mapping of
 * known keys, every problem at `<path>[i].<key>` with the value as written,
 * and an entry kept only when it has no problem of its own. Each probe's
 * module says what its keys mean; this says how a list entry is read.
 *
 * Shape and cross-references are checked in one pass: every entry that is a
 * mapping is also checked against the pod (`against`), whatever problems its
 * shape has, so a typo in one entry never hides an unknown name in another,
 * nor in itself. A cross-reference problem on a path the shape check already
 * reported is not said twice.
 */
import { closestMatch } from "../spec/names";
import type { SpecProblem } from "../spec/problems";

export interface ListShape {
    /** What the list holds, for its reason: "links to measure". */
    listOf: string;
    /** One entry as a user writes it, for the fixes: "{ link: ring0, ... }". */
    example: string;
    /** The keys an entry may have. */
    keys: readonly string[];
    /** The setting's name in "is not a(n) … setting". */
    settingName: string;
}

/** One entry being read: its fields, and helpers that report a problem and fall back. */
export interface SettingEntry {
    fields: Record<string, unknown>;
    bad: (key: string, reason: string, fix: string) => void;
    /** A whole number in [min, max]; the fallback when absent or wrong. */
    whole: (key: string, min: number, max: number, fallback: number) => number;
    /** true or false; the fallback when absent or wrong. */
    flag: (key: string, fallback: boolean) => boolean;
}

export function checkSettingsList<T>(
    raw: unknown,
    path: string,
    shape: ListShape,
    read: (entry: SettingEntry) => T,
    against?: (setting: T, at: string) => SpecProblem[],
): { settings: T[]; problems: SpecProblem[] } {
    const problems: SpecProblem[] = [];
    const settings: T[] = [];
    if (raw === undefined || raw === null) return { settings, problems };
    if (!Array.isArray(raw)) {
        problems.push({ path, value: raw, reason: `must be a list of ${shape.listOf}`, fix: `write e.g. [${shape.example}]` });
        return { settings, problems };
    }
    raw.forEach((item: unknown, i: number) => {
        const at = `${path}[${i}]`;
        if (typeof item !== "object" || item === null || Array.isArray(item)) {
            problems.push({ path: at, value: item, reason: "must be a mapping", fix: `write e.g. ${shape.example}` });
            return;
        }
        const fields = item as Record<string, unknown>;
        const before = problems.length;
        const bad = (key: string, reason: string, fix: string) => problems.push({ path: `${at}.${key}`, value: fields[key], reason, fix });
        for (const key of Object.keys(fields)) {
            if (shape.keys.includes(key)) continue;
            const guess = closestMatch(key, shape.keys);
            bad(key, `is not ${shape.settingName} setting`, guess ? `did you mean "${guess}"?` : `use one of ${shape.keys.join(", ")}`);
        }
        const whole = (key: string, min: number, max: number, fallback: number): number => {
            const v = fields[key];
            if (v === undefined) return fallback;
            if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
            bad(key, `must be a whole number from ${min} to ${max}`, `write e.g. ${fallback}`);
            return fallback;
        };
        const flag = (key: string, fallback: boolean): boolean => {
            const v = fields[key];
            if (v === undefined) return fallback;
            if (typeof v === "boolean") return v;
            bad(key, "must be true or false", "write true or false (without quotes)");
            return fallback;
        };
        const setting = read({ fields, bad, whole, flag });
        const reported = new Set(problems.slice(before).map((p) => p.path));
        problems.push(...(against?.(setting, at) ?? []).filter((p) => !reported.has(p.path)));
        if (problems.length === before) settings.push(setting);
    });
    return { settings, problems };
}
