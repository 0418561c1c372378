#!/usr/bin/env bash
# Which XDP mode to use on a veth: iperf3 TCP (1 stream) bare, with an empty
# native XDP program (xdp-pass), empty TC programs (tc-empty as clsact
# filters, tcx-empty as TCX links), and pktscope's
# counters with XDP native, XDP generic (skb mode) and without XDP (TC only,
# as TCX links, the default, and as clsact filters),
# throughput and CPU per GB, each run paired with the bare runs next to it
# as in bench_throughput.sh (which does the work; see its header).  Then,
# with kernel.bpf_stats_enabled=1 for a moment, the nanoseconds per run of
# each XDP/TC program on the two veths (median of 3): what the programs
# cost next to the empty ones at the same hooks.
# About 6 minutes with REPS=7 (estimate: 7 rounds x 10 blocks, ~4 s each,
# plus the bpf_stats runs).
cd "$(dirname "$0")/../.." || exit 1
export THR_NAME=throughput_modes
export THR_SETUPS=${THR_SETUPS:-"bare xdp-pass tc-empty tcx-empty c-native c-generic c-tc c-clsact"}
export THR_WORKLOADS=${THR_WORKLOADS:-"tcp1"}
export THR_PROGNS=${THR_PROGNS-"tc-empty tcx-empty c-tc c-tc-chain c-clsact xdp-pass c-native c-generic"}
exec bash tests/bench/bench_throughput.sh
