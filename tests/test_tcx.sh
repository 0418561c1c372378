#!/usr/bin/env bash
# attach --tcx: the TC programs as TCX links instead of clsact filters.
# What the kernel's TCX hooks of veth0 run is read with BPF_PROG_QUERY (the
# kernel's own list, independent of pktscope's meta); exact packet counts
# are compared with what a UDP socket received.
# Checked: no qdisc and no filter made, links pinned 0600, exact counts in
# both directions, a classic filter behind pktscope's program still runs
# (TCX_NEXT, not TCX_PASS), a drop rule drops exactly at TC ingress, status
# and detach leave nothing, kill -9 after every TCX step is recovered by
# detach and by attach, bad option pairs refused with nothing attached.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

TAG=$(uniq_tag)x
TMP=$(mktemp -d)
SINK_PID="" SINK_A_PID=""

cleanup() {
	kill_tree "$SINK_PID"
	kill_tree "$SINK_A_PID"
	core_b_undo
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=9997 N_IN=37 N_OUT=23 N_DROP=11 SIZE=100
core_bench_require "$TAG"
core_b_vars
# count_sink NS FILE: a UDP socket on PORT that reads every datagram and
# keeps the number received so far in FILE.  (The kernel's UdpInDatagrams
# counts datagrams when they are read, so a reader is needed either way.)
count_sink() {
	setsid ip netns exec "$1" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
n = 0
open(sys.argv[2], "w").write("0")
while True:
    s.recv(65536)
    n += 1
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(n))
    __import__("os").rename(sys.argv[2] + ".tmp", sys.argv[2])
' "$PORT" "$2" >/dev/null 2>&1 &
	SINK_PID=$!
}
count_sink "$NS_A" "$TMP/rx_a"
SINK_A_PID=$SINK_PID
count_sink "$NS_B" "$TMP/rx_b"
wait_for 10 udp_bound "$NS_A" $PORT || { fail udp_sink "no UDP socket in $NS_A"; exit 1; }
wait_for 10 udp_bound "$NS_B" $PORT || { fail udp_sink "no UDP socket in $NS_B"; exit 1; }
rx() { cat "$TMP/rx_$1"; }
# rx_reach a|b N: wait (up to 5 s) until that sink has received N in all.
rx_is() { [ "$(rx "$1")" = "$2" ]; }
rx_reach() { wait_for 5 rx_is "$1" "$2"; rx "$1"; }

# tcx_progs ingress|egress: the program ids the kernel's TCX hook of veth0
# in NS_B runs (core_lib.sh).
tcx_progs() { tcx_progs_of "$NS_B" veth0 "$1"; }
row() { "$PKTSCOPE" status -j 2>/dev/null | jq -c --arg d "$PIN" '.attachments[] | select(.pin_dir == $d)'; }
tc_nfilters() { tc -n "$NS_B" filter show dev veth0 "$1" | grep -c 'handle\|pref'; }
has_clsact() { tc -n "$NS_B" qdisc show dev veth0 | grep -q clsact && echo yes || echo no; }
stat_b() { ps_json "$NS_B" stats veth0 | jq -r "$1"; }

# kernel_matches NAME: the TCX hooks run exactly the programs status records.
kernel_matches() {
	local r
	r=$(row)
	check_eq "$1_kernel_runs_recorded" "$(tcx_progs ingress) $(tcx_progs egress)" \
		"$(jq -r '"\(.tc_ingress_prog_id) \(.tc_egress_prog_id)"' <<<"$r")"
}
# nothing_left NAME: no pin, no TCX program, no qdisc or filter, not in status.
nothing_left() {
	local st
	st=$(row | jq -r .state)
	check_eq "$1_nothing_left" "pin no tcx_in [] tcx_out [] clsact no filters 0 status none" \
		"pin $([ -e "$PIN" ] && echo yes || echo no) tcx_in [$(tcx_progs ingress)] tcx_out [$(tcx_progs egress)] clsact $(has_clsact) filters $(( $(tc_nfilters ingress) + $(tc_nfilters egress) )) status ${st:-none}"
}

