#!/usr/bin/env bash
# The hand-written baseline of `npm run bench -- up`: what a person would
# script with virsh to bring up the same pod the kit brings up, from the
# domain XML the kit rendered. No state, no checks beyond the ready line.
#
#   virsh-pod.sh up   DIR   reserve hugepages, define every domain, start them
#                           in parallel, wait for the ready line on every console
#   virsh-pod.sh down DIR   destroy and undefine every domain (in parallel),
#                           remove the shm files, give the hugepages back
#
# DIR holds what the bench wrote from the kit's stack:
#   *.xml        one domain definition each
#   guests       lines: <domain> <console log> <ready line...>
#   hugepages    lines: <NUMA node> <page size KiB> <pages to add>
#   shm          lines: <shm file> (removed on down)
# URI (default qemu:///system) and BOOT_TIMEOUT (seconds, default 180) may be set.
set -euo pipefail
cmd=${1:?usage: virsh-pod.sh up|down DIR}
dir=${2:?usage: virsh-pod.sh up|down DIR}
uri=${URI:-qemu:///system}
timeout=${BOOT_TIMEOUT:-180}

pool() { echo "/sys/devices/system/node/node$1/hugepages/hugepages-$2kB/nr_hugepages"; }

# Adds (or with a negative count, removes) pages to a node's pool and checks the kernel delivered.
adjust_pages() {
  local node=$1 size=$2 delta=$3 file want
  file=$(pool "$node" "$size")
  want=$(( $(cat "$file") + delta ))
  echo "$want" > "$file"
  [ "$(cat "$file")" -eq "$want" ] || { echo "node $node: asked for $want pages of $size KiB, got $(cat "$file")" >&2; exit 1; }
}

case $cmd in
  up)
    while read -r node size count; do adjust_pages "$node" "$size" "$count"; done < "$dir/hugepages"
    for xml in "$dir"/*.xml; do virsh -q -c "$uri" define "$xml" >/dev/null; done
    while read -r name log _; do
      rm -f "$log"
      virsh -q -c "$uri" start "$name" >/dev/null &
    done < "$dir/guests"
    wait
    deadline=$(( $(date +%s) + timeout ))
    while read -r name log ready; do
      until grep -q -F -- "$ready" "$log" 2>/dev/null; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "$name: no '$ready' in $log within ${timeout} s" >&2; exit 1; }
        sleep 0.25
      done
    done < "$dir/guests"
    ;;
  down)
    while read -r name _; do virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1 & done < "$dir/guests"
    wait
    while read -r name _; do virsh -q -c "$uri" undefine "$name" >/dev/null 2>&1 || true; done < "$dir/guests"
    while read -r file; do rm -f "$file"; done < "$dir/shm"
    while read -r node size count; do adjust_pages "$node" "$size" "-$count"; done < "$dir/hugepages"
    ;;
  *) echo "usage: virsh-pod.sh up|down DIR" >&2; exit 2 ;;
esac
