/**
 * Value objects for the quantities a pod spec holds. Each is parsed once at
 * the edge (`parse` / `tryParse`) and passed around typed afterwards; the
 * constructors are private so nothing half-checked exists.
 */
import { ProblemListError, type SpecProblem } from "./problems";

/** Outcome of `tryParse`: the value, or the problem naming the YAML path. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: SpecProblem };

function fail<T>(path: string, value: unknown, reason: string, fix: string): ParseResult<T> {
    return { ok: false, problem: { path, value, reason, fix } };
}

function orThrow<T>(result: ParseResult<T>): T {
    if (!result.ok) throw new ProblemListError([result.problem]);
    return result.value;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const maxMemoryBytes = 1024 * TiB;
const sizeUnits: Record<string, number> = { "": 1, b: 1, k: KiB, kib: KiB, m: MiB, mib: MiB, g: GiB, gib: GiB, t: TiB, tib: TiB };

/**
 * A memory size in bytes. Strings carry a binary unit: "2048K", "256M", "1G"
 * ("256MiB" and "256m" also work; K, M, G, T always mean 1024^n, as in libvirt
 * and the kernel's hugepage sizes). A bare YAML number is a count of bytes,
 * so `memory: 256` is 256 bytes and is caught by the checks that follow
 * (minimum size, page multiple); write "256M".
 */
export class MemorySize {
    private constructor(readonly bytes: number) {}

    static tryParse(value: unknown, path: string): ParseResult<MemorySize> {
        const fix = 'write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"';
        let bytes: number;
        if (typeof value === "number") {
            bytes = value;
        } else if (typeof value === "string") {
            const match = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
            if (!match) return fail(path, value, "is not a memory size", fix);
            const unit = match[2].toLowerCase();
            if (unit === "kb" || unit === "mb" || unit === "gb" || unit === "tb") {
                return fail(
                    path,
                    value,
                    `has the decimal unit "${match[2]}", which is ambiguous for memory`,
                    `write "${match[1]}${match[2][0].toUpperCase()}" (1024-based)`,
                );
            }
            const factor = sizeUnits[unit];
            if (factor === undefined) return fail(path, value, `has an unknown unit "${match[2]}"`, fix);
            bytes = Number(match[1]) * factor;
        } else {
            return fail(path, value, "is not a memory size", fix);
        }
        if (!Number.isSafeInteger(bytes)) return fail(path, value, "is not a whole number of bytes", fix);
        // Far above any host's memory and far below where arithmetic on bytes loses precision (2^53).
        if (bytes > maxMemoryBytes) return fail(path, value, "is more than 1024T, past any memory the kit handles", 'write a size such as "256M" or "1G"');
        if (bytes <= 0) return fail(path, value, "must be more than zero", fix);
        return { ok: true, value: new MemorySize(bytes) };
    }

    static parse(value: unknown, path: string): MemorySize {
        return orThrow(MemorySize.tryParse(value, path));
    }

    static ofBytes(bytes: number): MemorySize {
        return MemorySize.parse(bytes, "bytes");
    }

    static ofKibibytes(kib: number): MemorySize {
        return MemorySize.parse(kib * KiB, "kibibytes");
    }

    static ofMebibytes(mib: number): MemorySize {
        return MemorySize.parse(mib * MiB, "mebibytes");
    }

    get kibibytes(): number {
        return this.bytes / KiB;
    }

    get mebibytes(): number {
        return this.bytes / MiB;
    }

    /** True when this size is a whole number of `other`s (a memory size and a page size, say). */
    isMultipleOf(other: MemorySize): boolean {
        return this.bytes % other.bytes === 0;
    }

    isPowerOfTwo(): boolean {
        const b = BigInt(this.bytes);
        return (b & (b - 1n)) === 0n;
    }

    /** Canonical text in the largest unit that divides it: "2M", "1G", "1536M", "1000B". */
    toString(): string {
        for (const [suffix, factor] of [
            ["T", TiB],
            ["G", GiB],
            ["M", MiB],
            ["K", KiB],
        ] as const) {
            if (this.bytes % factor === 0) return `${this.bytes / factor}${suffix}`;
        }
        return `${this.bytes}B`;
    }
}

/** Highest CPU number accepted; the kernel's NR_CPUS tops out at 8192. */
const maxCpu = 8191;

/**
 * A set of host (or guest) CPU numbers, written as in the kernel and libvirt:
 * "0-3,8". A YAML number is one CPU and a YAML list of numbers is taken as is.
 * `cpus` is sorted and without duplicates; `toString()` gives the canonical
 * range form, "" for the empty set.
 */
export class CpuSet {
    private constructor(readonly cpus: readonly number[]) {}

