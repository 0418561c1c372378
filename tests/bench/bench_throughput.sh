#!/usr/bin/env bash
# Throughput and CPU cost over the two-host veth bench with and without
# observers, side by side: iperf3 TCP 1 stream, TCP 4 streams (-P 4), and
# UDP with 64-byte datagrams sent as fast as iperf3 can (-b 0; received
# datagrams per second).
#
# Setups (THR_SETUPS picks them; default: bare full tcx-empty full-clsact
# tc-empty full-generic bpftrace ltools full-native xdp-pass):
#   bare      nothing attached
#   full      pktscope's whole network set on both ends: attach veth0 in
#             XDP mode $FULL_MODE + TC, --tcp (persistent TCP probes),
#             --rtt; drops --persist attach; a streaming `pktscope tcplife`
#             per namespace.  FULL_MODE is none (--no-xdp, the default),
#             generic or native.
#             TC is attached the default way: TCX links on this kernel
#             (Linux 6.6+), no cls_bpf/tcf_classify around the programs.
#             full-tc, full-generic, full-native: the same in that mode.
#             full-clsact: the same as full with --clsact (classic tc
#             filters); figure "full-vs-clsact" puts the two side by side.
#             full-tcx: the same as full with --tcx (= full here).
#   bpftrace  tests/bench/bt/netacct.bt: the same accounting on tracepoints
#             (per device and direction packets/bytes by L3/L4, size
#             histogram, TCP lives from sock:inet_sock_set_state)
#   ltools    libbpf-tools' tcplife and tcpstates running
# Why full is --no-xdp: README advises `--no-xdp` (or `--mode generic` when
# the XDP hook itself is wanted) on a veth, since any native XDP program
# there, even an empty one, makes the veth turn off GSO/TSO on its peer.
# Both recommended modes are measured (full and full-generic); --no-xdp does
# the same counting (TC ingress sees the same packets as generic XDP, each
# GSO super-packet once, as `ip -s link` counts them) with one program per
# packet fewer and without generic XDP's copy of every received packet
# (do_xdp_generic -> skb_pp_cow_data: 1.2-1.4x bare's CPU per GB here), so
# it is the headline figure.  full-native and xdp-pass (an
# empty native XDP program, its cause) are informative figures of that
# veth effect; they have no target.
# For finding where the cost is (bench_throughput_modes.sh and
# bench_throughput_parts.sh run these):
#   xdp-pass  an XDP program that only returns XDP_PASS, native, both ends
#   tc-empty  TC ingress+egress programs that only return TC_ACT_OK, both ends,
#             as classic tc filters (clsact qdisc)
#   tcx-empty the same as TCX links (tests/unit/tcx_hold.c), the way
#             pktscope attaches by default: the floor under c-tc and full
#   c-native  pktscope counters only: XDP native + TC
#   c-generic pktscope counters only: XDP generic (skb mode) + TC
#   c-tc      pktscope counters only: --no-xdp (TC ingress + egress, the
#             default way: TCX links on this kernel)
#   c-tc-chain  c-tc between two empty TCX programs that answer TCX_NEXT
#             (one before pktscope's on each hook, one after): for
#             THR_PROGNS, pktscope's programs and empty ones run on the same
#             packets at the same moments
#   c-tcx     the same with --tcx
#   c-clsact  the same as classic tc filters (--no-xdp --clsact)
#   tcp       counters + --tcp                 (XDP mode: $PART_MODE)
#   rtt       counters + --tcp + --rtt
#   drops     counters + --tcp + --rtt + drops --persist
#   stream    all of the above + tcplife streaming (= full in $PART_MODE)
# and for the kernel's drops (bench_kdrops.sh), with the workload udpdrop
# (64-byte UDP to a second server whose datagrams an nft rule in NS_B drops;
# datagrams sent per second):
#   kdrops    pktscope drops --persist attach in NS_B (every run checks that
#             each datagram sent was counted as one UDP NETFILTER_DROP)
#   bt-kdrops tests/bench/bt/kdrops.bt: bpftrace doing the same counting
# and for tcplife (bench_tcplife.sh), with the workload conns ($CONNS,
# THR_CONNS, default 3000, sequential TCP connections by tests/progs/tcpxfer,
# 100 bytes each; connections per second):
#   ps-life   pktscope tcplife streaming in both namespaces
#   ps-life-all  one pktscope tcplife --all-netns (every namespace)
#   lt-life   libbpf-tools' tcplife (all namespaces)
#   (every run checks that the tool reported both ends of every connection)
#   ps-states one pktscope tcpstates --all-netns
#   lt-states libbpf-tools' tcpstates (all namespaces)
#   (every run checks that the tool reported every state change: ten per
#   connection, both ends, and the listener's two)
# THR_VS="A:B ..." adds figures WORKLOAD-A-vs-B: setup A next to setup B.
# And for the TCP probes alone (bench_tcp.sh):
#   tcp-persist  pktscope tcp-persist attach in both namespaces, no XDP/TC
#   tcp-stream   pktscope tcplife and tcpretrans streaming in both namespaces
# PART_MODE is native, generic or none (--no-xdp); default none, as for
# full and in bench_throughput_parts.sh (the tcp, rtt and drops setups then
# get the tcx-empty floor figures too).
#
# How it measures (made for a shared 2-CPU machine where one run can be
# half or twice the next for reasons of its own):
# - iperf3's client is pinned to CPU $THR_CPU_CLIENT (0), its server to
#   $THR_CPU_SERVER (1), so the scheduler does not move them around.
# - Short runs (SECS=1 s each), many rounds (REPS, default 7), and bare in
#   between every other setup: bare X bare Y bare Z bare ..., the order of
#   the others rotating from round to round.  Every run of a setup thus has
#   a bare run of the same workload just before and just after it (a few
#   seconds away), and its ratio is taken to the mean of those two (which
#   cancels a load that rises or falls linearly).  The figure's ratio is the
#   median of these per-round ratios (BENCH_RATIO=paired in lib.sh), not a
#   ratio of medians; "base" in the figure is the neighbours' mean.
# - After each setup is installed, one short transfer (iperf3 -n 100M) is
#   run and thrown away (warm-up: first packets, first map entries, first
#   tcplife lines), for bare too.
# - Besides throughput, the CPU time the transfer took: iperf3 client and
#   server, ksoftirqd/N and the observers' own processes (bpftrace,
#   tcplife...), from /proc/PID/task/*/schedstat (sum_exec_runtime) and the
#   client's rusage, per GB received (TCP) or per datagram received (UDP).
#   The kernel has no IRQ time accounting, so the veth's receive path and the
#   BPF programs, run in softirq on the back of the sending or receiving
#   iperf3, are charged to it.  A transfer over a veth is CPU-bound, so
#   keeping 97% of bare throughput is CPU per byte <= 1/0.97 = 1.031x;
#   the time a noisy neighbour takes does not count in it.
# - After each pktscope run the receiver's counters are printed next to the
#   veth's own rx_packets/rx_bytes (and the sender's tc_egress next to
#   tx_packets/tx_bytes), as evidence that the run was counted, and counted
#   as `ip -s link` counts: per packet the stack handles (a GSO super-packet
#   is one packet).
# - The informative setups (THR_INFO, default tc-empty full-generic
#   full-native xdp-pass when THR_SETUPS is not given) run in the first
#   THR_INFO_ROUNDS (3) rounds only; the receiver's and sender's counters
#   are compared in the first THR_EVIDENCE_ROUNDS (2) rounds.
# - tcx-empty and tc-empty are the floors: what the TC hooks cost with
#   programs that do nothing.  Figures "-overfloor" put each pktscope setup
#   next to the floor of its hooks (floor_of below): its own cost.
# Runtime with the defaults: 7 rounds (3 with 9 setups + bare, 4 with 5 +
# bare) of 3 runs per block, about 10 minutes on the shared 2-CPU machine.
#
#   REPS=7 SECS=1 THR_SETUPS="bare full bpftrace ltools" tests/bench/bench_throughput.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
BENCH_NAME=${THR_NAME:-throughput}
. tests/bench/lib.sh
. netns-scripts/two-hosts.sh
BENCH_REPS=${REPS:-7}
BENCH_RATIO=paired
PKTSCOPE=${PKTSCOPE:-$PWD/build/pktscope}
SECS=${SECS:-1}
FULL_MODE=${FULL_MODE:-none}
PART_MODE=${PART_MODE:-none}
CPU_C=${THR_CPU_CLIENT:-0} CPU_S=${THR_CPU_SERVER:-1}
[ "$(nproc)" -ge 2 ] || CPU_S=$CPU_C
read -r -a SETUPS <<<"${THR_SETUPS:-bare full tcx-empty full-clsact tc-empty full-generic bpftrace ltools full-native xdp-pass}"
read -r -a WORKLOADS <<<"${THR_WORKLOADS:-tcp1 tcp4 udp64}"
BT=${BPFTRACE:-bpftrace}
XFER=$(dirname "$PKTSCOPE")/tests/progs/tcpxfer
CONNS=${THR_CONNS:-3000}
TMP=$(mktemp -d /tmp/pktscope-bench-thr.XXXXXX)
TAG=bt$(( $$ % 100000 ))
two_hosts_vars "$TAG"
PKTSCOPE_ALT=${PKTSCOPE_ALT:-$PKTSCOPE}
TCX_HOLD=$(dirname "$PKTSCOPE")/tests/tcx_hold
SRV="" BG=() CUR=bare PS=$PKTSCOPE

