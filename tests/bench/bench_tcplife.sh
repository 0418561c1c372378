#!/usr/bin/env bash
# tcplife next to libbpf-tools' tcplife, the same job: 3000 sequential TCP
# connections between the two namespaces (tests/progs/tcpxfer: connect,
# 100 bytes, close; client on CPU 0, server on CPU 1), bare, with
# `pktscope tcplife` streaming in both namespaces (ps-life), with one
# `pktscope tcplife --all-netns` (ps-life-all: one process and one program
# for every namespace, as the peer), and with /usr/sbin/tcplife (lt-life,
# all namespaces); and the same for tcpstates: one `pktscope tcpstates
# --all-netns` (ps-states) next to /usr/sbin/tcpstates (lt-states).
# Connections per second and CPU per connection, each run paired with the
# bare runs next to it (bench_throughput.sh does the work; see its header).
# Every run checks that the tool reported both ends of every connection
# (tcplife) or every state change (tcpstates: ten per connection and the
# listener's two).  About 3 minutes.
cd "$(dirname "$0")/../.." || exit 1
export THR_NAME=tcplife
export THR_SETUPS=${THR_SETUPS:-"bare ps-life ps-life-all lt-life ps-states lt-states"}
export THR_WORKLOADS=${THR_WORKLOADS:-"conns"}
export THR_VS=${THR_VS:-"ps-life-all:lt-life ps-life:lt-life ps-states:lt-states"}
exec bash tests/bench/bench_throughput.sh
