/**
 * The accelerator choice from a host's facts (components/host/accel.ts), both
 * ways: KVM when /dev/kvm can run stock guest kernels and libvirt offers it,
 * TCG otherwise, each with the reason the stack outputs show.
 */
import test from "ava";
import { accelFromFacts, type AccelFacts } from "../../components/host/accel";

const table: [string, AccelFacts, "auto" | "kvm" | "tcg", { accel: "kvm" | "tcg"; reason: RegExp }][] = [
    [
        "a usable /dev/kvm that libvirt offers",
        { kvmDevice: true, pvm: false, libvirtOffersKvm: true },
        "auto",
        { accel: "kvm", reason: /^KVM: libvirt offers the kvm domain type/ },
    ],
    ["no /dev/kvm", { kvmDevice: false, pvm: false }, "auto", { accel: "tcg", reason: /^TCG: \/dev\/kvm is missing on this host/ }],
    ["a PVM /dev/kvm (kvm_pvm loaded)", { kvmDevice: true, pvm: true }, "auto", { accel: "tcg", reason: /^TCG: \/dev\/kvm is PVM \(kvm_pvm\)/ }],
    [
        "/dev/kvm that libvirt does not offer",
        { kvmDevice: true, pvm: false, libvirtOffersKvm: false },
        "auto",
        { accel: "tcg", reason: /^TCG: libvirt offers no kvm domain type/ },
    ],
    ["tcg asked on a KVM host", { kvmDevice: true, pvm: false, libvirtOffersKvm: true }, "tcg", { accel: "tcg", reason: /^set to tcg in the pod spec$/ }],
    ["kvm asked on a host without /dev/kvm", { kvmDevice: false, pvm: false }, "kvm", { accel: "kvm", reason: /^set to kvm in the pod spec$/ }],
];

for (const [what, facts, requested, expected] of table) {
    test(`accelerator for ${what} (${requested}): ${expected.accel}`, (t) => {
        const choice = accelFromFacts(facts, requested);
        t.is(choice.accel, expected.accel);
        t.regex(choice.reason, expected.reason);
    });
}