# Empty programs: the cost of the hooks themselves.
cat >"$TMP/empty.bpf.c" <<'END_OF_PROG'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Same hook and frags flag as pktscope's XDP program. */
SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int tc_ok(struct __sk_buff *skb)
{
	return 0;	/* TC_ACT_OK */
}

/* For a TCX chain: TC_ACT_UNSPEC, TCX_NEXT, so the programs after it run. */
SEC("tc")
int tc_next(struct __sk_buff *skb)
{
	return -1;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
END_OF_PROG
VMH=$(dirname "$PKTSCOPE")
if ! clang -O2 -g -target bpf -I"$VMH" -c "$TMP/empty.bpf.c" -o "$TMP/empty.bpf.o"; then
	echo "cannot build the empty programs (make first: they need $VMH/vmlinux.h)" >&2
	exit 1
fi

both() { local ns; for ns in "$NS_A" "$NS_B"; do "$@" "$ns" || return 1; done; }
ps_attach() {	# NS OPTIONS...
	local ns=$1; shift
	"$PS" --netns "$ns" attach veth0 "$@" >/dev/null
}
ps_detach() {
	"$PS" --netns "$1" detach veth0 --tcp >/dev/null 2>&1
	"$PS" --netns "$1" detach veth0 >/dev/null 2>&1
	"$PS" --netns "$1" drops --persist detach >/dev/null 2>&1
	return 0
}
# bg_start READY_PATTERN LOG CMD...: start CMD in the background, wait until
# LOG shows READY_PATTERN (the tool is attached).
bg_start() {
	local pat=$1 log=$2 t; shift 2
	: >"$log"
	"$@" &
	BG+=($!)
	t=$(bench_wait_line "$log" "$pat" 60) || { echo "   not ready: $* (see $log)" >&2; return 1; }
}
bg_stop() {
	local p
	for p in "${BG[@]}"; do bench_stop "$p"; done
	BG=()
}
mode_opt() {
	case $1 in native) echo "--mode native" ;; generic) echo "--mode generic" ;;
	none) echo "--no-xdp" ;; tcx) echo "--no-xdp --tcx" ;; clsact) echo "--no-xdp --clsact" ;; esac
}
ps_set() {	# NS LEVEL MODE: pktscope pieces up to LEVEL
	local ns=$3 lvl=$1 m; m=$(mode_opt "$2")
	case $lvl in
	counters) ps_attach "$ns" $m ;;
	tcp) ps_attach "$ns" $m --tcp ;;
	*) ps_attach "$ns" $m --tcp --rtt &&
	   { [ "$lvl" = rtt ] || "$PS" --netns "$ns" drops --persist attach >/dev/null; } ;;
	esac
}
ps_stream() {	# NS
	bg_start Tracing "$TMP/tcplife-$1.err" \
		sh -c "exec $PS --netns $1 tcplife >/dev/null 2>$TMP/tcplife-$1.err"
}

