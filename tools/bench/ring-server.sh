#!/bin/bash
# The inter-VM ring on a server that has gcc but no Node (docs/bench.md, "The inter-VM ring"):
# an old nfvkit-ring (old.c beside this script, e.g. main's) against a new one (new.c, e.g. the
# working tree's), consumer/producer CPU pairs as in issue 21, bursts 32 and 1, checked and
# unchecked (the ceiling), PASSES passes in alternating order, medians; then round trips.
# Usage: bash ring-server.sh [--seconds S] [--passes N]; writes $OUT/ring-server.txt (or ./out/).
# The run recorded in docs/bench.md also built variants of new.c with -D options its commit had.
set -u
cd "$(dirname "$0")"
SECS=2; PASSES=3
# CPU pairs (consumer producer) as in issue 21, as indexes into the CPUs this process may use; ping and pong.
PAIRS=${PAIRS:-"1 2,1 9,0 15"}; RTT=${RTT:-"4 3"}
while [ $# -gt 0 ]; do case $1 in --seconds) SECS=$2; shift;; --passes) PASSES=$2; shift;; *) echo "usage: $0 [--seconds S] [--passes N]" >&2; exit 2;; esac; shift; done
OUT=${OUT:-$PWD/out}; mkdir -p "$OUT"; LOG=$OUT/ring-server.txt; : > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }
# The CPUs this process may run on (a container's cpuset need not start at 0); index i is the i-th of them.
ALLOWED=()
for r in $(grep Cpus_allowed_list /proc/self/status | awk '{print $2}' | tr , ' '); do
  if [[ $r == *-* ]]; then for ((c=${r%-*}; c<=${r#*-}; c++)); do ALLOWED+=($c); done; else ALLOWED+=($r); fi
done
cpu() { echo "${ALLOWED[$(( $1 % ${#ALLOWED[@]} ))]}"; }
say "== machine"
{ echo "CPUs allowed: ${ALLOWED[*]}"; grep -m1 'model name' /proc/cpuinfo; lscpu 2>/dev/null | grep -E 'NUMA|L1d|L2|L3|MHz|Thread|Core|Socket|Hypervisor'
  echo "sse4_2 on $(grep -c sse4_2 /proc/cpuinfo) CPUs, avx512f on $(grep -c avx512f /proc/cpuinfo), cldemote on $(grep -c cldemote /proc/cpuinfo)"
  for i in 0 1 2 3 4 9 15; do c=$(cpu $i); echo "index $i = CPU $c, siblings $(cat /sys/devices/system/cpu/cpu$c/topology/thread_siblings_list 2>/dev/null), core $(cat /sys/devices/system/cpu/cpu$c/topology/core_id 2>/dev/null), package $(cat /sys/devices/system/cpu/cpu$c/topology/physical_package_id 2>/dev/null)"; done
  gcc --version | head -1; uname -r; uptime; } 2>&1 | tee -a "$LOG"
B=$PWD/bin; rm -rf "$B"; mkdir -p "$B"
cc() { # cc NAME SOURCE [flags]: gcc -O2 -static as the image builder does; dynamic where there is no static libc
  local n=$1 s=$2; shift 2
  gcc -O2 -Wall -static "$@" -o "$B/$n" "$s" 2>/dev/null || gcc -O2 -Wall "$@" -o "$B/$n" "$s" || { say "cannot build $n"; exit 1; }
}
cc old old.c; cc new new.c
say "built: $(ls "$B" | tr '\n' ' ') ($(file -b "$B/new" 2>/dev/null | cut -d, -f1-2); $(ldd "$B/new" 2>&1 | head -1))"
SHM=/dev/shm; [ -w $SHM ] || SHM=/tmp
pair() { # pair BIN CONSUMER PRODUCER BURST SECONDS SIZE [--unchecked]: "mpps ns checks"
  local bin=$B/$1 cc=$2 pc=$3 burst=$4 secs=$5 size=$6; shift 6
  local f=$SHM/nfvkit-ring-devbench-$$ s=$((RANDOM * 32768 + RANDOM + 1))
  rm -f $f; truncate -s $size $f
  "$bin" consume --file $f --session $s --burst $burst --cpu $cc --wait 10 "$@" > $f.c 2>&1 &
  local cpid=$!
  "$bin" produce --file $f --session $s --burst $burst --cpu $pc --seconds $secs --wait 10 "$@" > /dev/null 2> $f.p
  wait $cpid
  local line mpps ns bad; line=$(tail -1 $f.c)
  mpps=$(echo "$line" | grep -o '"mpps":[0-9.]*' | cut -d: -f2); ns=$(echo "$line" | grep -o '"nsPerPacket":[0-9.]*' | cut -d: -f2)
  bad=$(echo "$line" | grep -q '"lost":0,"reordered":0,"corrupt":0' && echo ok || echo "BAD:$(head -c 300 $f.c $f.p | tr '\n' ' ')")
  rm -f $f $f.c $f.p
  printf "%.1f %.2f %s" "${mpps:-0}" "${ns:-0}" "$bad"
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
IFS=, read -ra pairs <<< "$PAIRS"
declare -A R
say ""; say "== old (main) against new, ${SECS} s a run, $PASSES passes (order reversed every other pass), 4 MiB region in $SHM (16384 slots); unchecked = the ceiling"
for ((pass=1; pass<=PASSES; pass++)); do
  kinds="old new unchecked"; [ $((pass % 2)) = 0 ] && kinds="unchecked new old"
  for cp in "${pairs[@]}"; do set -- $cp; c=$(cpu $1) p=$(cpu $2)
    for burst in 32 1; do
      line="pass $pass  consumer $c producer $p  burst $burst:"
      for k in $kinds; do
        if [ $k = unchecked ]; then x=($(pair new $c $p $burst $SECS 4M --unchecked)); else x=($(pair $k $c $p $burst $SECS 4M)); fi
        R[$cp,$burst,$k]="${R[$cp,$burst,$k]:-} ${x[0]}"; line="$line  $k ${x[0]} Mpps (${x[1]} ns, ${x[2]})"
      done
      say "$line"
    done
  done
done
say ""; say "== medians of $PASSES passes, Mpps"
say "$(printf '%-20s %-6s | %9s %9s %9s | %8s %10s' 'consumer,producer' burst old new unchecked 'new÷old' 'chk÷unchk')"
for cp in "${pairs[@]}"; do set -- $cp
  for burst in 32 1; do
    o=$(med ${R[$cp,$burst,old]}); n=$(med ${R[$cp,$burst,new]}); u=$(med ${R[$cp,$burst,unchecked]})
    say "$(printf '%-20s %-6s | %9s %9s %9s | %8s %10s' "$(cpu $1),$(cpu $2)" $burst $o $n $u $(awk "BEGIN{printf \"%.2fx\", $n/($o+1e-9)}") $(awk "BEGIN{printf \"%.2f\", $n/($u+1e-9)}"))"
  done
done
set -- $RTT; pingc=$(cpu $1) pongc=$(cpu $2)
say ""; say "== round trips (ping on CPU $pingc, pong on CPU $pongc, 2 s)"
for v in old new; do
  f=$SHM/nfvkit-ring-devbench-rtt-$$; rm -f $f; truncate -s 4M $f
  $B/$v pong --file $f --session 77 --cpu $pongc --wait 10 > /dev/null 2>&1 & p=$!
  r=$($B/$v ping --file $f --session 77 --cpu $pingc --seconds 2 --wait 10 2>&1 | tail -1); wait $p; rm -f $f
  say "$v: $(echo "$r" | grep -o '"roundTrips":[0-9]*\|"p50Ns":[0-9]*\|"p99Ns":[0-9]*\|"p999Ns":[0-9]*\|"maxNs":[0-9]*\|"corrupt":[0-9]*' | tr '\n' ' ')"
done
say ""; say "done $(date -u +%FT%TZ), $(uptime)"
