/**
 * What the kit learned about a host before planning (see host/discover.ts):
 * plain data, so validation and the planner stay pure.
 */
import type { AccelChoice } from "./accel";
import type { MemoryLockingSupport } from "./memoryLocking";
import type { HostKernelFacts } from "./readiness";
import type { PfFacts } from "./sriov";
import type { HostTopology } from "../spec/types";

export interface HostFacts {
    /** CPU topology read from the host; a topology declared in the spec wins. */
    topology?: HostTopology;
    /** How guests are accelerated there, and why. */
    accel: AccelChoice;
    /** Whether libvirt may lock guest memory there; when not, the `locked` knob is turned off and the reason is a stack output. */
    memoryLocking?: MemoryLockingSupport;
    /** The host's running kernel, for the host readiness checks; absent when it cannot be read. */
    kernel?: HostKernelFacts;
    /** The host's SR-IOV PFs (PCI address, driver, NUMA node, sriov_totalvfs, netdev); absent when the host cannot be read. */
    pfs?: PfFacts[];
}