# A setup NAME+alt is NAME done by $PKTSCOPE_ALT (another build, for
# before/after comparisons of a change); NAME+alt1 .. NAME+alt9 the same
# with $PKTSCOPE_ALT1 .. $PKTSCOPE_ALT9.
ps_bin() {
	case $1 in
	*+alt) PS=$PKTSCOPE_ALT ;;
	*+alt[0-9]) local v=PKTSCOPE_ALT${1##*+alt}; PS=${!v:?$1 needs $v} ;;
	*) PS=$PKTSCOPE ;;
	esac
}
tcp_persist() { "$PS" --netns "$1" tcp-persist attach >/dev/null; }
# tcx_hold PROG TAG NS: the empty program PROG as TCX links on both hooks
# of NS's veth0 (appended: after those already there), until bg_stop.
tcx_hold() {
	local out=$TMP/tcx-$3-$1-$2.out
	bg_start attached "$out" sh -c "exec ip netns exec $3 $TCX_HOLD $TMP/empty.bpf.o $1 veth0 >$out 2>&1"
}
tcpretrans_stream() {	# NS
	bg_start Tracing "$TMP/tcpretrans-$1.err" \
		sh -c "exec $PS --netns $1 tcpretrans >/dev/null 2>$TMP/tcpretrans-$1.err"
}

setup() {	# NAME: undo the current setup, install NAME
	bg_stop
	ps_bin "$CUR"
	case ${CUR%+alt*} in
	bare|bpftrace|ltools|bt-kdrops|ps-life|ps-life-all|lt-life|ps-states|lt-states) ;;
	kdrops) "$PS" --netns "$NS_B" drops --persist detach >/dev/null ;;
	tcx-empty) rm -f "$TMP"/tcx-*.out ;;	# tcx_hold: stopped by bg_stop
	c-tc-chain) rm -f "$TMP"/tcx-*.out; both ps_detach ;;
	xdp-pass) ip -n "$NS_A" link set dev veth0 xdpdrv off
		  ip -n "$NS_B" link set dev veth0 xdpdrv off ;;
	tc-empty) tc -n "$NS_A" qdisc del dev veth0 clsact
		  tc -n "$NS_B" qdisc del dev veth0 clsact ;;
	tcp-stream) ;;
	tcp-persist) for ns in "$NS_A" "$NS_B"; do "$PS" --netns "$ns" tcp-persist detach >/dev/null; done ;;
	*) both ps_detach ;;
	esac
	CUR=$1
	ps_bin "$1"
	local b=${1%+alt*}
	case $b in
	bare) ;;
	full) both ps_set drops "$FULL_MODE" && both ps_stream ;;
	full-native|full-generic|full-tcx|full-clsact) both ps_set drops "${b#full-}" && both ps_stream ;;
	full-tc) both ps_set drops none && both ps_stream ;;
	tcp-persist) both tcp_persist ;;
	tcp-stream) both ps_stream && both tcpretrans_stream ;;
	c-native) both ps_set counters native ;;
	c-generic) both ps_set counters generic ;;
	c-tc) both ps_set counters none ;;
	c-tcx) both ps_set counters tcx ;;
	c-clsact) both ps_set counters clsact ;;
	tcp|rtt|drops) both ps_set "$b" "$PART_MODE" ;;
	stream) both ps_set drops "$PART_MODE" && both ps_stream ;;
	xdp-pass)
		local ns
		for ns in "$NS_A" "$NS_B"; do
			ip -n "$ns" link set dev veth0 xdpdrv obj "$TMP/empty.bpf.o" sec xdp.frags || return 1
		done ;;
	tcx-empty)
		both tcx_hold tc_ok 0 ;;
	c-tc-chain)
		both tcx_hold tc_next 1 && both ps_set counters none && both tcx_hold tc_next 2 ;;
	tc-empty)
		local ns d
		for ns in "$NS_A" "$NS_B"; do
			tc -n "$ns" qdisc add dev veth0 clsact || return 1
			for d in ingress egress; do
				tc -n "$ns" filter add dev veth0 "$d" bpf da obj "$TMP/empty.bpf.o" sec tc || return 1
			done
		done ;;
	kdrops) "$PS" --netns "$NS_B" drops --persist attach >/dev/null ;;
	ps-life)
		local ns
		for ns in "$NS_A" "$NS_B"; do
			bg_start Tracing "$TMP/pslife-$ns.err" \
				sh -c "exec $PS --netns $ns tcplife >$TMP/pslife-$ns.out 2>$TMP/pslife-$ns.err" || return 1
		done ;;
	ps-life-all)
		bg_start Tracing "$TMP/pslife-all.err" \
			sh -c "exec $PS tcplife --all-netns >$TMP/pslife-all.out 2>$TMP/pslife-all.err" ;;
	lt-life)
		bg_start PID "$TMP/ltlife.out" sh -c "exec stdbuf -oL /usr/sbin/tcplife >$TMP/ltlife.out 2>&1" ;;
	ps-states)
		bg_start Tracing "$TMP/psstates.err" \
			sh -c "exec $PS tcpstates --all-netns >$TMP/psstates.out 2>$TMP/psstates.err" ;;
	lt-states)
		bg_start SKADDR "$TMP/ltstates.out" \
			sh -c "exec stdbuf -oL /usr/sbin/tcpstates >$TMP/ltstates.out 2>&1" ;;
	bt-kdrops)
		bg_start 'Attaching' "$TMP/btk.out" \
			sh -c "exec $BT tests/bench/bt/kdrops.bt $NSINO_B >$TMP/btk.out 2>&1" &&
		sleep 0.5 ;;
	bpftrace)
		bg_start 'Attaching' "$TMP/bt.out" \
			sh -c "exec $BT tests/bench/bt/netacct.bt >$TMP/bt.out 2>&1" &&
		sleep 0.5 ;;	# "Attaching N probes..." is printed just before attaching
	ltools)
		bg_start PID "$TMP/tcplife.out" sh -c "exec stdbuf -oL /usr/sbin/tcplife >$TMP/tcplife.out 2>&1" &&
		bg_start SKADDR "$TMP/tcpstates.out" sh -c "exec stdbuf -oL /usr/sbin/tcpstates >$TMP/tcpstates.out 2>&1" ;;
	*) echo "unknown setup $1" >&2; return 1 ;;
	esac
}

