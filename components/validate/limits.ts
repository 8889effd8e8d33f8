/**
 * The input limits every stack file and stack config is held to. Each is far
 * above what a real pod needs and far below what makes validation slow or
 * crash, so a limit that is broken is said in under a second, with where.
 */

/** Largest stack or spec file read: a pod of thousands of guests is well under 1 MiB. */
export const maxFileBytes = 8 * 1024 * 1024;

/**
 * Most values (mappings, lists, scalars) a config may hold once YAML aliases
 * are expanded. A file of 8 MiB holds under two million values as written;
 * aliases that repeat data past this are an expansion attack ("billion laughs"),
 * not a pod.
 */
export const maxValues = 2_000_000;

/** Deepest nesting of mappings and lists under a config key; a pod spec needs 6. */
export const maxDepth = 32;

/** Control characters: they hide in terminals and copy-paste, and no name, size or URI holds one. Tab, LF and CR are text. */
export const controlCharacters = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]/;
