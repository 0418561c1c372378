#!/usr/bin/env bash
# What counting the kernel's drops costs under a drop storm: iperf3 sends
# 64-byte UDP datagrams as fast as it can (-b 0) to a port where an nft rule
# of the receiving namespace drops every one of them (UDP length 72;
# iperf3's 4-byte hello passes): each is freed as a NETFILTER_DROP, in the
# softirq on the sender's CPU.  Datagrams sent per second
# and CPU per datagram, bare, with `pktscope drops --persist attach` in the
# receiving namespace (kdrops), and with tests/bench/bt/kdrops.bt, bpftrace
# doing the same counting (bt-kdrops); each run paired with the bare runs
# next to it (bench_throughput.sh does the work; see its header).  Every
# kdrops run checks that pktscope counted each datagram sent as one UDP
# NETFILTER_DROP on veth0.  About 2 minutes.
cd "$(dirname "$0")/../.." || exit 1
export THR_NAME=kdrops
export THR_SETUPS=${THR_SETUPS:-"bare kdrops bt-kdrops"}
export THR_WORKLOADS=${THR_WORKLOADS:-"udpdrop"}
export THR_VS=${THR_VS:-"kdrops:bt-kdrops"}
exec bash tests/bench/bench_throughput.sh