teardown() {
	trap - EXIT
	trap "" INT TERM
	[ -n "$SRV" ] && kill -TERM -- "-$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	[ -n "${SRV2:-}" ] && kill -TERM -- "-$SRV2" 2>/dev/null && wait "$SRV2" 2>/dev/null
	setup bare
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# iperf_server PORT: an iperf3 server in NS_B on CPU_S, listening when this
# returns; its PID in SRV_PID (setsid, taskset and ip netns exec all exec).
iperf_server() {
	local i
	setsid taskset -c "$CPU_S" ip netns exec "$NS_B" iperf3 -s -p "$1" >/dev/null 2>&1 &
	SRV_PID=$!
	for i in $(seq 50); do
		ip netns exec "$NS_B" ss -Hltn "sport = :$1" | grep -q . && break
		sleep 0.1
	done
}

two_hosts_up "$TAG" || exit 1
iperf_server 5201
SRV=$SRV_PID
# udpdrop: a second server, whose UDP port the receiver drops in nft.
SRV2="" NSINO_B=""
if [[ " ${WORKLOADS[*]} " == *" udpdrop "* ]]; then
	iperf_server 5202
	SRV2=$SRV_PID
	# Only the 64-byte datagrams (UDP length 72): iperf3's 4-byte hello must pass.
	printf 'table inet psbench {\n\tchain in {\n\t\ttype filter hook input priority 0;\n\t\tudp dport 5202 udp length 72 drop\n\t}\n}\n' |
		ip netns exec "$NS_B" nft -f - || exit 1
	NSINO_B=$(stat -L -c %i "/run/netns/$NS_B")
fi
if [[ " ${WORKLOADS[*]} " == *" conns "* ]]; then
	ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.ip_local_port_range="10000 65000"
fi
ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null
KSOFT=$(pgrep -x 'ksoftirqd/[0-9]+' | tr '\n' ' ')

# cpu_ns PID...: CPU time (ns) the processes' threads have run so far.
cpu_ns() {
	local p f s=0 t
	for p in "$@"; do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r t _ <"$f" 2>/dev/null && s=$((s + t))
		done
	done
	echo "$s"
}

# run WORKLOAD: one measurement, printed as "VALUE CPU": VALUE is bits/s
# received (TCP) or datagrams/s received (UDP; udpdrop: sent); CPU is the CPU
# time of the transfer (see the header) per GB received (s/GB, TCP) or per
# datagram received (us/datagram, UDP; udpdrop: sent).
run() {
	local args dur="-t $SECS" a0 a1 t port=5201 sum=sum_received
	[ "$1" = conns ] && { run_conns; return; }
	case $1 in
	tcp1) args="" ;;
	tcp4) args="-P 4" ;;
	udp64) args="-u -l 64 -b 0" ;;
	udpdrop) args="-u -l 64 -b 0" port=5202 sum=sum_sent ;;
	warm) args="" dur="-n 100M" ;;
	esac
	a0=$(cpu_ns "$SRV" $SRV2 $KSOFT "${BG[@]}")
	# The subshell's `times`: the client's user and system time (rusage).
	t=$( (taskset -c "$CPU_C" ip netns exec "$NS_A" iperf3 -c "$IP_B" -p "$port" $args \
		$dur -J >"$TMP/run.json" 2>/dev/null; times) | tail -1)
	a1=$(cpu_ns "$SRV" $SRV2 $KSOFT "${BG[@]}")
	[ "$1" = warm ] && return 0
	jq -r --arg s "$sum" '.end[$s] | "\(.bytes // 0) \(.seconds // 0)"' "$TMP/run.json" 2>/dev/null |
	awk -v w="$1" -v t="$t" -v d=$((a1 - a0)) '
		function sec(s) { split(s, x, "m"); sub("s", "", x[2]); return x[1] * 60 + x[2] }
		{
			split(t, u, " ")
			cpu = sec(u[1]) + sec(u[2]) + d / 1e9
			if ($1 <= 0 || $2 <= 0) exit
			if (w == "udp64" || w == "udpdrop")
				printf "%.6g %.6g\n", $1 / 64 / $2, cpu * 1e6 / ($1 / 64)
			else
				printf "%.6g %.6g\n", $1 * 8 / $2, cpu / ($1 / 1e9)
		}'
}

# run_conns: CONNS sequential TCP connections, tcpxfer client (CPU_C, NS_A)
# to a tcpxfer server (CPU_S, NS_B) on port 5203, 100 bytes up and nothing
# back each: "connections/s CPU-us/connection", the CPU of client, server,
# ksoftirqd and the observers (the children's line of `times` in the
# subshell that ran both).  NS_A reuses its TIME_WAIT ports (tcp_tw_reuse
# 1) over a wide range, so thousands of connections a run do not leave the
# next run searching for a free port.
run_conns() {
	local a0 a1 out
	a0=$(cpu_ns $KSOFT "${BG[@]}")
	out=$( (taskset -c "$CPU_S" ip netns exec "$NS_B" "$XFER" server "$IP_B" 5203 0 "$CONNS" \
			>"$TMP/xfer.out" 2>&1 &
		s=$!
		for _ in $(seq 250); do grep -q ready "$TMP/xfer.out" && break; sleep 0.02; done
		t0=$(date +%s%N)
		taskset -c "$CPU_C" ip netns exec "$NS_A" "$XFER" client "$IP_B" 5203 100 "$CONNS" >/dev/null 2>&1
		wait "$s"
		t1=$(date +%s%N)
		times	# the subshell's own line, then its children's
		echo $((t1 - t0))) | tail -2 | tr '\n' ' ')
	a1=$(cpu_ns $KSOFT "${BG[@]}")
	# Every connection served ("got 100" each), or no figure.
	[ "$(grep -c '^got 100$' "$TMP/xfer.out")" = "$CONNS" ] || return 0
	echo "$out" | awk -v n="$CONNS" -v d=$((a1 - a0)) '
		function sec(s) { split(s, x, "m"); sub("s", "", x[2]); return x[1] * 60 + x[2] }
		{ cpu = sec($1) + sec($2) + d / 1e9; printf "%.6g %.6g\n", n / ($3 / 1e9), cpu * 1e6 / n }'
}

