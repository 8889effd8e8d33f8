/**
 * The text of each lab host's own files: its libvirt and QEMU settings, its
 * sshd_config and the holder's init script. Pure: the machine's files come in
 * as text, the host's files go out as text.
 */
import type { LabHostLayout } from "./layout";

/** Removes the settings the lab decides, wherever the machine's file sets them, so the lab's line is the only one. */
function withoutSettings(text: string, keys: readonly string[]): string {
    const set = new RegExp(`^\\s*(?:${keys.join("|")})\\s*=`);
    return text
        .split("\n")
        .filter((line) => !set.test(line))
        .join("\n");
}

/**
 * libvirtd.conf: the machine's, plus a host_uuid of its own (libvirt refuses a
 * migration between daemons with the same host UUID: "Attempt to migrate guest
 * to the same host") and a log file in the host's own /var/log/libvirt.
 */
export function libvirtdConf(machine: string, host: LabHostLayout, hostUuid: string): string {
    return [
        withoutSettings(machine, ["host_uuid", "host_uuid_source", "log_outputs"]).trimEnd(),
        "",
        `# nfvkit lab host ${host.name}: written by npm run lab -- up`,
        `host_uuid = "${hostUuid}"`,
        `log_outputs = "3:file:/var/log/libvirt/libvirtd.log"`,
        "",
    ].join("\n");
}

/**
 * qemu.conf: the machine's, plus two lab settings.
 * - migration_host: the address a source QEMU is told to connect to. Left to
 *   itself libvirt sends the machine's hostname, which every lab host shares
 *   and which resolves outside the lab's bridge.
 * - cgroup_controllers = []: all lab hosts share the machine's one cgroup
 *   hierarchy, and libvirt names a guest's cgroup after the guest's per-daemon
 *   id and name ("machine/qemu-1-<name>"). During a migration the source and
 *   the destination would both claim that folder for the same guest, and the
 *   source would remove it from under the destination. Pinning still works:
 *   libvirt sets CPU affinity directly when it has no cpuset cgroup.
 */
export function qemuConf(machine: string, host: LabHostLayout): string {
    return [
        withoutSettings(machine, ["cgroup_controllers", "migration_host", "migration_address"]).trimEnd(),
        "",
        `# nfvkit lab host ${host.name}: written by npm run lab -- up`,
        `migration_host = "${host.address}"`,
        "cgroup_controllers = [ ]",
        "",
    ].join("\n");
}

/** The host's sshd: port 22 on its lab address (and loopback), the lab's key only, root by key only. */
export function sshdConfig(host: LabHostLayout): string {
    return [
        `# nfvkit lab host ${host.name}: written by npm run lab -- up`,
        "Port 22",
        `ListenAddress ${host.address}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${host.ssh.hostKey}`,
        // In the host's own /run, which the holder mounts.
        "PidFile /run/sshd.pid",
        `AuthorizedKeysFile ${host.ssh.authorizedKeys}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "UsePAM no",
        // The kit runs many commands at once on one shared connection, and libvirt opens its own.
        "MaxSessions 32",
        "LogLevel INFO",
        "",
    ].join("\n");
}

/**
 * Shell lines that give a host made of this machine in namespaces an empty home for root, as a host of its own has
 * (run in a mount namespace of its own). bash sources ~/.bashrc for every command sshd runs, and this machine's may
 * start tools of its own (pyenv init: 0.5 s a command), which no lab host would have. The lab's holder and the
 * tests' sshd both run them.
 */
export const OWN_ROOT_HOME = `home=$(awk -F: '$1 == "root" { print $6 }' /etc/passwd)
mount -t tmpfs -o mode=0700,size=16m tmpfs "$home"`;

/**
 * The holder: started as `ip netns exec <ns> unshare --mount --uts
 * --propagation private sh init.sh ...`, so it runs in the host's network
 * namespace and in a new mount and UTS namespace. It mounts the host's own
 * /run, /dev/shm, hugetlbfs and libvirt folders, starts virtlogd, libvirtd and
 * sshd as daemons (they inherit the namespaces), then sleeps: while it lives,
 * `nsenter -t <its pid>` enters the host. Every value is a positional
 * parameter; the script text is constant.
 *
 * Arguments: name pidfile logfile sshd_config sshd_log [source target]...
 */
export const INIT_SCRIPT = `#!/bin/sh
# nfvkit lab host holder (written by npm run lab -- up; see docs/lab.md).
set -eu
name=$1 pidfile=$2 logfile=$3 sshd_config=$4 sshd_log=$5
shift 5
exec >>"$logfile" 2>&1 </dev/null
step() { echo "$(date +%T.%N | cut -c1-12) $*"; }
echo $$ >"$pidfile"
step "holder $$ for $name"
hostname "$name"
# /run of its own: libvirtd, virtlogd and sshd keep sockets and pid files there.
step "mount /run (tmpfs)"
mount -t tmpfs -o mode=0755,size=64m tmpfs /run
mkdir -p /run/libvirt /run/lock /run/sshd
chmod 0755 /run/sshd
step "mount root's home (tmpfs)"
${OWN_ROOT_HOME}
step "mount /dev/shm (tmpfs)"
mount -t tmpfs -o mode=1777,size=512m tmpfs /dev/shm
# A hugetlbfs instance of its own: the pages come from the kernel's one pool,
# but libvirt's per-guest folders and the kit's shm files stay per host.
step "mount /dev/hugepages (hugetlbfs)"
mkdir -p /dev/hugepages
mount -t hugetlbfs -o pagesize=2M hugetlbfs /dev/hugepages
while [ $# -ge 2 ]; do
  step "bind $1 on $2"
  mkdir -p "$2"
  mount --bind "$1" "$2"
  shift 2
done
step "start virtlogd"
virtlogd -d
step "start libvirtd"
libvirtd -d
step "start sshd"
/usr/sbin/sshd -f "$sshd_config" -E "$sshd_log"
step "started"
exec sleep infinity
`;
