#!/usr/bin/env bash
# Per-packet cost of the XDP and TC accounting programs next to an empty
# XDP_PASS / TC_ACT_OK program, via BPF_PROG_TEST_RUN (repeat 10^6, median of
# interleaved rounds).  Table on stdout, JSON in build/bench/progrun.json.
set -u
cd "$(dirname "$0")/../.."
bin=build/tests/bench_progrun
if [ ! -x "$bin" ]; then
	echo "bench_progrun: $bin is missing: run 'make'" >&2
	exit 1
fi
mkdir -p build/bench
exec "$bin" -r "${BENCH_REPEAT:-1000000}" -n "${BENCH_ROUNDS:-7}" -o build/bench/progrun.json
