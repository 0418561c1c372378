#!/usr/bin/env bash
# Throughput over the two-host veth bench with and without observers, side
# by side: iperf3 TCP 1 stream, TCP 4 streams (-P 4), and UDP with 64-byte
# datagrams sent as fast as iperf3 can (-b 0; received datagrams per second).
#
# Setups (THR_SETUPS picks and orders them; default: the first four):
#   bare      nothing attached
#   full      pktscope's whole network set on both ends: attach veth0 with
#             XDP ($FULL_MODE: native (default), generic or none) + TC,
#             --tcp (persistent TCP probes), --rtt; drops --persist attach;
#             a streaming `pktscope tcplife` per namespace
#             (full-native, full-generic, full-tc: the same in that mode)
#   bpftrace  tests/bench/bt/netacct.bt: the same accounting on tracepoints
#             (per device and direction packets/bytes by L3/L4, size
#             histogram, TCP lives from sock:inet_sock_set_state)
#   ltools    libbpf-tools' tcplife and tcpstates running
# and, for finding where the cost is (bench_throughput_modes.sh and
# bench_throughput_parts.sh run these):
#   xdp-pass  an XDP program that only returns XDP_PASS, native, both ends
#   tc-empty  TC ingress+egress programs that only return TC_ACT_OK, both ends
#   c-native  pktscope counters only: XDP native + TC
#   c-generic pktscope counters only: XDP generic (skb mode) + TC
#   c-tc      pktscope counters only: --no-xdp (TC ingress + egress)
#   tcp       counters + --tcp                 (XDP mode: $PART_MODE)
#   rtt       counters + --tcp + --rtt
#   drops     counters + --tcp + --rtt + drops --persist
#   stream    all of the above + tcplife streaming (= full in $PART_MODE)
# and for the TCP probes alone (bench_tcp.sh):
#   tcp-persist  pktscope tcp-persist attach in both namespaces, no XDP/TC
#   tcp-stream   pktscope tcplife and tcpretrans streaming in both namespaces
# PART_MODE is native, generic or none (--no-xdp); default native here,
# none in bench_throughput_parts.sh.
#
# Each round installs every setup once, in an order that rotates from round
# to round, and runs every workload under it; REPS rounds (default 5).
# Figures: median of the rounds, min, max, ratio of medians to bare.
# After each pktscope run the receiver's counters are printed next to the
# veth's own rx_packets, as evidence that the run was counted.
# Runtime with the defaults: about 5 minutes (4 setups x 3 workloads x 5
# rounds, 2 s measured + 1 s omitted per run, plus attach/start-up; 5m14s
# on the shared 2-CPU build machine).
#
#   REPS=5 SECS=2 THR_SETUPS="bare full bpftrace ltools" tests/bench/bench_throughput.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
BENCH_NAME=${THR_NAME:-throughput}
. tests/bench/lib.sh
. netns-scripts/two-hosts.sh
PKTSCOPE=${PKTSCOPE:-$PWD/build/pktscope}
SECS=${SECS:-2}
FULL_MODE=${FULL_MODE:-native}
PART_MODE=${PART_MODE:-native}
read -r -a SETUPS <<<"${THR_SETUPS:-bare full bpftrace ltools}"
read -r -a WORKLOADS <<<"${THR_WORKLOADS:-tcp1 tcp4 udp64}"
BT=${BPFTRACE:-bpftrace}
TMP=$(mktemp -d /tmp/pktscope-bench-thr.XXXXXX)
TAG=bt$(( $$ % 100000 ))
two_hosts_vars "$TAG"
PKTSCOPE_ALT=${PKTSCOPE_ALT:-$PKTSCOPE}
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
	none) echo "--no-xdp" ;; esac
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
# before/after comparisons of a change).
ps_bin() { case $1 in *+alt) PS=$PKTSCOPE_ALT ;; *) PS=$PKTSCOPE ;; esac; }
tcp_persist() { "$PS" --netns "$1" tcp-persist attach >/dev/null; }
tcpretrans_stream() {	# NS
	bg_start Tracing "$TMP/tcpretrans-$1.err" \
		sh -c "exec $PS --netns $1 tcpretrans >/dev/null 2>$TMP/tcpretrans-$1.err"
}

setup() {	# NAME: undo the current setup, install NAME
	bg_stop
	ps_bin "$CUR"
	case ${CUR%+alt} in
	bare|bpftrace|ltools) ;;
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
	local b=${1%+alt}
	case $b in
	bare) ;;
	full) both ps_set drops "$FULL_MODE" && both ps_stream ;;
	full-native|full-generic) both ps_set drops "${b#full-}" && both ps_stream ;;
	full-tc) both ps_set drops none && both ps_stream ;;
	tcp-persist) both tcp_persist ;;
	tcp-stream) both ps_stream && both tcpretrans_stream ;;
	c-native) both ps_set counters native ;;
	c-generic) both ps_set counters generic ;;
	c-tc) both ps_set counters none ;;
	tcp|rtt|drops) both ps_set "$b" "$PART_MODE" ;;
	stream) both ps_set drops "$PART_MODE" && both ps_stream ;;
	xdp-pass)
		local ns
		for ns in "$NS_A" "$NS_B"; do
			ip -n "$ns" link set dev veth0 xdpdrv obj "$TMP/empty.bpf.o" sec xdp.frags || return 1
		done ;;
	tc-empty)
		local ns d
		for ns in "$NS_A" "$NS_B"; do
			tc -n "$ns" qdisc add dev veth0 clsact || return 1
			for d in ingress egress; do
				tc -n "$ns" filter add dev veth0 "$d" bpf da obj "$TMP/empty.bpf.o" sec tc || return 1
			done
		done ;;
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
	setup bare
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 130' INT TERM

