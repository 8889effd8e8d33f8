#!/bin/bash
# The inter-VM ring on a server that has gcc but no Node (docs/bench.md, "The inter-VM ring"):
# an old nfvkit-ring (old.c beside this script, e.g. main's) against a new one (new.c, e.g. the
# working tree's), consumer/producer CPU pairs as in issue 21, bursts 32 and 1, checked and
# unchecked (the ceiling; a format-1 old.c has none), PASSES passes in alternating order, medians
# and the slowest run; then variants of new.c built with -D options at burst 1, then round trips.
# Usage: bash ring-server.sh [--seconds S] [--passes N]; writes $OUT/ring-server.txt (or ./out/).
# Environment: PAIRS ("1 2,1 9,0 15"), VARIANTS ("name:-DOPTION=V ..."; none by default), VARIANT_PAIR
# ("1 9"), RTT ("4 3"; empty: none), DEADLINE (seconds after which no new run starts; 0: none).
set -u
cd "$(dirname "$0")"
SECS=2; PASSES=3
# CPU pairs (consumer producer) as in issue 21, as indexes into the CPUs this process may use; ping and pong.
PAIRS=${PAIRS:-"1 2,1 9,0 15"}; RTT=${RTT-"4 3"}; VARIANTS=${VARIANTS:-}; VARIANT_PAIR=${VARIANT_PAIR:-"1 9"}; DEADLINE=${DEADLINE:-0}
while [ $# -gt 0 ]; do case $1 in --seconds) SECS=$2; shift;; --passes) PASSES=$2; shift;; *) echo "usage: $0 [--seconds S] [--passes N]" >&2; exit 2;; esac; shift; done
OUT=${OUT:-$PWD/out}; mkdir -p "$OUT"; LOG=$OUT/ring-server.txt; : > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }
# Past the deadline no new run starts, so the tables still come out within a lent machine's time.
late() { [ "$DEADLINE" != 0 ] && [ "$SECONDS" -ge "$DEADLINE" ]; }
# The CPUs this process may run on (a container's cpuset need not start at 0); index i is the i-th of them.
ALLOWED=()
for r in $(grep Cpus_allowed_list /proc/self/status | awk '{print $2}' | tr , ' '); do
  if [[ $r == *-* ]]; then for ((c=${r%-*}; c<=${r#*-}; c++)); do ALLOWED+=($c); done; else ALLOWED+=($r); fi
done
cpu() { echo "${ALLOWED[$(( $1 % ${#ALLOWED[@]} ))]}"; }
say "== machine"
{ echo "CPUs allowed: ${ALLOWED[*]}"; grep -m1 'model name' /proc/cpuinfo; lscpu 2>/dev/null | grep -E 'NUMA|L1d|L2|L3|MHz|Thread|Core|Socket|Hypervisor'
  for i in 0 1 2 3 4 9 15; do c=$(cpu $i); echo "index $i = CPU $c, siblings $(cat /sys/devices/system/cpu/cpu$c/topology/thread_siblings_list 2>/dev/null), core $(cat /sys/devices/system/cpu/cpu$c/topology/core_id 2>/dev/null), package $(cat /sys/devices/system/cpu/cpu$c/topology/physical_package_id 2>/dev/null)"; done
  gcc --version | head -1; uname -r; uptime; } 2>&1 | tee -a "$LOG"
B=$PWD/bin; rm -rf "$B"; mkdir -p "$B"
cc() { # cc NAME SOURCE [flags]: gcc -O2 -static as the image builder does; dynamic where there is no static libc
  local n=$1 s=$2; shift 2
  gcc -O2 -Wall -static "$@" -o "$B/$n" "$s" 2>/dev/null || gcc -O2 -Wall "$@" -o "$B/$n" "$s" || { say "cannot build $n"; exit 1; }
}
cc old old.c; cc new new.c
VNAMES=()
for v in $VARIANTS; do n=${v%%:*}; cc "$n" new.c ${v#*:}; VNAMES+=("$n"); done
# Format 1 (issue 21's old ring) has neither `version` nor --unchecked.
OLDKINDS="old"; "$B/old" version > /dev/null 2>&1 && OLDKINDS="old old-unchecked"
# How long one pause takes here: the new consumer's wait after a thin read is a number of pauses.
printf '#include <stdio.h>\n#include <time.h>\nint main(void){struct timespec a,b;double best=1e9;for(int k=0;k<5;k++){clock_gettime(CLOCK_MONOTONIC,&a);for(int i=0;i<100000;i++)__builtin_ia32_pause();clock_gettime(CLOCK_MONOTONIC,&b);double t=((b.tv_sec-a.tv_sec)*1e9+(b.tv_nsec-a.tv_nsec))/1e5;if(t<best)best=t;}printf("%%.2f",best);return 0;}\n' > "$B/pause.c"
gcc -O2 -o "$B/pause" "$B/pause.c" 2>/dev/null && PAUSE_NS=$(taskset -c "$(cpu 1)" "$B/pause" 2>/dev/null || "$B/pause")
say "built: $(ls "$B" | grep -v pause | tr '\n' ' ') ($(file -b "$B/new" 2>/dev/null | cut -d, -f1-2); $(ldd "$B/new" 2>&1 | head -1)); one pause ${PAUSE_NS:-?} ns"
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
# kind_run KIND CONSUMER PRODUCER BURST: one run of a kind (old, old-unchecked, new, unchecked, or a variant's name)
kind_run() {
  case $1 in
    old-unchecked) pair old $2 $3 $4 $SECS 4M --unchecked;;
    unchecked) pair new $2 $3 $4 $SECS 4M --unchecked;;
    *) pair $1 $2 $3 $4 $SECS 4M;;
  esac
}
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
lowest() { printf '%s\n' "$@" | sort -g | head -1; }
IFS=, read -ra pairs <<< "$PAIRS"
declare -A R
say ""; say "== old (main) against new, ${SECS} s a run, $PASSES passes (order reversed every other pass), 4 MiB region in $SHM (16384 slots); unchecked = the ceiling"
[ ${#VNAMES[@]} -gt 0 ] && say "   each pass ends with the variants (${VARIANTS}) at burst 1, checked, on pair $VARIANT_PAIR"
for ((pass=1; pass<=PASSES; pass++)); do
  kinds="$OLDKINDS new unchecked"; [ $((pass % 2)) = 0 ] && kinds="unchecked new $(echo $OLDKINDS | tr ' ' '\n' | tac | tr '\n' ' ')"
  for cp in "${pairs[@]}"; do set -- $cp; c=$(cpu $1) p=$(cpu $2)
    for burst in 32 1; do
      line="pass $pass  consumer $c producer $p  burst $burst:"
      for k in $kinds; do
        late && break 4
        x=($(kind_run $k $c $p $burst))
        R[$cp,$burst,$k]="${R[$cp,$burst,$k]:-} ${x[0]}"; line="$line  $k ${x[0]} Mpps (${x[1]} ns, ${x[2]})"
      done
      say "$line"
    done
  done
  if [ ${#VNAMES[@]} -gt 0 ]; then set -- $VARIANT_PAIR; c=$(cpu $1) p=$(cpu $2); line="pass $pass  consumer $c producer $p  burst 1, variants:"
    for v in ${VNAMES[@]+"${VNAMES[@]}"}; do late && break 2; x=($(kind_run $v $c $p 1)); R[variant,$v]="${R[variant,$v]:-} ${x[0]}"; line="$line  $v ${x[0]} Mpps (${x[2]})"; done
    say "$line"
  fi
done
late && say "(deadline of $DEADLINE s reached after ${SECONDS} s: the rest was not run)"
say ""; say "== medians (slowest run in brackets), Mpps"
hdr=""; for k in $OLDKINDS new unchecked; do hdr="$hdr $(printf '%15s' $k)"; done
say "$(printf '%-18s %-5s |' 'consumer,producer' burst)$hdr | $(printf '%8s %10s %10s' 'new÷old' 'chk÷unchk' 'old c÷u')"
for cp in "${pairs[@]}"; do set -- $cp
  for burst in 32 1; do
    row=""; for k in $OLDKINDS new unchecked; do v=${R[$cp,$burst,$k]:-0}; row="$row $(printf '%15s' "$(med $v) [$(lowest $v)]")"; done
    o=$(med ${R[$cp,$burst,old]:-0}); n=$(med ${R[$cp,$burst,new]:-0}); u=$(med ${R[$cp,$burst,unchecked]:-0}); ou=$(med ${R[$cp,$burst,old-unchecked]:-0})
    say "$(printf '%-18s %-5s |' "$(cpu $1),$(cpu $2)" $burst)$row | $(printf '%8s %10s %10s' $(awk "BEGIN{printf \"%.2fx\", $n/($o+1e-9)}") $(awk "BEGIN{printf \"%.2f\", $n/($u+1e-9)}") $(awk "BEGIN{printf \"%.2f\", $o/($ou+1e-9)}"))"
  done
done
for v in ${VNAMES[@]+"${VNAMES[@]}"}; do say "variant $v, burst 1, pair $VARIANT_PAIR: runs${R[variant,$v]:-} (median $(med ${R[variant,$v]:-0}))"; done
if [ -n "$RTT" ] && ! late; then
  set -- $RTT; pingc=$(cpu $1) pongc=$(cpu $2)
  say ""; say "== round trips (ping on CPU $pingc, pong on CPU $pongc, 2 s)"
  for v in old new; do
    f=$SHM/nfvkit-ring-devbench-rtt-$$; rm -f $f; truncate -s 4M $f
    $B/$v pong --file $f --session 77 --cpu $pongc --wait 10 > /dev/null 2>&1 & p=$!
    r=$($B/$v ping --file $f --session 77 --cpu $pingc --seconds 2 --wait 10 2>&1 | tail -1); wait $p; rm -f $f
    say "$v: $(echo "$r" | grep -o '"roundTrips":[0-9]*\|"p50Ns":[0-9]*\|"p99Ns":[0-9]*\|"p999Ns":[0-9]*\|"maxNs":[0-9]*\|"corrupt":[0-9]*' | tr '\n' ' ')"
  done
fi
say ""; say "done after ${SECONDS} s, $(date -u +%FT%TZ), $(uptime)"
