#!/usr/bin/env bash
# profile overhead and start-up time, pktscope next to bpftrace, same run.
#  - throughput of a CPU-bound program (cpuhog: calls of hot() in 5 s) alone,
#    under `pktscope profile -F 99` and under bpftrace's profile:hz:99 with
#    kernel and user stacks;
#  - start-up: launch to "sampling has begun" (pktscope's "Sampling" line,
#    bpftrace's "Attaching 1 probe..."), the best of 3.
set -u
cd "$(dirname "$0")/../.."
PKTSCOPE=${PKTSCOPE:-$PWD/build/pktscope}
HOG=build/tests/progs/cpuhog
SECS=4
TMP=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"' EXIT

have_bpftrace=1
command -v bpftrace >/dev/null || have_bpftrace=0
BT_PROG='profile:hz:99 { @[kstack, ustack] = count(); }'

hog() { "$HOG" "$SECS" | awk '{print $2}'; }

# wait_line FILE PATTERN: seconds until PATTERN shows up in FILE (30 s max).
wait_line() {
	local t0 i
	t0=$(date +%s.%N)
	for i in $(seq 3000); do
		grep -q "$2" "$1" 2>/dev/null && break
		sleep 0.01
	done
	awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.3f\n", a - b }'
}

calc() { awk "BEGIN { printf \"%.3f\", $* }"; }

# stop PID: SIGTERM, then SIGKILL after 5 s (bpftrace may miss a SIGTERM
# that arrives while it is still attaching).
stop() {
	local i
	kill -TERM "$1" 2>/dev/null
	for i in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# One round: alone, under pktscope, under bpftrace, back to back, so that
# load from elsewhere on the machine hits all three alike; 3 rounds.
declare -a A P B
for r in 1 2 3; do
	A[$r]=$(hog)
	"$PKTSCOPE" profile -F 99 -d 60 >/dev/null 2>"$TMP/ps.err" &
	pp=$!; PIDS+=($pp)
	wait_line "$TMP/ps.err" Sampling >/dev/null
	P[$r]=$(hog)
	kill -INT "$pp"; wait "$pp" 2>/dev/null
	B[$r]=0
	if [ $have_bpftrace = 1 ]; then
		bpftrace -e "$BT_PROG" >"$TMP/bt.out" 2>&1 &
		bp=$!; PIDS+=($bp)
		wait_line "$TMP/bt.out" Attaching >/dev/null
		B[$r]=$(hog)
		stop "$bp"
	fi
done
sum() { local t=0 v; for v in "$@"; do t=$((t + v)); done; echo $t; }
a=$(sum "${A[@]}") p=$(sum "${P[@]}") b=$(sum "${B[@]}")
echo "throughput of cpuhog (calls of hot() in $SECS s; 3 interleaved rounds):"
printf '  %-28s %s = %d\n' "alone" "${A[*]}" "$a"
printf '  %-28s %s = %d  (%s%% of alone)\n' "pktscope profile -F 99" "${P[*]}" "$p" "$(calc "100 * $p / $a")"
if [ $have_bpftrace = 1 ]; then
	printf '  %-28s %s = %d  (%s%% of alone)\n' "bpftrace profile:hz:99" "${B[*]}" "$b" "$(calc "100 * $b / $a")"
else
	echo "  bpftrace not installed: no peer figure (make deps installs it)"
fi

best() { sort -n | head -1; }
echo "start-up, launch to sampling (best of 3):"
for i in 1 2 3; do
	"$PKTSCOPE" profile -F 99 -d 60 >/dev/null 2>"$TMP/s$i.err" &
	p=$!
	wait_line "$TMP/s$i.err" Sampling
	kill -INT "$p"; wait "$p" 2>/dev/null
done | best >"$TMP/ps_start"
printf '  %-34s %8.3f s\n' "pktscope profile" "$(cat "$TMP/ps_start")"
if [ $have_bpftrace = 1 ]; then
	for i in 1 2 3; do
		bpftrace -e "$BT_PROG" >"$TMP/b$i.out" 2>&1 &
		p=$!
		wait_line "$TMP/b$i.out" Attaching
		# Background jobs of a script start with SIGINT ignored; bpftrace
		# keeps it so: stop it with SIGTERM.
		stop "$p"
	done | best >"$TMP/bt_start"
	printf '  %-34s %8.3f s  (pktscope/bpftrace %.2f)\n' "bpftrace profile:hz:99" \
		"$(cat "$TMP/bt_start")" "$(calc "$(cat "$TMP/ps_start") / $(cat "$TMP/bt_start")")"
fi