# ---- bad option pairs: refused, nothing attached ----------------------------------
check_rc tcx_no_tc 2 "$PKTSCOPE" --netns "$NS_B" attach --tcx --no-tc veth0
check_eq tcx_no_tc_one_line 1 "$(grep -c . <<<"$LAST_ERR")"
grep -q -- '--tcx says how to attach TC, --no-tc not to attach it' <<<"$LAST_ERR" &&
	pass tcx_no_tc_message || fail tcx_no_tc_message "$LAST_ERR"
nothing_left refused

# ---- attach --tcx --no-xdp ----------------------------------------------------------
out=$("$PKTSCOPE" --netns "$NS_B" attach --tcx --no-xdp veth0 -j 2>"$TMP/err")
check_eq attach "0 tcx" "$? $(jq -r .tc_mode <<<"$out" 2>/dev/null)$(cat "$TMP/err")"
r=$(row)
check_eq status_ok "ok tcx" "$(jq -r '"\(.state) \(.tc_mode)"' <<<"$r")"
kernel_matches attach
check_eq one_prog_per_hook "1 1" "$(wc -w <<<"$(tcx_progs ingress)") $(wc -w <<<"$(tcx_progs egress)")"
check_eq no_qdisc_no_filter "clsact no filters 0" \
	"clsact $(has_clsact) filters $(( $(tc_nfilters ingress) + $(tc_nfilters egress) ))"
check_eq link_pins_0600 "600 600" "$(stat -c %a "$PIN/tcx_ingress" "$PIN/tcx_egress" | paste -sd' ')"

# ---- exact counts in both directions ---------------------------------------------------
snap "$NS_B" "$TMP/b0"
udp_send "$NS_A" "$IP_B" $PORT $N_IN $SIZE
udp_send "$NS_B" "$IP_A" $PORT $N_OUT $SIZE
check_eq received_b $N_IN "$(rx_reach b $N_IN)"
check_eq received_a $N_OUT "$(rx_reach a $N_OUT)"
snap "$NS_B" "$TMP/b1"
check_eq tc_ingress_udp_packets $N_IN "$(dval "$TMP/b0" "$TMP/b1" '.dirs.tc_ingress.l4_packets.udp')"
check_eq tc_ingress_udp_bytes $((N_IN * (SIZE + 42))) "$(dval "$TMP/b0" "$TMP/b1" '.dirs.tc_ingress.l4_bytes.udp')"
check_eq tc_egress_udp_packets $N_OUT "$(dval "$TMP/b0" "$TMP/b1" '.dirs.tc_egress.l4_packets.udp')"
check_eq tc_egress_udp_bytes $((N_OUT * (SIZE + 42))) "$(dval "$TMP/b0" "$TMP/b1" '.dirs.tc_egress.l4_bytes.udp')"
check_eq no_xdp_dir false "$(jq -r '.dirs | has("xdp")' "$TMP/b1")"

# ---- a classic filter behind pktscope's TCX program still runs -------------------------
# A cls_bpf filter that drops everything: if pktscope answered TCX_PASS
# (TC_ACT_OK) the hook would end there and the datagrams would arrive.
tc -n "$NS_B" qdisc add dev veth0 clsact &&
tc -n "$NS_B" filter add dev veth0 ingress prio 10 bpf da obj "$BUILD_DIR/drop_tc.bpf.o" sec tc ||
	fail classic_drop_filter "could not add the classic drop filter"
snap "$NS_B" "$TMP/b2"
udp_send "$NS_A" "$IP_B" $PORT $N_DROP $SIZE
snap "$NS_B" "$TMP/b3"
tc -n "$NS_B" qdisc del dev veth0 clsact
# One more datagram with the drop filter gone: when it has arrived, any of
# the dropped ones would have arrived before it.
udp_send "$NS_A" "$IP_B" $PORT 1 $SIZE
check_eq classic_filter_ran_after_tcx $((N_IN + 1)) "$(rx_reach b $((N_IN + 1)))"
check_eq tcx_counted_before_classic $N_DROP "$(dval "$TMP/b2" "$TMP/b3" '.dirs.tc_ingress.l4_packets.udp')"
check_eq tcx_verdict_pass $N_DROP "$(dval "$TMP/b2" "$TMP/b3" '.dirs.tc_ingress.verdict.pass')"

