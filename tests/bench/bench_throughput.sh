#!/usr/bin/env bash
# TCP throughput over the two-host veth bench, bare and with pktscope attached
# (receiver: XDP native + TC ingress/egress; sender: TC ingress/egress), in
# interleaved rounds so that drift of a shared machine hits every setup alike
# (the order rotates from round to round).  Prints each run, the medians and
# the ratios (target >= 0.97), and writes build/bench/throughput.json.
#
# Native XDP on a veth changes the veth's own datapath: the peer loses GSO/TSO
# and every packet is handed over one by one, whatever the program does.  So
# two more setups separate that from pktscope's own cost:
#   xdp-pass   an XDP program that only returns XDP_PASS, native, receiver
#   tc-only    pktscope --no-xdp on both ends (TC ingress/egress only)
# The first second of each run (slow start) is left out.
#
#   RUNS=3 SECS=3 tests/bench/bench_throughput.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
PKTSCOPE=${PKTSCOPE:-$PWD/build/pktscope}
. netns-scripts/two-hosts.sh
RUNS=${RUNS:-3}
SECS=${SECS:-3}
OUT=build/bench/throughput.json
mkdir -p build/bench

TAG=b$(( $$ % 100000 ))
two_hosts_vars "$TAG"
SRV=""

# The empty XDP program, built here against the project's vmlinux.h.
PASS_SRC=build/bench/xdp_pass.bpf.c
PASS_OBJ=build/bench/xdp_pass.bpf.o
cat >"$PASS_SRC" <<'END_OF_PROG'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* The cost floor of native XDP on a veth: same hook and frags flag as ps_xdp. */
SEC("xdp.frags")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
END_OF_PROG
if ! clang -O2 -g -target bpf -Ibuild -c "$PASS_SRC" -o "$PASS_OBJ"; then
	echo "cannot build $PASS_OBJ (run make first: it needs build/vmlinux.h)" >&2
	exit 1
fi

# setup NAME: undo the current setup, then attach what NAME needs (bare: nothing).
CUR=bare
setup() {
	case $CUR in
	pktscope|tc-only)
		"$PKTSCOPE" --netns "$NS_B" detach veth0 2>/dev/null
		"$PKTSCOPE" --netns "$NS_A" detach veth0 2>/dev/null ;;
	xdp-pass)
		ip -n "$NS_B" link set dev veth0 xdpdrv off ;;
	esac
	CUR=$1
	case $1 in
	pktscope)
		"$PKTSCOPE" --netns "$NS_B" attach --mode native veth0 >/dev/null &&
		"$PKTSCOPE" --netns "$NS_A" attach --no-xdp veth0 >/dev/null ;;
	tc-only)
		"$PKTSCOPE" --netns "$NS_B" attach --no-xdp veth0 >/dev/null &&
		"$PKTSCOPE" --netns "$NS_A" attach --no-xdp veth0 >/dev/null ;;
	xdp-pass)
		ip -n "$NS_B" link set dev veth0 xdpdrv obj "$PASS_OBJ" sec xdp.frags ;;
	esac
}

teardown() {
	# Finish tearing down even if a second signal comes.
	trap - EXIT
	trap "" INT TERM
	[ -n "$SRV" ] && kill -TERM -- "-$SRV" 2>/dev/null
	wait 2>/dev/null
	setup bare
	two_hosts_down "$TAG"
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

# One run: received bits per second, the first second (slow start) omitted.
run() {
	ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5201 -t "$SECS" -O 1 -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second // empty'
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

SETUPS=(bare pktscope xdp-pass tc-only)
declare -A R
xdp_pkts=0
printf '%-5s %-10s %10s\n' round setup Mbit/s
for i in $(seq "$RUNS"); do
	for j in 0 1 2 3; do
		k=${SETUPS[$(( (i + j) % 4 ))]}
		setup "$k" || { echo "setting up $k failed" >&2; exit 1; }
		v=$(run)
		[ -n "$v" ] || { echo "iperf3 gave no result ($k)" >&2; exit 1; }
		R[$k]="${R[$k]:-} $v"
		printf '%-5s %-10s %10.1f\n' "$i" "$k" "$(echo "$v / 1000000" | bc -l)"
		# Evidence that pktscope really counted the run.
		if [ "$k" = pktscope ]; then
			xdp_pkts=$("$PKTSCOPE" --netns "$NS_B" stats veth0 -j 2>/dev/null |
				jq -r '.dirs.xdp.packets')
		fi
	done
done
setup bare

med() { printf '%s\n' ${R[$1]} | median; }
arr() { printf '%s\n' ${R[$1]} | jq -s -c .; }
mbit() { printf '%.1f' "$(echo "$1 / 1000000" | bc -l)"; }
mb=$(med bare) mw=$(med pktscope) mp=$(med xdp-pass) mt=$(med tc-only)
ratio=$(echo "$mw / $mb" | bc -l)
r_pass=$(echo "$mw / $mp" | bc -l)
r_tc=$(echo "$mt / $mb" | bc -l)
r_floor=$(echo "$mp / $mb" | bc -l)
echo
echo "medians (Mbit/s): bare $(mbit "$mb"), pktscope $(mbit "$mw"), xdp-pass $(mbit "$mp"), tc-only $(mbit "$mt")"
printf 'pktscope / bare      %.3f  (target >= 0.97)\n' "$ratio"
printf 'pktscope / xdp-pass  %.3f  (pktscope itself, same hooks)\n' "$r_pass"
printf 'tc-only / bare       %.3f  (pktscope without XDP)\n' "$r_tc"
printf 'xdp-pass / bare      %.3f  (native XDP on a veth, empty program)\n' "$r_floor"
echo "(last pktscope run: $xdp_pkts packets counted at the receiver's XDP)"

jq -n --argjson bare "$(arr bare)" --argjson with "$(arr pktscope)" \
	--argjson pass "$(arr xdp-pass)" --argjson tc "$(arr tc-only)" \
	--argjson mb "$mb" --argjson mw "$mw" --argjson mp "$mp" --argjson mt "$mt" \
	--argjson ratio "$ratio" --argjson r_pass "$r_pass" --argjson r_tc "$r_tc" \
	--argjson r_floor "$r_floor" --argjson secs "$SECS" --argjson runs "$RUNS" \
	--argjson xdp "${xdp_pkts:-0}" \
	'{bench: "throughput", tool: "iperf3 TCP over veth", runs: $runs, seconds: $secs,
	  setup: "pktscope: receiver XDP native + TC ingress/egress, sender TC ingress/egress",
	  bare_bps: $bare, pktscope_bps: $with, xdp_pass_bps: $pass, tc_only_bps: $tc,
	  bare_median_bps: $mb, pktscope_median_bps: $mw, xdp_pass_median_bps: $mp,
	  tc_only_median_bps: $mt, ratio: $ratio, ratio_vs_xdp_pass: $r_pass,
	  ratio_tc_only_vs_bare: $r_tc, ratio_xdp_pass_vs_bare: $r_floor, target_ratio: 0.97,
	  meets_target: ($ratio >= 0.97), last_run_xdp_packets: $xdp}' >"$OUT"
echo "wrote $OUT"
