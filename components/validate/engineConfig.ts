/**
 * The stack config as the engine hands it to the program: PULUMI_CONFIG, a
 * JSON object of every config key (all namespaces) with string values, and
 * PULUMI_CONFIG_SECRET_KEYS, the keys that were secret. Structured values
 * arrive as JSON text and numbers as their digits; this turns them back into
 * what the stack file holds, so validateStack sees the same values either way.
 * Pure: the caller passes the environment.
 */

export interface EngineConfig {
    config: Record<string, unknown>;
    secretKeys: string[];
}

export function stackConfigFromEngine(env: { PULUMI_CONFIG?: string; PULUMI_CONFIG_SECRET_KEYS?: string }): EngineConfig {
    const raw = parseJson(env.PULUMI_CONFIG ?? "{}");
    const secretKeys = parseJson(env.PULUMI_CONFIG_SECRET_KEYS ?? "[]");
    const config: Record<string, unknown> = {};
    if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
        for (const [key, value] of Object.entries(raw)) config[key] = typeof value === "string" ? typed(value) : value;
    }
    return { config, secretKeys: Array.isArray(secretKeys) ? secretKeys.filter((k): k is string => typeof k === "string") : [] };
}

/**
 * A config string as YAML typed it: JSON mappings and lists parsed, numbers and booleans as such, anything else as text.
 * Also how a stack file's top-level value that `pulumi config set` wrote as a string ("true", "300") is read.
 */
export function typed(text: string): unknown {
    if (/^\s*[[{]/.test(text)) {
        const parsed = parseJson(text);
        return parsed === undefined ? text : parsed;
    }
    if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(text)) return Number(text);
    if (text === "true" || text === "false") return text === "true";
    return text;
}

function parseJson(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}
