/**
 * The small pod the resource-graph tests build under Pulumi mocks: one
 * 4-CPU host, two guests joined by an ivshmem link, and an image that is
 * never read.
 */
export const spec = {
    hosts: [
        {
            name: "local",
            uri: "qemu:///system",
            topology: { numaNodes: [{ id: 0, cpus: "0-3" }] },
            housekeepingCpus: "0",
            isolatedCpus: "1-3",
            hugepages: [{ node: 0, size: "2M", count: 512 }],
        },
    ],
    guests: [
        { name: "vnf", host: "local", vcpus: 2, rtVcpus: [1], memory: "256M", pageSize: "2M" },
        { name: "peer", host: "local", vcpus: 1, rtVcpus: [0], memory: "256M", pageSize: "2M" },
    ],
    links: [{ name: "ring0", size: "4M", members: ["vnf", "peer"] }],
};

export const image = {
    kernel: "/var/cache/nfvkit/images/h/vmlinuz",
    initrd: "/var/cache/nfvkit/images/h/initrd.img",
    hash: "h",
    kernelVersion: "6.1.0-rt",
    tools: {},
};
