#!/usr/bin/env bash
# profile overhead and start-up time, pktscope next to bpftrace, same run.
#  - throughput of a CPU-bound program (cpuhog: calls of hot() in 5 s) alone,
#    under `pktscope profile -F 99` and under bpftrace's profile:hz:99 with
#    kernel and user stacks;
#    (both with the same work: a count per kernel+user stack pair);
#  REPS rounds (default 5) of alone / pktscope / bpftrace back to back;
#  medians, per-round ratios.  Start-up time is in bench_startup.sh.
#  About 1 minute.
set -u
cd "$(dirname "$0")/../.."
BENCH_NAME=cpu; . tests/bench/lib.sh
PKTSCOPE=${PKTSCOPE:-${BUILD_DIR:-$PWD/build}/pktscope}
HOG=${BUILD_DIR:-$PWD/build}/tests/progs/cpuhog
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

# One round: alone, under pktscope, under bpftrace, back to back, so that
# load from elsewhere on the machine hits all three alike.
declare -a A P B
for ((r = 0; r < BENCH_REPS; r++)); do
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
		sleep 0.3	# bpftrace prints "Attaching" just before it attaches
		B[$r]=$(hog)
		# SIGKILL after 5 s: bpftrace may miss a SIGTERM while it attaches.
		bench_stop "$bp"
	fi
done
bench_figure cpu.profile.overhead "cpuhog throughput (hot() calls in $SECS s) under pktscope profile -F 99 vs alone" calls \
	"pktscope profile" "${P[*]}" "alone" "${A[*]}" ">= 0.99x" higher
if [ $have_bpftrace = 1 ]; then
	bench_figure cpu.profile.bpftrace "cpuhog throughput: under pktscope profile -F 99 vs under bpftrace profile:hz:99 (stack counts)" calls \
		"pktscope profile" "${P[*]}" "bpftrace profile" "${B[*]}" ">= 1x" higher
else
	echo "  bpftrace not installed: no peer figure (make deps installs it)"
fi
