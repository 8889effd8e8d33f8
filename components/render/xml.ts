/** Minimal XML text helpers for the renderers: escaping, nothing more. */

/** Escapes text for an XML attribute value in single quotes or element content. */
export function xmlEscape(value: string | number): string {
    return String(value).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&apos;").replace(/"/g, "&quot;");
}