# ---- a drop rule drops at TC ingress (TCX_DROP) ----------------------------------------
id=$("$PKTSCOPE" --netns "$NS_B" filter add veth0 --drop --proto udp --dport $PORT --dir ingress -j 2>/dev/null | jq -r '.id')
snap "$NS_B" "$TMP/b4"
udp_send "$NS_A" "$IP_B" $PORT $N_DROP $SIZE
snap "$NS_B" "$TMP/b5"
ps_json "$NS_B" filter list veth0 >"$TMP/rules"
"$PKTSCOPE" --netns "$NS_B" filter del veth0 "$id" >/dev/null 2>&1
udp_send "$NS_A" "$IP_B" $PORT 1 $SIZE
check_eq rule_dropped_none_arrived $((N_IN + 2)) "$(rx_reach b $((N_IN + 2)))"
check_eq rule_tc_ingress_verdict_drop $N_DROP "$(dval "$TMP/b4" "$TMP/b5" '.dirs.tc_ingress.verdict.drop')"
check_eq rule_dropped_count $N_DROP "$(jq -r --arg id "$id" '[.. | objects | select(has("dropped") and ((.id // "" | tostring) == $id)) | .dropped] | add' "$TMP/rules")"

# ---- detach ---------------------------------------------------------------------------------
ids=$(jq -r '"\(.tc_ingress_prog_id) \(.tc_egress_prog_id)"' <<<"$r")
check_rc detach 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left detach
gone=0
for id in $ids; do bpftool prog show id "$id" >/dev/null 2>&1 || gone=$((gone + 1)); done
check_eq detach_programs_freed 2 "$gone"

# ---- kill -9 after every TCX step, recovered by detach and by attach -----------------------
STEPS=$(PKTSCOPE_FAILPOINT=list "$PKTSCOPE" attach | grep -E '^(pin-tcx_|tcx-)')
check_eq failpoints_tcx "pin-tcx_ingress tcx-ingress pin-tcx_egress tcx-egress" "$(echo $STEPS)"
for step in $STEPS; do
	for how in detach attach; do
		n="kill_${step}_$how"
		rc=0
		( PKTSCOPE_FAILPOINT=$step "$PKTSCOPE" --netns "$NS_B" attach --tcx --no-xdp veth0 \
			>/dev/null 2>"$TMP/kill.err"; exit $?; ) 2>/dev/null || rc=$?
		check_eq "${n}_killed" "137 pktscope: failpoint $step: SIGKILL" "$rc $(tail -1 "$TMP/kill.err")"
		check_eq "${n}_status_partial" partial "$(row | jq -r .state)"
		# What is pinned is what runs: a link made but not yet pinned went
		# with the process.
		npins=$(ls "$PIN" | grep -c '^tcx_')
		check_eq "${n}_pinned_links_run" "$npins" \
			"$(( $(wc -w <<<"$(tcx_progs ingress)") + $(wc -w <<<"$(tcx_progs egress)") ))"
		if [ "$how" = detach ]; then
			check_rc "${n}_detach" 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
			nothing_left "$n"
		else
			check_rc "${n}_attach" 0 "$PKTSCOPE" --netns "$NS_B" attach --tcx --no-xdp veth0
			check_eq "${n}_whole" "ok tcx" "$(row | jq -r '"\(.state) \(.tc_mode)"')"
			kernel_matches "$n"
			"$PKTSCOPE" --netns "$NS_B" detach veth0 >/dev/null 2>&1
			nothing_left "${n}_then_detached"
		fi
	done
done

# ---- with XDP too: one attachment, both hooks -----------------------------------------------
check_rc attach_xdp_tcx 0 "$PKTSCOPE" --netns "$NS_B" attach --tcx --mode generic veth0
snap "$NS_B" "$TMP/b6"
udp_send "$NS_A" "$IP_B" $PORT $N_IN $SIZE
snap "$NS_B" "$TMP/b7"
check_eq xdp_and_tcx_agree "$N_IN $N_IN" \
	"$(dval "$TMP/b6" "$TMP/b7" '.dirs.xdp.l4_packets.udp') $(dval "$TMP/b6" "$TMP/b7" '.dirs.tc_ingress.l4_packets.udp')"
kernel_matches attach_xdp_tcx
check_rc detach_xdp_tcx 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left detach_xdp_tcx
suite_end
