/** Escaping shared by the XML-based writers (JUnit, SVG). */

/** Escapes text for XML element content and attribute values. */
export function escapeXml(text: string): string {
    return (
        text
            .replace(/&/g, "&amp;")
            .replace(/</g, "&lt;")
            .replace(/>/g, "&gt;")
            .replace(/"/g, "&quot;")
            .replace(/'/g, "&apos;")
            // XML 1.0 forbids most control characters even when escaped; tool output may carry them (rtla's colour codes).
            // eslint-disable-next-line no-control-regex
            .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, "")
    );
}
