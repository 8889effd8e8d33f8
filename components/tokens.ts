/**
 * Every Pulumi type token the kit registers, in one place, so renames are
 * deliberate (a changed token orphans resources in existing stacks).
 * Tokens are `nfvkit:<module>:<Type>`: components are the kit's own, and
 * custom resources are served by the kit's provider plugin, `nfvkit`
 * (components/provider/, declared in Pulumi.yaml).
 */
export const tokens = {
    testPod: "nfvkit:pod:TestPod",
    nfvGuest: "nfvkit:guest:NfvGuest",
    ivshmemLink: "nfvkit:link:IvshmemLink",
    /** Custom resources of the nfvkit provider. */
    domain: "nfvkit:libvirt:Domain",
    shmRegion: "nfvkit:libvirt:ShmRegion",
    hugepageReservation: "nfvkit:host:HugepageReservation",
    guestImage: "nfvkit:host:GuestImage",
    sriovPf: "nfvkit:host:SriovPf",
    rtHost: "nfvkit:host:RtHost",
    probeSuite: "nfvkit:probes:ProbeSuite",
    stackLineage: "nfvkit:pod:StackLineage",
    /** A function of the nfvkit provider: the plugin's version. The program calls it first, to start the plugin early. */
    providerVersion: "nfvkit:provider:version",
} as const;

/** The provider plugin's name: resources whose token starts with `nfvkit:` are its. */
export const providerName = "nfvkit";