# lives LOG...: lines of the tools' output naming port 5203 (one per
# connection end the tool reported, or one per state change).
lives() { cat "$@" 2>/dev/null | grep -c -w 5203; }
# conn_want SETUP: the lines naming port 5203 a run of the conns workload
# must add to the output of SETUP's tool: both ends of every connection
# (tcplife), or the ten state changes of each connection (five each end)
# and the listener's two (tcpstates); nothing for other setups.
conn_want() {
	case ${1%+alt*} in
	ps-life|ps-life-all|lt-life) echo $((2 * CONNS)) ;;
	ps-states|lt-states) echo $((10 * CONNS + 2)) ;;
	esac
}
conn_logs() { lives "$TMP"/pslife-*.out "$TMP/ltlife.out" "$TMP/psstates.out" "$TMP/ltstates.out"; }

# Evidence: the veth's own counters (ip -s link) next to pktscope's.
# link_counts NS: "rx_packets rx_bytes tx_packets tx_bytes"
link_counts() {
	ip -n "$1" -s -j link show veth0 |
		jq -r '.[0].stats64 | "\(.rx.packets) \(.rx.bytes) \(.tx.packets) \(.tx.bytes)"'
}
# ps_counts NS: "xdp_packets xdp_bytes tc_in_packets tc_in_bytes
# tc_out_packets tc_out_bytes" (0 where not attached).
ps_counts() {
	"$PKTSCOPE" --netns "$1" stats veth0 -j 2>/dev/null |
		jq -r '.dirs | [.xdp.packets // 0, .xdp.bytes // 0, .tc_ingress.packets // 0,
			.tc_ingress.bytes // 0, .tc_egress.packets // 0, .tc_egress.bytes // 0] | @tsv'
}
is_ps() { case ${1%+alt*} in bare|bpftrace|ltools|xdp-pass|tc-empty|tcx-empty|tcp-*|kdrops|bt-kdrops|ps-life|ps-life-all|lt-life|ps-states|lt-states) return 1 ;; esac; }
# Per setup: runs compared, runs where packets were equal (rx: xdp and
# tc_ingress vs rx_packets; tx: tc_egress vs tx_packets), where bytes were.
declare -A EVN EVP EVB
# kdrops: runs, and runs where pktscope counted every datagram sent.
KDN=0 KDP=0
# ps-life, lt-life, ps-states, lt-states: runs, and runs where the tool
# reported all it should (conn_want).
declare -A LVN LVP
# kd_count: UDP NETFILTER_DROPs on veth0 that the pinned drop probes of
# NS_B counted since they were attached.
kd_count() {
	"$PS" --netns "$NS_B" drops -j -d 0.05 2>/dev/null | tail -n 1 | jq '[.drops[] |
		select(.reason == "NETFILTER_DROP" and .l4 == "udp" and .iface == "veth0") | .count] | add // 0'
}
EV_ROUNDS=${THR_EVIDENCE_ROUNDS:-2}

echo "   $(bench_machine)"
echo "   iperf3 $SECS s per run, client on CPU $CPU_C, server on CPU $CPU_S; $BENCH_REPS rounds;" \
	"setups: ${SETUPS[*]}; bare between every two"

