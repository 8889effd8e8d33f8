import test from "ava";
import { buildGuestKernelArgs } from "../../components/plan/guestCmdline";

test("RT vCPUs are isolated and IRQs go to the housekeeping vCPUs", (t) => {
    t.deepEqual(buildGuestKernelArgs({ vcpus: 4, rtVcpus: [1, 2, 3] }), ["isolcpus=managed_irq,domain,1-3", "nohz_full=1-3", "rcu_nocbs=1-3", "irqaffinity=0"]);
});

test("non-contiguous RT vCPUs and several housekeeping vCPUs", (t) => {
    t.deepEqual(buildGuestKernelArgs({ vcpus: 5, rtVcpus: [3, 1] }), [
        "isolcpus=managed_irq,domain,1,3",
        "nohz_full=1,3",
        "rcu_nocbs=1,3",
        "irqaffinity=0,2,4",
    ]);
});

test("a guest whose every vCPU is RT gets no isolation (the kernel needs one housekeeping CPU)", (t) => {
    t.deepEqual(buildGuestKernelArgs({ vcpus: 1, rtVcpus: [0] }), []);
});

test("a guest without RT vCPUs gets no isolation", (t) => {
    t.deepEqual(buildGuestKernelArgs({ vcpus: 2, rtVcpus: [] }), []);
});

test("isolation can be turned off, flags changed and extra args appended", (t) => {
    t.deepEqual(buildGuestKernelArgs({ vcpus: 2, rtVcpus: [1], isolate: false, extra: ["nosoftlockup"] }), ["nosoftlockup"]);
    t.deepEqual(buildGuestKernelArgs({ vcpus: 2, rtVcpus: [1], isolcpusFlags: [], extra: ["tsc=reliable"] }), [
        "isolcpus=1",
        "nohz_full=1",
        "rcu_nocbs=1",
        "irqaffinity=0",
        "tsc=reliable",
    ]);
});
