#!/usr/bin/env bash
# What pktscope's TCP probes cost a veth transfer: iperf3 TCP (1 and 4
# streams) between two namespaces, bare, with the persistent TCP probes
# pinned in both namespaces (tcp-persist attach), and with tcplife and
# tcpretrans streaming in both; each run paired with the bare runs next to
# it, median of the per-round ratios over REPS (7) rounds, and CPU per GB
# (target >= 0.98, CPU <= 1.02).  None of these tracepoints is on
# the per-packet path.  bench_throughput.sh does the work (see its header);
# start-up of tcplife is measured by bench_startup.sh.  About 2 minutes.
cd "$(dirname "$0")/../.." || exit 1
export THR_NAME=tcp
export THR_SETUPS=${THR_SETUPS:-"bare tcp-persist tcp-stream"}
export THR_WORKLOADS=${THR_WORKLOADS:-"tcp1 tcp4"}
exec bash tests/bench/bench_throughput.sh
