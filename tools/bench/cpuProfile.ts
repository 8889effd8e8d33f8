/**
 * Reads a V8 CPU profile (node --cpu-prof) and says where the time went:
 * by function (self time), and by the outermost frame of ours or of a
 * package on the stack, which is what a person can change.
 */
import * as path from "node:path";

/** The parts of a .cpuprofile this reader uses. */
export interface CpuProfile {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
}

/** One line of a summary. */
export interface ProfileEntry {
    /** `function (file:line)`, or a package/area name. */
    what: string;
    /** Milliseconds. */
    ms: number;
}

/** A named part of the work, recognised by the frames on the stack. */
export interface HotPath {
    /** What a person calls it, e.g. "closure serialization of dynamic providers". */
    label: string;
    /** Script URLs that belong to it. */
    files?: RegExp;
    /** Function names that belong to it. */
    functions?: string[];
}

/**
 * The parts of a Pulumi Node.js program's work worth telling apart. Inclusive
 * and synchronous only: time spent under an await shows under its callback.
 */
export const pulumiHotPaths: HotPath[] = [
    { label: "loading modules (require, tsx transpile)", functions: ["wrapModuleLoad", "Module._load"] },
    { label: "closure serialization of dynamic providers (@pulumi/pulumi runtime/closure)", files: /\/runtime\/closure\// },
    { label: "stack traces for promise debugging (@pulumi/pulumi debuggablePromise)", functions: ["debuggablePromise"] },
    { label: "stack traces for resource source positions (Resource.callsites)", functions: ["callsites"] },
    { label: "source-map lookups in stack traces (source-map-support)", files: /source-map-support/ },
    { label: "gRPC to the engine (@grpc/grpc-js, protobuf)", files: /@grpc\/grpc-js|google-protobuf/ },
    { label: "property serialization (@pulumi/pulumi runtime/rpc)", files: /\/runtime\/rpc\.js/ },
    { label: "the kit's components (components/)", files: /^(?!.*\/node_modules\/).*\/components\// },
    { label: "garbage collection", functions: ["(garbage collector)"] },
];

export interface ProfileSummary {
    /** Profiled time, in milliseconds. */
    totalMs: number;
    /** Functions by self time, largest first. */
    bySelf: ProfileEntry[];
    /** Inclusive time of each hot path (a sample counts once per path). */
    watched: ProfileEntry[];
    /** Self time by where the code lives: a package under node_modules, a folder of ours, or node itself. */
    byArea: ProfileEntry[];
}

/** The area a script URL belongs to: `@pulumi/pulumi`, `components/spec`, `node:internal`, … */
export function areaOf(url: string, projectRoot: string): string {
    if (!url) return "(native code, GC)";
    if (url.startsWith("node:")) return "node internals";
    const file = url.replace(/^file:\/\//, "");
    const nm = file.lastIndexOf("/node_modules/");
    if (nm >= 0) {
        const parts = file.slice(nm + "/node_modules/".length).split("/");
        return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
    }
    const rel = path.relative(projectRoot, file);
    if (rel.startsWith("..")) return file;
    const dirs = rel.split("/");
    return dirs.length > 2 ? `${dirs[0]}/${dirs[1]}` : rel;
}

function label(frame: CpuProfile["nodes"][number]["callFrame"], projectRoot: string): string {
    const file = frame.url ? path.relative(projectRoot, frame.url.replace(/^file:\/\//, "")) : "";
    return `${frame.functionName || "(anonymous)"}${file ? ` (${file}:${frame.lineNumber + 1})` : ""}`;
}

/** Summarises a profile: top functions and areas by self time, and the inclusive time of each of `watch`. */
export function summarizeCpuProfile(profile: CpuProfile, projectRoot: string, watch: HotPath[] = pulumiHotPaths, top = 12): ProfileSummary {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

    const self = new Map<string, number>();
    const area = new Map<string, number>();
    const watched = new Map<string, number>();
    const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
    let totalUs = 0;
    profile.samples.forEach((id, i) => {
        const us = profile.timeDeltas[i] ?? 0;
        totalUs += us;
        const node = byId.get(id)!;
        if (node.callFrame.functionName === "(idle)") return;
        add(self, label(node.callFrame, projectRoot), us);
        add(area, areaOf(node.callFrame.url, projectRoot), us);
        const seen = new Set<string>();
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
            const frame = byId.get(cur)!.callFrame;
            for (const hot of watch) {
                if (seen.has(hot.label)) continue;
                if (hot.functions?.includes(frame.functionName) || (frame.url && hot.files?.test(frame.url))) {
                    seen.add(hot.label);
                    add(watched, hot.label, us);
                }
            }
        }
    });
    const sorted = (m: Map<string, number>, n: number) =>
        [...m.entries()]
            .sort((a, b) => b[1] - a[1])
            .slice(0, n)
            .map(([what, us]) => ({ what, ms: us / 1000 }));
    return { totalMs: totalUs / 1000, bySelf: sorted(self, top), watched: sorted(watched, watch.length), byArea: sorted(area, top) };
}
