/**
 * Every Pulumi type token the kit registers, in one place, so renames are
 * deliberate (a changed token orphans resources in existing stacks).
 * Component tokens: `nfvkit:<module>:<Type>`. Dynamic resources always carry
 * the `pulumi-nodejs` package and a `dynamic/` module prefix: pulumi-nodejs:dynamic/<module>:<type>.
 */
export const tokens = {
    testPod: "nfvkit:pod:TestPod",
    nfvGuest: "nfvkit:guest:NfvGuest",
    ivshmemLink: "nfvkit:link:IvshmemLink",
    /** Dynamic resources: pulumi-nodejs:dynamic/<module>:<type>. */
    domain: { module: "libvirt", type: "Domain" },
    shmRegion: { module: "libvirt", type: "ShmRegion" },
    hugepageReservation: { module: "host", type: "HugepageReservation" },
    probeSuite: { module: "probes", type: "ProbeSuite" },
} as const;
