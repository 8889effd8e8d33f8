/**
 * Reads untyped YAML data field by field, collecting a problem for every
 * wrong type, unknown key or missing field instead of stopping at the first.
 * Each read returns `undefined` when the value is unusable, so callers skip
 * checks that depend on it without piling up follow-on errors.
 */
import { closestMatch } from "./names";
import { formatValue, joinPath, type SpecProblem } from "./problems";
import type { ParseResult } from "./units";

export class SpecReader {
    readonly problems: SpecProblem[] = [];

    report(path: string, value: unknown, reason: string, fix: string): void {
        this.problems.push({ path, value, reason, fix });
    }

    /** A mapping with only `known` keys; reports missing `required` keys and unknown ones (with "did you mean"). */
    object(value: unknown, path: string, known: readonly string[], required: readonly string[] = []): Record<string, unknown> | undefined {
        if (value === null || typeof value !== "object" || Array.isArray(value)) {
            this.report(path, value, "must be a mapping", `write fields as "key: value" lines under it (${known.join(", ")})`);
            return undefined;
        }
        const record = value as Record<string, unknown>;
        for (const key of Object.keys(record)) {
            if (known.includes(key)) continue;
            const guess = closestMatch(key, known);
            this.report(
                joinPath(path, key),
                record[key],
                "is not a known field",
                guess ? `did you mean "${guess}"?` : `remove it; known fields are ${known.join(", ")}`,
            );
        }
        for (const key of required) {
            if (record[key] === undefined || record[key] === null) {
                this.report(joinPath(path, key), undefined, "is required", `add ${key}`);
            }
        }
        return record;
    }

    list(value: unknown, path: string, example: string): unknown[] | undefined {
        if (value === undefined || value === null) return undefined;
        if (!Array.isArray(value)) {
            this.report(path, value, "must be a list", `write a YAML list, e.g. ${example}`);
            return undefined;
        }
        return value;
    }

    string(value: unknown, path: string): string | undefined {
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "string" || value === "") {
            this.report(path, value, "must be a non-empty string", "write a text value");
            return undefined;
        }
        return value;
    }

    boolean(value: unknown, path: string): boolean | undefined {
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "boolean") {
            this.report(path, value, "must be true or false", "write true or false (without quotes)");
            return undefined;
        }
        return value;
    }

    integer(value: unknown, path: string, min: number, max: number): number | undefined {
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "number" || !Number.isInteger(value)) {
            this.report(path, value, "must be a whole number", `write a number from ${min} to ${max}`);
            return undefined;
        }
        if (value < min || value > max) {
            this.report(path, value, `is out of range ${min}-${max}`, `write a number from ${min} to ${max}`);
            return undefined;
        }
        return value;
    }

    /** One of `choices`, as written (they are case-sensitive, as libvirt's are). */
    choice<T extends string>(value: unknown, path: string, choices: readonly T[]): T | undefined {
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
            const guess = typeof value === "string" ? closestMatch(value, choices) : undefined;
            this.report(
                path,
                value,
                `must be one of ${choices.map((c) => formatValue(c)).join(", ")}`,
                guess ? `did you mean "${guess}"?` : `write one of ${choices.join(", ")}`,
            );
            return undefined;
        }
        return value as T;
    }

    /** Runs a value object's tryParse, recording its problem. */
    unit<T>(result: ParseResult<T>): T | undefined {
        if (result.ok) return result.value;
        this.problems.push(result.problem);
        return undefined;
    }

    /** A list of distinct whole numbers each in [min, max]. */
    integerList(value: unknown, path: string, min: number, max: number): number[] | undefined {
        const items = this.list(value, path, `[${min}]`);
        if (!items) return undefined;
        const out: number[] = [];
        let ok = true;
        items.forEach((item, i) => {
            const n = this.integer(item, joinPath(path, i), min, max);
            if (n === undefined) ok = false;
            else if (out.includes(n)) {
                this.report(joinPath(path, i), item, `repeats ${n}`, "list each number once");
                ok = false;
            } else out.push(n);
        });
        return ok ? out : undefined;
    }

    /** Reports `name` when it is already in `seen` (a map name → path of first use). */
    unique(name: string, path: string, seen: Map<string, string>, what: string): void {
        const first = seen.get(name);
        if (first !== undefined) this.report(path, name, `repeats the ${what} name already used at ${first}`, `give each ${what} its own name`);
        else seen.set(name, path);
    }

    /** Reports a reference to an unknown name, with "did you mean". */
    unknownReference(path: string, value: string, what: string, known: Iterable<string>): void {
        const names = [...known];
        const guess = closestMatch(value, names);
        this.report(
            path,
            value,
            `is not a ${what} of this pod`,
            guess ? `did you mean "${guess}"?` : names.length ? `use one of ${names.map((n) => formatValue(n)).join(", ")}` : `declare the ${what} first`,
        );
    }
}