# The chain of blocks: bare X bare Y bare ..., position POS.  A block
# installs its setup, warms up, and runs every workload once.
declare -A V C
BLK=()
POS=0
block() {	# SETUP ROUND
	local k=$1 w v c line="" rb0 rb1 ra0 ra1 pb0 pb1 pa0 pa1 t0=$SECONDS kd0 kd1 sent lv0 lv1 want
	setup "$k" || { echo "   setting up $k failed" >&2; exit 1; }
	run warm
	for w in "${WORKLOADS[@]}"; do
		if is_ps "$k" && [ "$2" -le "$EV_ROUNDS" ]; then
			rb0=$(link_counts "$NS_B"); ra0=$(link_counts "$NS_A")
			pb0=$(ps_counts "$NS_B"); pa0=$(ps_counts "$NS_A")
		fi
		[ "${k%+alt*}:$w" = kdrops:udpdrop ] && kd0=$(kd_count)
		want=""; [ "$w" = conns ] && want=$(conn_want "$k")
		[ -n "$want" ] && lv0=$(conn_logs)
		read -r v c < <(run "$w")
		[ -n "${v:-}" ] || { echo "   iperf3 gave no result ($k, $w)" >&2; exit 1; }
		if [ "${k%+alt*}:$w" = kdrops:udpdrop ]; then
			kd1=$(kd_count) sent=$(jq '.end.sum_sent.packets' "$TMP/run.json")
			line+=" [drops counted $((kd1 - kd0)) of $sent sent]"
			KDN=$((KDN + 1)); [ $((kd1 - kd0)) = "$sent" ] && KDP=$((KDP + 1))
		fi
		if [ -n "$want" ]; then
			# The last lines may still be on their way: a moment for them.
			for _ in $(seq 50); do
				[ $(( $(conn_logs) - lv0 )) -ge "$want" ] && break
				sleep 0.02
			done
			lv1=$(conn_logs)
			line+=" [lines reported $((lv1 - lv0)) of $want]"
			LVN[${k%+alt*}]=$((${LVN[${k%+alt*}]:-0} + 1))
			[ $((lv1 - lv0)) = "$want" ] && LVP[${k%+alt*}]=$((${LVP[${k%+alt*}]:-0} + 1))
		fi
		V[$POS,$w]=$v C[$POS,$w]=$c
		case $w in
		udp64|udpdrop) line+=$(printf '  %s %.0f pps %.3g us' "$w" "$v" "$c") ;;
		conns) line+=$(printf '  %s %.0f conn/s %.3g us' "$w" "$v" "$c") ;;
		*) line+=$(awk -v w="$w" -v v="$v" -v c="$c" 'BEGIN { printf "  %s %.2f Gbit/s %.3g s/GB", w, v / 1e9, c }') ;;
		esac
		if is_ps "$k" && [ "$2" -le "$EV_ROUNDS" ]; then
			rb1=$(link_counts "$NS_B"); ra1=$(link_counts "$NS_A")
			pb1=$(ps_counts "$NS_B"); pa1=$(ps_counts "$NS_A")
			line+=$(awk -v rb0="$rb0" -v rb1="$rb1" -v ra0="$ra0" -v ra1="$ra1" \
				-v pb0="$pb0" -v pb1="$pb1" -v pa0="$pa0" -v pa1="$pa1" '
				function d(a, b, i,  x, y) { split(a, x, /[ \t]/); split(b, y, /[ \t]/); return y[i] - x[i] }
				BEGIN {
					rp = d(rb0, rb1, 1); rB = d(rb0, rb1, 2)
					tp = d(ra0, ra1, 3); tB = d(ra0, ra1, 4)
					xp = d(pb0, pb1, 1); xB = d(pb0, pb1, 2)
					ip = d(pb0, pb1, 3); iB = d(pb0, pb1, 4)
					op = d(pa0, pa1, 5); oB = d(pa0, pa1, 6)
					ep = (ip == rp && op == tp && (xp == 0 || xp == rp))
					eb = (iB == rB && oB == tB && (xp == 0 || xB == rB))
					printf " [rx %.0f/%.0f B: xdp %.0f/%.0f tc_in %.0f/%.0f; tx %.0f/%.0f B: tc_out %.0f/%.0f; %.0f B/pkt%s%s]",
						rp, rB, xp, xB, ip, iB, tp, tB, op, oB, rp ? rB / rp : 0,
						ep ? "" : " pkts-differ", eb ? "" : " bytes-differ"
				}')
			EVN[$k]=$((${EVN[$k]:-0} + 1))
			[[ $line == *pkts-differ* ]] || EVP[$k]=$((${EVP[$k]:-0} + 1))
			[[ $line == *bytes-differ* ]] || EVB[$k]=$((${EVB[$k]:-0} + 1))
			line=${line//pkts-differ/PKTS-DIFFER} line=${line//bytes-differ/BYTES-DIFFER}
		fi
	done
	BLK[$POS]=$k
	printf '   %2d r%-2s %-12s%s (%d s)\n' "$POS" "$2" "$k" "$line" $((SECONDS - t0))
	POS=$((POS + 1))
}

# Setups in THR_INFO run in the first THR_INFO_ROUNDS rounds only: their
# effect is large (native XDP halves TCP on a veth), 3 rounds show it, and
# the time goes to the rounds of the figures with targets.
if [ -n "${THR_SETUPS:-}" ]; then INFO=${THR_INFO:-}
else INFO=${THR_INFO-tc-empty full-generic full-native xdp-pass}; fi
INFO_ROUNDS=${THR_INFO_ROUNDS:-3}
XS=()
for k in "${SETUPS[@]}"; do [ "$k" = bare ] || XS+=("$k"); done
[ ${#XS[@]} -gt 0 ] || { echo "   no setup besides bare" >&2; exit 1; }
block bare 0
for i in $(seq "$BENCH_REPS"); do
	xs=()
	for k in "${XS[@]}"; do
		[ "$i" -gt "$INFO_ROUNDS" ] && [[ " $INFO " == *" $k "* ]] && continue
		xs+=("$k")
	done
	n=${#xs[@]}
	for j in $(seq 0 $((n - 1))); do
		block "${xs[$(( (i + j) % n ))]}" "$i"
		block bare "$i"
	done
done
setup bare
for k in "${!LVN[@]}"; do
	case $k in
	*-life*) echo "   $k: both ends of every connection reported in ${LVP[$k]:-0} of ${LVN[$k]} runs" ;;
	*) echo "   $k: every state change reported in ${LVP[$k]:-0} of ${LVN[$k]} runs" ;;
	esac
done
[ "$KDN" -gt 0 ] && echo "   kdrops: pktscope counted every datagram sent as a UDP NETFILTER_DROP on veth0 in $KDP of $KDN runs"
for k in "${!EVN[@]}"; do
	echo "   $k: pktscope's packet counts equal the veth's (ip -s link; rx and tx) in ${EVP[$k]:-0} of ${EVN[$k]} runs, byte counts in ${EVB[$k]:-0}"
done
# Evidence that the bpftrace peer counted: its last dump (it prints its
# maps when stopped).
if grep -q '@rx_pkts' "$TMP/bt.out" 2>/dev/null; then
	echo "   bpftrace (last round) rx packets by [ifindex, ethertype(be), l4]:"
	grep '^@rx_pkts' "$TMP/bt.out" | sort -t: -k2 -nr | head -3 | sed 's/^/     /'
fi

# For setup K and workload W, in round order: its values (S), the mean of
# the bare runs either side (B), and the ratios S/B (Q); the same for CPU
# (CS, CB, CQ).
pairs() {	# K W
	local p
	S="" B="" Q="" CS="" CB="" CQ=""
	for p in "${!BLK[@]}"; do
		[ "${BLK[$p]}" = "$1" ] || continue
		read -r s b q cs cb cq < <(awk -v s="${V[$p,$2]}" -v b0="${V[$((p - 1)),$2]}" -v b1="${V[$((p + 1)),$2]}" \
			-v cs="${C[$p,$2]}" -v c0="${C[$((p - 1)),$2]}" -v c1="${C[$((p + 1)),$2]}" '
			BEGIN { b = (b0 + b1) / 2; cb = (c0 + c1) / 2
				printf "%.6g %.6g %.6g %.6g %.6g %.6g\n", s, b, s / b, cs, cb, cs / cb }')
		S+=" $s" B+=" $b" Q+=" $q" CS+=" $cs" CB+=" $cb" CQ+=" $cq"
	done
}

# The empty-program setup with the same hooks as setup K, if there is one
# (TC only: XDP adds hooks of its own).
floor_of() {
	case ${1%+alt*} in
	full|full-tc|full-tcx|c-tc|c-tcx) echo tcx-empty ;;
	full-clsact|c-clsact) echo tc-empty ;;
	tcp|rtt|drops|stream) [ "$PART_MODE" = none ] && echo tcx-empty ;;
	esac
}

