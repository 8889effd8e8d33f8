/** Reading a domain's <cputune> back from its XML, and saying it in guest terms. */
import test from "ava";
import { describePinning, parseCputune } from "../../components/libvirt/cputune";

const xml = `<domain type='kvm'>
  <vcpu placement='static'>4</vcpu>
  <cputune>
    <vcpupin vcpu='0' cpuset='0'/>
    <vcpupin vcpu='1' cpuset='5'/>
    <vcpupin vcpu='2' cpuset='6'/>
    <vcpupin vcpu='3' cpuset='7'/>
    <emulatorpin cpuset='0,8'/>
    <iothreadpin iothread='1' cpuset='0,8'/>
    <vcpusched vcpus='1-3' scheduler='fifo' priority='10'/>
  </cputune>
</domain>`;

test("every pin and FIFO priority is read back", (t) => {
    t.deepEqual(parseCputune(xml), {
        vcpuPins: { "0": "0", "1": "5", "2": "6", "3": "7" },
        emulatorPin: "0,8",
        iothreadPins: { "1": "0,8" },
        fifo: { "1": 10, "2": 10, "3": 10 },
    });
});

test("described as a placement table would say it", (t) => {
    t.deepEqual(describePinning(parseCputune(xml)), {
        "vCPU 0": "host CPU 0",
        "vCPU 1": "host CPU 5, FIFO 10",
        "vCPU 2": "host CPU 6, FIFO 10",
        "vCPU 3": "host CPU 7, FIFO 10",
        emulator: "host CPUs 0,8",
        "iothread 1": "host CPUs 0,8",
    });
});

test("a domain without <cputune> has nothing pinned", (t) => {
    t.deepEqual(describePinning(parseCputune("<domain/>")), {});
});
