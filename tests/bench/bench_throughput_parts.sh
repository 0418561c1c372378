#!/usr/bin/env bash
# What each piece of pktscope's network set costs a veth transfer: iperf3
# TCP (1 stream) and UDP 64 B bare, then counters (c-tc), + --tcp, + --rtt,
# + drops --persist, + tcplife streaming (= the whole set), each added to
# the previous one, in the XDP mode PART_MODE (default none: TC only, so
# that the veth's loss of GSO under native XDP, measured by
# bench_throughput_modes.sh, does not hide the pieces).  Throughput and CPU
# per GB / per datagram, each run paired with the bare runs next to it as
# in bench_throughput.sh (which does the work; see its header).
# About 8 minutes with REPS=7 (estimate: 7 rounds x 12 blocks, ~6 s each).
cd "$(dirname "$0")/../.." || exit 1
export THR_NAME=throughput_parts
export PART_MODE=${PART_MODE:-none}
case $PART_MODE in native) c=c-native ;; generic) c=c-generic ;; *) c=c-tc ;; esac
# With TC only, tcx-empty too: empty programs at the same hooks, the floor
# under every piece (figures "-overfloor").
f=""; [ "$PART_MODE" = none ] && f=tcx-empty
export THR_SETUPS=${THR_SETUPS:-"bare $f $c tcp rtt drops stream"}
export THR_WORKLOADS=${THR_WORKLOADS:-"tcp1 udp64"}
exec bash tests/bench/bench_throughput.sh