for w in "${WORKLOADS[@]}"; do
	case $w in
	tcp1) what="iperf3 TCP, 1 stream"; unit="bit/s"; cunit="CPU s/GB" ;;
	tcp4) what="iperf3 TCP, 4 streams"; unit="bit/s"; cunit="CPU s/GB" ;;
	udp64) what="iperf3 UDP 64 B, datagrams received per second"; unit="pkt/s"; cunit="CPU us/datagram" ;;
	udpdrop) what="iperf3 UDP 64 B to a port the receiver drops (nft), datagrams sent per second"; unit="pkt/s"; cunit="CPU us/datagram" ;;
	conns) what="$CONNS sequential TCP connections (tcpxfer, 100 bytes each), connections per second"; unit="conn/s"; cunit="CPU us/connection" ;;
	esac
	cwhat="CPU time (iperf3 both ends + softirq + observer processes) per GB received"
	case $w in
	udp64) cwhat="iperf3 UDP 64 B: ${cwhat/GB/datagram}" ;;
	udpdrop) cwhat="iperf3 UDP 64 B, all dropped: ${cwhat/GB received/datagram sent}" ;;
	conns) cwhat="TCP connections: CPU time (tcpxfer both ends + softirq + observer processes) per connection" ;;
	*) cwhat="$what: $cwhat" ;;
	esac
	declare -A QS=() CQS=()
	for k in "${XS[@]}"; do
		pairs "$k" "$w"
		QS[$k]=$Q CQS[$k]=$CQ
		tgt="" ctgt="" note=""
		case ${k%+alt*} in
		full-native) note=" (native XDP: the veth turns off GSO/TSO on its peer)" ;;
		xdp-pass) note=" (empty native XDP program: the veth's GSO effect alone)" ;;
		full*|c-*|tcp|rtt|drops|stream) tgt=">= 0.97" ctgt="<= 1.031" ;;
		tcp-*) tgt=">= 0.98" ctgt="<= 1.02" ;;
		esac
		bench_figure "$w-$k" "$what over veth: $k / adjacent bare, median of per-round ratios$note" "$unit" \
			"$k" "$S" "bare (mean of neighbours)" "$B" "$tgt" higher
		bench_figure "$w-$k-cpu" "$cwhat over veth: $k / adjacent bare, median of per-round ratios$note" "$cunit" \
			"$k" "$CS" "bare (mean of neighbours)" "$CB" "$ctgt" lower
	done
	# pktscope next to each peer doing the same job: each one's per-round
	# ratio to its own adjacent bare runs, the full set's over the peer's.
	if [ -n "${QS[full]:-}" ]; then
		for k in bpftrace ltools; do
			[ -n "${QS[$k]:-}" ] || continue
			bench_figure "$w-full-vs-$k" "$what over veth: pktscope full set / $k, each as a ratio to its adjacent bare runs" \
				"x bare" full "${QS[full]}" "$k" "${QS[$k]}" ">= 1 (costs less)" higher
			bench_figure "$w-full-vs-$k-cpu" "$cwhat over veth: pktscope full set / $k, each as a ratio to its adjacent bare runs" \
				"x bare CPU" full "${CQS[full]}" "$k" "${CQS[$k]}" "<= 1 (costs less)" lower
		done
	fi
	# THR_VS="A:B ...": setup A next to setup B (a peer doing the same job).
	for pair in ${THR_VS:-}; do
		a=${pair%%:*} b=${pair#*:}
		[ -n "${QS[$a]:-}" ] && [ -n "${QS[$b]:-}" ] || continue
		bench_figure "$w-$a-vs-$b" "$what over veth: $a / $b, each as a ratio to its adjacent bare runs" \
			"x bare" "$a" "${QS[$a]}" "$b" "${QS[$b]}" ">= 1 (costs less)" higher
		bench_figure "$w-$a-vs-$b-cpu" "$cwhat over veth: $a / $b, each as a ratio to its adjacent bare runs" \
			"x bare CPU" "$a" "${CQS[$a]}" "$b" "${CQS[$b]}" "<= 1 (costs less)" lower
	done
	# Each setup over the floor under it: empty programs at the same hooks,
	# attached the same way (each as a ratio to its own adjacent bare runs).
	# What the hooks cost by themselves is the kernel's; the rest is
	# pktscope's own work.
	for k in "${XS[@]}"; do
		f=$(floor_of "$k")
		[ -n "$f" ] && [ -n "${QS[$f]:-}" ] || continue
		bench_figure "$w-$k-overfloor" "$what over veth: $k / $f (empty programs at the same hooks, attached the same way), each as a ratio to its adjacent bare runs: pktscope's own cost" \
			"x bare" "$k" "${QS[$k]}" "$f" "${QS[$f]}" ">= 0.97" higher
		bench_figure "$w-$k-overfloor-cpu" "$cwhat over veth: $k / $f (empty programs at the same hooks, attached the same way), each as a ratio to its adjacent bare runs: pktscope's own cost" \
			"x bare CPU" "$k" "${CQS[$k]}" "$f" "${CQS[$f]}" "<= 1.031" lower
	done
	# The same set with the TC programs as TCX links, next to clsact filters.
	if [ -n "${QS[full]:-}" ] && [ -n "${QS[full-clsact]:-}" ]; then
		bench_figure "$w-full-vs-clsact" "$what over veth: pktscope full set as attached by default (TCX links) / with --clsact (classic tc filters), each as a ratio to its adjacent bare runs" \
			"x bare" full "${QS[full]}" full-clsact "${QS[full-clsact]}" ">= 1" higher
		bench_figure "$w-full-vs-clsact-cpu" "$cwhat over veth: pktscope full set as attached by default (TCX links) / with --clsact (classic tc filters), each as a ratio to its adjacent bare runs" \
			"x bare CPU" full "${CQS[full]}" full-clsact "${CQS[full-clsact]}" "<= 1" lower
	fi
	unset QS CQS
done

# THR_PROGNS="setup ...": for each, one tcp1 and one udp64 run with
# kernel.bpf_stats_enabled=1, and the nanoseconds per run of each program
# that ran (the two ends summed), from bpftool's run_time_ns / run_cnt.
# The stats cost ~20 ns per program run themselves, so no throughput is
# taken from these runs; the sysctl is restored at once.
# The XDP and TC programs on the two veths (other programs on the machine
# are not ours to count).
my_progs() {
	local ns d
	{ for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" -j link show veth0 | jq '.[0].xdp.attached[]?.prog.id'
		for d in ingress egress; do
			tc -n "$ns" -j filter show dev veth0 "$d" 2>/dev/null | jq '.[].options.prog.id // empty'
		done
	done
	# TCX links are not tc filters: their programs as tcx_hold printed them
	# (tcx-empty) or as pktscope recorded them.
	case ${CUR%+alt*} in tcx-empty|c-tc-chain)
		cat "$TMP"/tcx-*.out | sed -n 's/.*program id \([0-9]*\).*/\1/p' ;; esac
	"$PS" status -j 2>/dev/null | jq --arg a "$NS_A" --arg b "$NS_B" '.attachments[] |
		select((.netns == $a or .netns == $b) and .tc_mode == "tcx") |
		.tc_ingress_prog_id, .tc_egress_prog_id'
	} | jq -s -c .
}
progstats() { bpftool prog show -j | jq -c --argjson ids "$1" '[.[] | select(.run_cnt != null) | select(.id as $i | $ids | index($i)) | {id, name, run_cnt, run_time_ns}]'; }
if [ -n "${THR_PROGNS:-}" ]; then
	read -r -a PN <<<"$THR_PROGNS"
	echo "   ns per program run (bpf_stats), two ends summed, ${THR_PROGNS_REPS:-3} rounds:"
	old=$(sysctl -n kernel.bpf_stats_enabled)
	: >"$TMP/progns"
	: >"$BENCH_OUT/$BENCH_NAME.progns.jsonl"
	for i in $(seq "${THR_PROGNS_REPS:-3}"); do
		for j in $(seq 0 $((${#PN[@]} - 1))); do
			k=${PN[$(( (i + j) % ${#PN[@]} ))]}
			setup "$k" || exit 1
			for w in tcp1 udp64; do
				ids=$(my_progs)
				sysctl -qw kernel.bpf_stats_enabled=1
				s0=$(progstats "$ids")
				run "$w" >/dev/null
				s1=$(progstats "$ids")
				sysctl -qw kernel.bpf_stats_enabled="$old"
				jq -n -r --argjson a "$s0" --argjson b "$s1" --arg k "$k" --arg w "$w" '
				  ($a | map({(.id | tostring): .}) | add // {}) as $old
				  | [$b[]
				     | . as $p | ($old[$p.id | tostring] // {run_cnt: 0, run_time_ns: 0}) as $o
				     | {name, n: ($p.run_cnt - $o.run_cnt), t: ($p.run_time_ns - $o.run_time_ns)}
				     | select(.n > 0)]
				  | group_by(.name) | .[] | {name: .[0].name, n: (map(.n) | add), t: (map(.t) | add)}
				  | "\($k) \($w) \(.name) \(.t / .n) \(.n)"' >>"$TMP/progns"
			done
		done
	done
	setup bare
	# median, min, max of ns/run per setup, workload and program
	while read -r k w p; do
		vals=$(awk -v k="$k" -v w="$w" -v p="$p" '$1 == k && $2 == w && $3 == p { print $4 }' "$TMP/progns")
		runs=$(awk -v k="$k" -v w="$w" -v p="$p" '$1 == k && $2 == w && $3 == p { s += $5; n++ } END { printf "%d", s / n }' "$TMP/progns")
		read -r m lo hi < <(bench_stats $vals)
		printf '     %-14s %-6s %-10s %8.1f ns/run (%.1f..%.1f), %d runs per run\n' "$k" "$w" "$p" "$m" "$lo" "$hi" "$runs"
		printf '{"bench":"%s","id":"progns-%s-%s-%s","unit":"ns/run","median":%s,"min":%s,"max":%s,"values":[%s],"runs":%s}\n' \
			"$BENCH_NAME" "$k" "$w" "$p" "$m" "$lo" "$hi" "$(echo $vals | tr ' ' ,)" "$runs" >>"$BENCH_OUT/$BENCH_NAME.progns.jsonl"
	done < <(awk '{ print $1, $2, $3 }' "$TMP/progns" | sort -u)
	# As figures: each program next to the empty one at the same hook.
	nsvals() { awk -v k="$1" -v w="$2" -v p="$3" '$1 == k && $2 == w && $3 == p { print $4 }' "$TMP/progns"; }
	while read -r k w p; do
		case $p in ps_tc_in|ps_tc_out) bk=tc-empty bp=tc_ok ;; ps_xdp) bk=xdp-pass bp=xdp_pass ;; *) continue ;; esac
		# c-tc-chain: the empty programs before and after pktscope's on
		# the same hooks, in the same runs (the same packets).
		[ "${k%+alt*}" = c-tc-chain ] && bk=$k bp=tc_next
		# TC programs next to empty ones attached the same way (TCX links
		# or classic filters), when that floor was measured.
		case $bk:${k%+alt*} in tc-empty:*clsact) ;; tc-empty:*)
			[ -n "$(nsvals tcx-empty "$w" tc_ok)" ] && bk=tcx-empty ;; esac
		bv=$(nsvals "$bk" "$w" "$bp")
		[ -n "$bv" ] || continue
		bench_figure "progns-$k-$w-$p" "ns per run of $p ($k, $w) vs an empty program at that hook (bpf_stats)" \
			ns/run "$p" "$(nsvals "$k" "$w" "$p")" "$bp" "$bv" "" lower
	done < <(awk '{ print $1, $2, $3 }' "$TMP/progns" | sort -u)
fi
echo "   wrote $BENCH_JSON"
