/**
 * Names the kit derives for things on a host (libvirt domains, shm files)
 * and the rule for names users give. Derived names are deterministic and
 * length-safe: when prefix + name is too long, it is cut and a short hash of
 * the full name is appended, so two long names never collide by truncation.
 */
import { createHash } from "node:crypto";

/** Names users give (hosts, guests, links) and the name prefix: safe in a shell word, a file name and an XML attribute. */
export const safeNamePattern = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Longest user-given name; also the longest derived name (a DNS label, which libvirt and tools handle everywhere). */
export const maxNameLength = 63;

/**
 * The prefix of every name a stack derives (domains, shm files):
 * `<project>-<stack>`, so two stacks on one host never collide. Defined here
 * once; the program, the CLIs (through loadStack) and TestPod's default use it.
 */
export function stackNamePrefix(project: string, stack: string): string {
    return `${project}-${stack}`;
}

/** `<prefix>-<name>`, cut to `maxLength` with an 8-hex-digit hash suffix when longer. */
export function deriveName(prefix: string, name: string, maxLength = maxNameLength): string {
    const full = prefix === "" ? name : `${prefix}-${name}`;
    if (full.length <= maxLength) return full;
    const hash = createHash("sha256").update(full).digest("hex").slice(0, 8);
    return `${full.slice(0, maxLength - hash.length - 1).replace(/[-_]+$/, "")}-${hash}`;
}

/** Closest candidate within a small edit distance, for "did you mean" hints. */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
    const allowed = Math.max(1, Math.floor(word.length / 3));
    const lower = word.toLowerCase();
    let best: string | undefined;
    let bestDistance = allowed + 1;
    for (const candidate of candidates) {
        // Lengths further apart than the allowance cannot match: skipped without the quadratic distance.
        if (Math.abs(candidate.length - word.length) >= bestDistance) continue;
        const d = candidate.toLowerCase() === lower ? 0 : editDistance(word, candidate, bestDistance - 1);
        if (d < bestDistance) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

/** Levenshtein distance, or `limit + 1` as soon as it must exceed `limit` (a hint needs no exact figure past it). */
function editDistance(a: string, b: string, limit: number): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diagonal = row[0];
        row[0] = i;
        let rowMin = row[0];
        for (let j = 1; j <= b.length; j++) {
            const above = row[j];
            row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
            diagonal = above;
            if (row[j] < rowMin) rowMin = row[j];
        }
        if (rowMin > limit) return limit + 1;
    }
    return row[b.length];
}

/** A stack config key name, as host ssh.privateKeySecret must give it (never the key itself). */
export const configKeyPattern = /^[A-Za-z][A-Za-z0-9_-]*$/;
