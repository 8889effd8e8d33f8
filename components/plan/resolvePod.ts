/**
 * From a raw spec straight to its plan, for scripts and tests that hold a
 * spec and no host facts beyond topology: the spec check, then planPod.
 * Throws one ProblemListError listing every problem of both.
 */
import { checkPod, type ResolveOptions } from "../spec/check";
import { ProblemListError } from "../spec/problems";
import { tryPlanPod, type PlanOptions, type PodPlan } from "./podPlan";

/** Every host gets TCG (no host facts); TestPod and validateStack plan with the facts they gathered. */
export function resolvePod(raw: unknown, opts: ResolveOptions & Omit<PlanOptions, "namePrefix">): PodPlan {
    const planned = tryPlanPod(checkPod(raw, opts), {}, opts);
    if (!planned.plan) throw new ProblemListError(planned.problems);
    return planned.plan;
}
