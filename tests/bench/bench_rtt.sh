#!/usr/bin/env bash
# Per-packet cost of passive RTT tracking (attach --rtt): the XDP and TC
# programs with RTT off and on, side by side via BPF_PROG_TEST_RUN (repeat
# 10^6, median of interleaved rounds), printed as on/off ratios.
set -u
cd "$(dirname "$0")/../.."
bin=${BUILD_DIR:-build}/tests/bench_rtt
if [ ! -x "$bin" ]; then
	echo "bench_rtt: $bin is missing: run 'make'" >&2
	exit 1
fi
exec "$bin" -r "${BENCH_REPEAT:-1000000}" -n "${BENCH_ROUNDS:-7}"
