/**
 * The probe kinds, in the order the pipeline runs them. One line per kind;
 * adding a kind is its folder, its line here and its docs (docs/probes.md
 * "Adding a probe kind").
 *
 * Why this order: the host gate first, so an enforced gate stops before
 * anything is measured; the latency probes before the inter-VM probe (both
 * use the guests' real-time vCPUs, never at once); migration last, because it
 * moves guests (each round trip ends with the guest back on its own host).
 */
import { hostGate } from "./hostGate";
import { interVm } from "./interVm";
import type { ProbeKindModule } from "./kind";
import { latency } from "./latency";
import { migration } from "./migration";

export const PROBE_KINDS = [hostGate, latency, interVm, migration] as const;

type Kind = (typeof PROBE_KINDS)[number];
/* eslint-disable @typescript-eslint/no-explicit-any */
type SettingsOf<K> = K extends ProbeKindModule<string, infer S, any, any> ? S : never;
type SectionOf<K> = K extends ProbeKindModule<string, object, infer R, any> ? R : never;
type InputsOf<K> = K extends ProbeKindModule<string, object, any, infer I> ? I : never;
/* eslint-enable @typescript-eslint/no-explicit-any */
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

export type KindName = Kind["name"];
/** Every kind's settings, merged: the probe settings' keys (see suiteConfig.ts). */
export type KindSettings = UnionToIntersection<SettingsOf<Kind>>;
/** The verdict's section of each kind that ran. */
export type VerdictSections = { [K in Kind as K["name"]]?: SectionOf<K> };
/** What TestPod recorded for each kind that needs more of the pod than guests and hosts. */
export type KindInputs = { [K in Kind as K["name"]]?: InputsOf<K> };
