#!/usr/bin/env bash
# Per-packet cost of the drop filter in pktscope's XDP and TC ingress
# programs (BPF_PROG_TEST_RUN, 64-byte UDP/IPv4, median of interleaved
# rounds): no rule vs one rule (not matching / matching) vs 16 rules.
set -u
cd "$(dirname "$0")/../.."
bin=${BUILD_DIR:-build}/tests/bench_filter
if [ ! -x "$bin" ]; then
	echo "bench_drops: $bin is missing: run 'make'" >&2
	exit 1
fi
exec "$bin" -r "${BENCH_REPEAT:-1000000}" -n "${BENCH_ROUNDS:-7}"
