/**
 * The kit as a library: what a Pulumi program of your own imports to build
 * NFV test pods (see docs/library-use.md). The package's entry point
 * (package.json `main`).
 *
 * Components are Pulumi resources; spec, plan, render and probes are pure
 * functions over plain data and can be used without a Pulumi engine.
 */

// Components.
export { TestPod, resolveTestPodSpec, type TestPodArgs, type HostFacts, type PodGuestSummary, type PodProbesArgs } from "./pod/TestPod";
export { StackLineage } from "./pod/StackLineage";
export { NfvGuest, GUEST_READY_LINE, type NfvGuestArgs } from "./guest/NfvGuest";
export { IvshmemLink, type IvshmemLinkArgs } from "./link/IvshmemLink";

// Host facts: what the planner needs to know about a host before planning.
export { discoverHosts, type DiscoverOptions } from "./host/discover";
export { accelFromFacts, chooseAccel, readAccelFacts, type Accel, type AccelChoice, type AccelFacts } from "./host/accel";
export { memoryLockingSupport, type MemoryLockingSupport } from "./host/memoryLocking";
export { assessHostReadiness, readKernelFacts, describeUnready, type HostCheck, type HostKernelFacts } from "./host/readiness";
export { discoverTopology, parseCapabilitiesTopology, type DiscoveredTopology } from "./host/topology";
export { HugepageReservation, type HugepageReservationArgs } from "./host/HugepageReservation";

// Reaching hosts: one seam, local or SSH, for every command and host file.
export * from "./host/access";

// libvirt: the resources the components are made of (their failures are the HostCommandErrors of host access).
export { Domain, type DomainArgs } from "./libvirt/Domain";
export { ShmRegion, type ShmRegionArgs } from "./libvirt/ShmRegion";
export { parseCputune, describePinning } from "./libvirt/cputune";

// The pipeline's pure stages: spec types, units and the spec check; the pod plan (planPod, PodPlan,
// resolvePod: spec to plan in one call), placement, kernel arguments; domain XML.
export * from "./spec";
export * from "./plan";
export * from "./render";

// Latency probes: commands, parsers, targets, verdict, reports.
export * from "./probes";

// One validation of a whole stack config, with the input limits; npm run validate and the program call it.
export * from "./validate";

// One way in: a stack by name or file to its config, secrets, host access and facts, problems and plan.
export * from "./stack";

// Type tokens of every resource the kit registers.
export { tokens } from "./tokens";

// The guest image every guest boots. Built (and cached) outside components/, but a program needs one.
export type { GuestImage } from "./types/guestImage";
export { ensureGuestImage, type EnsureGuestImageOptions } from "../guest-images/build";
export { rememberedGuestImage } from "./image/rememberedGuestImage";