two_hosts_up "$TAG" || exit 1
setsid ip netns exec "$NS_B" iperf3 -s -p 5201 >/dev/null 2>&1 &
SRV=$!
for i in $(seq 50); do
	ip netns exec "$NS_B" ss -Hltn 'sport = :5201' | grep -q . && break
	sleep 0.1
done
ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null

# run WORKLOAD: one measurement (bits/s received for TCP, datagrams/s
# received for UDP), the first second omitted.
run() {
	local j
	case $1 in
	tcp1) j=$(ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5201 -t "$SECS" -O 1 -J 2>/dev/null) &&
		jq -r '.end.sum_received.bits_per_second // empty' <<<"$j" ;;
	tcp4) j=$(ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5201 -P 4 -t "$SECS" -O 1 -J 2>/dev/null) &&
		jq -r '.end.sum_received.bits_per_second // empty' <<<"$j" ;;
	udp64) j=$(ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5201 -u -l 64 -b 0 -t "$SECS" -O 1 -J 2>/dev/null) &&
		jq -r '.end.sum_received | if .seconds > 0 then .bytes / 64 / .seconds else empty end' <<<"$j" ;;
	esac
}

rx_packets() { ip -n "$NS_B" -s -j link show veth0 | jq '.[0].stats64.rx.packets'; }
# Receiver counters: "xdp tc_ingress" packets (0 where not attached).
ps_counts() {
	"$PKTSCOPE" --netns "$NS_B" stats veth0 -j 2>/dev/null |
		jq -r '[.dirs.xdp.packets // 0, .dirs.tc_ingress.packets // 0] | @tsv'
}
is_ps() { case ${1%+alt} in bare|bpftrace|ltools|xdp-pass|tc-empty|tcp-*) return 1 ;; esac; }

echo "   $(bench_machine)"
echo "   iperf3 $SECS s per run (+1 s omitted), $BENCH_REPS rounds; setups: ${SETUPS[*]}"
declare -A R
n=${#SETUPS[@]}
for i in $(seq "$BENCH_REPS"); do
	for j in $(seq 0 $((n - 1))); do
		k=${SETUPS[$(( (i + j) % n ))]}
		setup "$k" || { echo "   setting up $k failed" >&2; exit 1; }
		line=""
		for w in "${WORKLOADS[@]}"; do
			is_ps "$k" && { r0=$(rx_packets); read -r x0 t0 < <(ps_counts); }
			v=$(run "$w")
			[ -n "$v" ] || { echo "   iperf3 gave no result ($k, $w)" >&2; exit 1; }
			R[$k,$w]="${R[$k,$w]:-} $v"
			case $w in udp64) line+=$(printf '  %s %.0f pps' "$w" "$v") ;;
			*) line+=$(printf '  %s %.0f Mbit/s' "$w" "$(echo "$v / 1000000" | bc -l)") ;; esac
			if is_ps "$k"; then
				r1=$(rx_packets); read -r x1 t1 < <(ps_counts)
				line+=" [rx $((r1 - r0)), xdp $((x1 - x0)), tc_in $((t1 - t0))]"
			fi
		done
		printf '   round %d %-9s%s\n' "$i" "$k" "$line"
	done
done
setup bare
# Evidence that the bpftrace peer counted: its last dump (it prints its
# maps when stopped).
if grep -q '@rx_pkts' "$TMP/bt.out" 2>/dev/null; then
	echo "   bpftrace (last round) rx packets by [ifindex, ethertype(be), l4]:"
	grep '^@rx_pkts' "$TMP/bt.out" | sort -t: -k2 -nr | head -3 | sed 's/^/     /'
fi

for w in "${WORKLOADS[@]}"; do
	case $w in
	tcp1) what="iperf3 TCP, 1 stream"; unit="bit/s" ;;
	tcp4) what="iperf3 TCP, 4 streams"; unit="bit/s" ;;
	udp64) what="iperf3 UDP 64 B, datagrams received per second"; unit="pkt/s" ;;
	esac
	for k in "${SETUPS[@]}"; do
		[ "$k" = bare ] && continue
		tgt=""
		case ${k%+alt} in full*|c-*|tcp|rtt|drops|stream) tgt=">= 0.97" ;;
		tcp-*) tgt=">= 0.98" ;; esac
		bench_figure "$w-$k" "$what over veth: $k / bare" "$unit" "$k" "${R[$k,$w]}" \
			bare "${R[bare,$w]}" "$tgt" higher
	done
	# pktscope next to each peer doing the same job.
	if [[ " ${SETUPS[*]} " == *" full "* ]]; then
		for k in bpftrace ltools; do
			[[ " ${SETUPS[*]} " == *" $k "* ]] || continue
			bench_figure "$w-full-vs-$k" "$what over veth: pktscope full set / $k" "$unit" \
				full "${R[full,$w]}" "$k" "${R[$k,$w]}" ">= 1 (costs less)" higher
		done
	fi
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
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" -j link show veth0 | jq '.[0].xdp.attached[]?.prog.id'
		for d in ingress egress; do
			tc -n "$ns" -j filter show dev veth0 "$d" 2>/dev/null | jq '.[].options.prog.id // empty'
		done
	done | jq -s -c .
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
		bv=$(nsvals "$bk" "$w" "$bp")
		[ -n "$bv" ] || continue
		bench_figure "progns-$k-$w-$p" "ns per run of $p ($k, $w) vs an empty program at that hook (bpf_stats)" \
			ns/run "$p" "$(nsvals "$k" "$w" "$p")" "$bp" "$bv" "" lower
	done < <(awk '{ print $1, $2, $3 }' "$TMP/progns" | sort -u)
fi
echo "   wrote $BENCH_JSON"
