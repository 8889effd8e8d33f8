import test from "ava";
import { CpuSet, MacAddress, MemorySize, PciAddress } from "../../components/spec/units";
import { formatProblem, ProblemListError } from "../../components/spec/problems";

const memoryCases: [unknown, number, string][] = [
    ["256M", 256 * 2 ** 20, "256M"],
    ["1G", 2 ** 30, "1G"],
    ["2048K", 2 * 2 ** 20, "2M"],
    ["256MiB", 256 * 2 ** 20, "256M"],
    ["1536m", 1536 * 2 ** 20, "1536M"],
    [4096, 4096, "4K"],
    [1000, 1000, "1000B"],
];
for (const [input, bytes, text] of memoryCases) {
    test(`MemorySize ${JSON.stringify(input)} is ${bytes} bytes, written ${text}`, (t) => {
        const size = MemorySize.parse(input, "memory");
        t.is(size.bytes, bytes);
        t.is(size.toString(), text);
        t.is(size.kibibytes, bytes / 1024);
        t.is(size.mebibytes, bytes / 2 ** 20);
    });
}

const badMemory: [unknown, string][] = [
    ["256MB", 'memory: has the decimal unit "MB", which is ambiguous for memory (got "256MB"). Fix: write "256M" (1024-based)'],
    ["1.5G", 'memory: is not a memory size (got "1.5G"). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"'],
    ["12X", 'memory: has an unknown unit "X" (got "12X"). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"'],
    [0, 'memory: must be more than zero (got 0). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"'],
    [true, 'memory: is not a memory size (got true). Fix: write a whole number with a binary unit, e.g. "256M", "2048K" or "1G"'],
];
for (const [input, message] of badMemory) {
    test(`MemorySize rejects ${JSON.stringify(input)}`, (t) => {
        const result = MemorySize.tryParse(input, "memory");
        t.false(result.ok);
        if (!result.ok) t.is(formatProblem(result.problem), message);
        t.throws(() => MemorySize.parse(input, "memory"), { instanceOf: ProblemListError });
    });
}

test("MemorySize tells powers of two and page multiples", (t) => {
    t.true(MemorySize.parse("4M", "s").isPowerOfTwo());
    t.false(MemorySize.parse("3M", "s").isPowerOfTwo());
    t.false(MemorySize.parse(2 ** 49 + 1, "s").isPowerOfTwo());
    t.true(MemorySize.parse("6M", "s").isMultipleOf(MemorySize.parse("2M", "p")));
    t.false(MemorySize.parse("3M", "s").isMultipleOf(MemorySize.parse("2M", "p")));
});

const cpuCases: [unknown, number[], string][] = [
    ["0-3,8", [0, 1, 2, 3, 8], "0-3,8"],
    ["8,0-3", [0, 1, 2, 3, 8], "0-3,8"],
    [" 1, 2 ,3", [1, 2, 3], "1-3"],
    [5, [5], "5"],
    [[4, 1, 2], [1, 2, 4], "1-2,4"],
    ["", [], ""],
];
for (const [input, cpus, text] of cpuCases) {
    test(`CpuSet ${JSON.stringify(input)} is ${text || "empty"}`, (t) => {
        const set = CpuSet.parse(input, "cpus");
        t.deepEqual([...set.cpus], cpus);
        t.is(set.toString(), text);
    });
}

const badCpus: [unknown, string][] = [
    ["3-1", 'cpus: has the backwards range "3-1" (got "3-1"). Fix: write "1-3"'],
    ["1,a", 'cpus: has "a", which is neither a CPU number nor a range (got "1,a"). Fix: write CPU numbers and ranges, e.g. "0-3,8"'],
    [-1, 'cpus: CPU -1 is not a CPU number (0-8191) (got -1). Fix: write CPU numbers and ranges, e.g. "0-3,8"'],
    [["1"], 'cpus: is a list with a non-number in it (got ["1"]). Fix: write CPU numbers and ranges, e.g. "0-3,8"'],
];
for (const [input, message] of badCpus) {
    test(`CpuSet rejects ${JSON.stringify(input)}`, (t) => {
        const result = CpuSet.tryParse(input, "cpus");
        t.false(result.ok);
        if (!result.ok) t.is(formatProblem(result.problem), message);
    });
}

test("PciAddress parses full and short forms to the sysfs form", (t) => {
    const full = PciAddress.parse("0000:01:10.2", "pci");
    t.is(full.toString(), "0000:01:10.2");
    t.deepEqual([full.domain, full.bus, full.slot, full.fn], [0, 1, 0x10, 2]);
    t.is(PciAddress.parse("3B:1F.7", "pci").toString(), "0000:3b:1f.7");
});

test("PciAddress rejects a slot above 0x1f and junk", (t) => {
    const slot = PciAddress.tryParse("0000:01:20.0", "pci");
    t.false(slot.ok);
    if (!slot.ok)
        t.is(
            formatProblem(slot.problem),
            'pci: has slot 0x20, above the PCI maximum 0x1f (got "0000:01:20.0"). Fix: write the VF\'s address as in `lspci -D`, e.g. "0000:01:10.2"',
        );
    t.false(PciAddress.tryParse("01:10", "pci").ok);
    t.false(PciAddress.tryParse(12, "pci").ok);
});

test("MacAddress normalizes and refuses multicast and zero", (t) => {
    t.is(MacAddress.parse("52-54-00-AA-00-01", "mac").toString(), "52:54:00:aa:00:01");
    const multicast = MacAddress.tryParse("01:00:5e:00:00:01", "mac");
    t.false(multicast.ok);
    if (!multicast.ok)
        t.is(
            formatProblem(multicast.problem),
            'mac: is a multicast address, which a NIC cannot own (got "01:00:5e:00:00:01"). Fix: clear the lowest bit of the first octet, e.g. "52:54:00:..."',
        );
    t.false(MacAddress.tryParse("00:00:00:00:00:00", "mac").ok);
    t.false(MacAddress.tryParse("52:54:00:00:01", "mac").ok);
});
