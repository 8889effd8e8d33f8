/**
 * Text from a stack file (names, values, reasons quoting them) put into a
 * pull request comment: a pull request's author writes that file, so nothing
 * in it may turn into markup, a link or HTML. Pure.
 */

/** Plain text in running Markdown or a table cell: HTML, table pipes and emphasis are shown as written. */
export function mdText(text: string): string {
    return text
        .replace(/&/g, "&amp;")
        .replace(/</g, "&lt;")
        .replace(/>/g, "&gt;")
        .replace(/\|/g, "&#124;")
        .replace(/([\\`*_[\]#~!])/g, "\\$1")
        .replace(/\r?\n/g, " ");
}

/** Inline code, outside tables; a backtick inside is shown as ' (code spans cannot escape it). */
export function mdCode(text: string): string {
    return `\`${text.replace(/`/g, "'").replace(/\r?\n/g, " ")}\``;
}

/** A collapsible block: the summary shows, the body opens on a tap. */
export function details(summary: string, body: string): string {
    return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`;
}

/** `4194304` → `4 MiB`; sizes as the pod spec writes them. */
export function formatBytes(bytes: number): string {
    for (const [unit, size] of [
        ["GiB", 1 << 30],
        ["MiB", 1 << 20],
        ["KiB", 1 << 10],
    ] as const) {
        if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
    }
    return `${bytes} bytes`;
}

/** `1 guest`, `3 guests`. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
    return `${n} ${n === 1 ? noun : plural}`;
}
