/**
 * One small real guest for the probes' known-answer tests: 2 vCPUs (vCPU 0
 * housekeeping, vCPU 1 real-time, FIFO 1 on the host), 256 MiB, booted from
 * the kit's image through the Domain provider, exactly as a pod boots it.
 * Every domain is named `nfvkit-kat-…`; the teardown removes the guest even
 * when the test fails.
 */
import type { ExecutionContext } from "ava";
import { ensureGuestImage, type GuestImage } from "../../guest-images/build";
import * as domainOps from "../../components/libvirt/domainOperations";
import type { DomainInputs, DomainOutputs } from "../../components/libvirt/domainOperations";
import { guestShell } from "../../components/libvirt/guestAgent";
import { hostAccess } from "../../components/host/access";
import type { ProbeGuest } from "../../components/probes/kinds/latency/run";
import { localGuestInputs } from "./domainInputs";
import { LOCAL_URI, removeDomainsWithPrefix } from "./host";

export const KAT_PREFIX = "nfvkit-kat";

export interface KatGuest {
    probeGuest: ProbeGuest;
    image: GuestImage;
    outs: DomainOutputs;
}

/** vCPU 0 housekeeping on CPU 0, vCPU 1 real-time (FIFO 1) on CPU 1, 256 MiB unless asked for more. */
function inputs(image: GuestImage, prefix: string, opts: KatGuestOptions): Promise<DomainInputs> {
    const { memory = "256M", ...knobs } = opts;
    return localGuestInputs(image, { name: "kat", namePrefix: prefix, memory, vcpus: 2, rtVcpus: [1], cpus: [0, 1], fifoPriority: 1, knobs });
}

/** A user-mode NIC (the migration probe's stream leaves through it) and more RAM (for a dirty-rate workload), when a test needs them. */
export interface KatGuestOptions {
    userNic?: boolean;
    memory?: string;
}

/** Boots the guest; `prefix` must start with KAT_PREFIX so a teardown can never reach a foreign domain. */
export async function bootKatGuest(prefix = KAT_PREFIX, opts: KatGuestOptions = {}): Promise<KatGuest> {
    if (!prefix.startsWith(KAT_PREFIX)) throw new Error(`KAT guests are named ${KAT_PREFIX}…, got ${prefix}`);
    const image = await ensureGuestImage();
    const ins = await inputs(image, prefix, opts);
    const created = await domainOps.create(ins, { urn: `urn:pulumi:kat::nfv-testpod::nfvkit:guest:NfvGuest$nfvkit:libvirt:Domain::${prefix}` });
    const outs = created.outs as DomainOutputs;
    return {
        image,
        outs,
        probeGuest: { guest: "kat", uri: LOCAL_URI, domain: outs.name, rtVcpus: [1], housekeepingVcpus: [0], hostHousekeepingCpus: [0] },
    };
}

/** A guest for the test, removed in its teardown. */
export async function useKatGuest(t: ExecutionContext, prefix = KAT_PREFIX): Promise<KatGuest> {
    t.teardown(() => removeDomainsWithPrefix(prefix));
    return bootKatGuest(prefix);
}

/** Runs a shell script in the guest. */
export function inGuest(g: KatGuest, script: string, timeoutMs = 60_000) {
    return guestShell(hostAccess(), g.probeGuest.domain, script, timeoutMs);
}