    static tryParse(value: unknown, path: string): ParseResult<CpuSet> {
        const fix = 'write CPU numbers and ranges, e.g. "0-3,8"';
        const cpus: number[] = [];
        let work = 0;
        const addOne = (n: number): string | undefined => {
            if (!Number.isInteger(n) || n < 0 || n > maxCpu) return `CPU ${n} is not a CPU number (0-${maxCpu})`;
            cpus.push(n);
            return undefined;
        };
        if (typeof value === "number") {
            const err = addOne(value);
            if (err) return fail(path, value, err, fix);
        } else if (Array.isArray(value)) {
            for (const item of value) {
                if (typeof item !== "number") return fail(path, value, "is a list with a non-number in it", fix);
                const err = addOne(item);
                if (err) return fail(path, value, err, fix);
            }
        } else if (typeof value === "string") {
            const text = value.replace(/\s+/g, "");
            if (text !== "") {
                for (const part of text.split(",")) {
                    const match = /^(\d+)(?:-(\d+))?$/.exec(part);
                    if (!match) return fail(path, value, `has "${part}", which is neither a CPU number nor a range`, fix);
                    const first = Number(match[1]);
                    const last = match[2] === undefined ? first : Number(match[2]);
                    if (last < first) return fail(path, value, `has the backwards range "${part}"`, `write "${last}-${first}"`);
                    // Checked before the loop, so "0-999999999" costs nothing and many overlapping ranges cannot add up.
                    if (last > maxCpu) return fail(path, value, `CPU ${last} is not a CPU number (0-${maxCpu})`, fix);
                    if ((work += last - first + 1) > 4 * (maxCpu + 1))
                        return fail(path, value, "lists the same CPUs over and over", 'write each CPU once, e.g. "0-3,8"');
                    for (let n = first; n <= last; n++) {
                        const err = addOne(n);
                        if (err) return fail(path, value, err, fix);
                    }
                }
            }
        } else {
            return fail(path, value, "is not a CPU set", fix);
        }
        return { ok: true, value: CpuSet.of(cpus) };
    }

    static parse(value: unknown, path: string): CpuSet {
        return orThrow(CpuSet.tryParse(value, path));
    }

    /** A set from CPU numbers the caller already trusts (planner output). */
    static of(cpus: Iterable<number>): CpuSet {
        return new CpuSet([...new Set(cpus)].sort((a, b) => a - b));
    }

    has(cpu: number): boolean {
        return this.cpus.includes(cpu);
    }

    get size(): number {
        return this.cpus.length;
    }

    /** Its CPUs in ascending order, so a set goes wherever CPU numbers do (formatCpuList, spreads). */
    [Symbol.iterator](): Iterator<number> {
        return this.cpus[Symbol.iterator]();
    }

    toString(): string {
        return formatCpuList(this.cpus);
    }
}

/** Canonical "0-3,8" text of CPU numbers (sorted, deduplicated); "" when empty. */
export function formatCpuList(cpus: Iterable<number>): string {
    const sorted = [...new Set(cpus)].sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < sorted.length;) {
        let j = i;
        while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
        parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
        i = j + 1;
    }
    return parts.join(",");
}

/**
 * A PCI address, "0000:01:10.2" (domain:bus:slot.function, hex). The domain
 * may be left out ("01:10.2" means domain 0000). `toString()` is the full
 * lower-case form that sysfs and libvirt use.
 */
export class PciAddress {
    private constructor(
        readonly domain: number,
        readonly bus: number,
        readonly slot: number,
        readonly fn: number,
    ) {}

    static tryParse(value: unknown, path: string): ParseResult<PciAddress> {
        const fix = 'write the VF\'s address as in `lspci -D`, e.g. "0000:01:10.2"';
        if (typeof value !== "string") return fail(path, value, "is not a PCI address", fix);
        const match = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(value.trim());
        if (!match) return fail(path, value, "is not a PCI address", fix);
        const slot = parseInt(match[3], 16);
        if (slot > 0x1f) return fail(path, value, `has slot 0x${match[3]}, above the PCI maximum 0x1f`, fix);
        return { ok: true, value: new PciAddress(parseInt(match[1] ?? "0", 16), parseInt(match[2], 16), slot, parseInt(match[4], 16)) };
    }

    static parse(value: unknown, path: string): PciAddress {
        return orThrow(PciAddress.tryParse(value, path));
    }

    toString(): string {
        const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");
        return `${hex(this.domain, 4)}:${hex(this.bus, 2)}:${hex(this.slot, 2)}.${this.fn}`;
    }
}

/**
 * An Ethernet unicast MAC address, "52:54:00:00:00:01" (dashes accepted).
 * Multicast and all-zero addresses are refused: a NIC cannot own them and
 * libvirt rejects them. `toString()` is lower case with colons.
 */
export class MacAddress {
    private constructor(readonly octets: readonly number[]) {}

    static tryParse(value: unknown, path: string): ParseResult<MacAddress> {
        const fix = 'write six hex octets, e.g. "52:54:00:00:00:01"';
        if (typeof value !== "string" || !/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(value.trim())) {
            return fail(path, value, "is not a MAC address", fix);
        }
        const octets = value
            .trim()
            .split(/[:-]/)
            .map((o) => parseInt(o, 16));
        if (octets[0] & 1)
            return fail(path, value, "is a multicast address, which a NIC cannot own", 'clear the lowest bit of the first octet, e.g. "52:54:00:..."');
        if (octets.every((o) => o === 0)) return fail(path, value, "is the all-zero address", fix);
        return { ok: true, value: new MacAddress(octets) };
    }

    static parse(value: unknown, path: string): MacAddress {
        return orThrow(MacAddress.tryParse(value, path));
    }

    toString(): string {
        return this.octets.map((o) => o.toString(16).padStart(2, "0")).join(":");
    }
}
