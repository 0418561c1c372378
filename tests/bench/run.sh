#!/usr/bin/env bash
# make bench: every tests/bench/bench_*.sh in turn.  Benchmarks print ratios
# measured side by side in the same run; they never pass or fail on speed.
set -u
cd "$(dirname "$0")/../.."
export PKTSCOPE=$PWD/build/pktscope
mkdir -p build/bench
for b in tests/bench/bench_*.sh; do
	[ -e "$b" ] || continue
	echo "== $(basename "$b" .sh)"
	# A bench that hangs (a peer tool that ignores its signal) is cut off.
	timeout --kill-after=10 "${BENCH_TIMEOUT:-400}" bash "$b" || echo "   ($(basename "$b") exited $?)"
	echo
done
