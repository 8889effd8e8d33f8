/** A generated stack file of about `bytes` bytes: many hosts and guests, every tenth guest with three mistakes, for the linear-time test. */
export function bigStackFile(bytes: number): string {
    const lines = ["config:", "  nfv-testpod:pod:", "    hosts:"];
    const hosts = 200;
    for (let h = 0; h < hosts; h++) {
        lines.push(
            `      - name: h${h}`,
            `        uri: qemu+ssh://root@lab-${h}/system`,
            `        topology: { numaNodes: [{ id: 0, cpus: "0-63" }] }`,
            `        housekeepingCpus: "0"`,
            `        hugepages: [{ node: 0, size: 2M, count: 100000 }]`,
        );
    }
    lines.push("    guests:");
    let size = lines.join("\n").length;
    for (let g = 0; size < bytes; g++) {
        const bad = g % 10 === 0;
        const guest = [
            `      - name: ${bad ? `bad guest ${g}` : `g${g}`}`,
            `        host: ${bad ? `hh${g % hosts}` : `h${g % hosts}`}`,
            `        vcpus: ${bad ? 9007199254740993 : 1}`,
            `        rtVcpus: []`,
            `        memory: ${bad ? "64MB" : "64M"}`,
            `        kernelArgs: { extra: [nosoftlockup, "quiet"] }`,
        ];
        lines.push(...guest);
        size += guest.join("\n").length + 1;
    }
    return lines.join("\n") + "\n";
}
