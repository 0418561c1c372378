#!/usr/bin/env bash
# Lifecycle of the core accounting: attach, the tool gone while counting goes
# on, status, attach twice, --replace, --no-xdp/--no-tc/--mode generic, pin
# permissions, JSON documents and their internal sums, stats -i/-c deltas,
# detach leaving nothing (ip link, tc, bpftool, bpffs), a clsact qdisc and
# filter of someone else left alone, and no pktscope program left in the
# kernel at the end.  The 100 attach/detach cycles are test_core_cycles.sh.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

TAG=$(uniq_tag)l
TMP=$(mktemp -d)
SINK_PID="" STATS_PID=""

cleanup() {
	kill_tree "$SINK_PID"
	kill_tree "$STATS_PID"
	core_b_undo
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=9999
core_bench_require "$TAG"
core_b_vars
udp_sink "$NS_B" $PORT
wait_for 10 udp_bound "$NS_B" $PORT || { fail udp_sink "no UDP socket in $NS_B"; exit 1; }

# What the kernel says is on veth0 in NS_B.
xdp_id() { ip -n "$NS_B" -j link show veth0 | jq -r '.[0].xdp.prog.id // 0'; }
xdp_mode() { ip -n "$NS_B" -j link show veth0 | jq -r '.[0].xdp.mode // 0'; }
# pktscope's TC program ids (classic filters at its handle, or TCX), one per line.
tc_ids() { tc_prog_ids "$NS_B" veth0 "$1"; }
tc_nfilters() { tc_hook_n "$NS_B" veth0 "$1"; }
has_clsact() { tc -n "$NS_B" qdisc show dev veth0 | grep -q clsact; }
prog_exists() { bpftool prog show id "$1" >/dev/null 2>&1; }
prog_gone() { ! prog_exists "$1"; }
status_of_ns() { "$PKTSCOPE" status -j 2>/dev/null | jq -c --arg ns "$NS_B" '[.attachments[] | select(.netns == $ns)]'; }
xdp_pkts() { ps_json "$NS_B" stats veth0 | jq -r '.dirs.xdp.l4_packets.udp'; }

# nothing_left NAME: detach left no trace on veth0 or in bpffs.
nothing_left() {
	local n=$1
	check_eq "${n}_no_pin_dir" absent "$([ -e "$PIN" ] && echo present || echo absent)"
	check_eq "${n}_no_xdp" 0 "$(xdp_id)"
	check_eq "${n}_no_tc_ingress_filter" 0 "$(tc_nfilters ingress)"
	check_eq "${n}_no_tc_egress_filter" 0 "$(tc_nfilters egress)"
	check_eq "${n}_no_clsact" absent "$(has_clsact && echo present || echo absent)"
	check_eq "${n}_not_in_status" '[]' "$(status_of_ns)"
}

# ---- attach -----------------------------------------------------------------
ps_objects | sort >"$TMP/objs0"
CORE_OBJS0=$TMP/objs0 CORE_PIN=$PIN
check_rc attach 0 "$PKTSCOPE" --netns "$NS_B" attach veth0
ST=$(status_of_ns)
XID=$(jq -r '.[0].xdp_prog_id' <<<"$ST")
TIN=$(jq -r '.[0].tc_ingress_prog_id' <<<"$ST")
TOUT=$(jq -r '.[0].tc_egress_prog_id' <<<"$ST")
check_eq status_lists_one "1" "$(jq length <<<"$ST")"
check_eq status_iface veth0 "$(jq -r '.[0].iface' <<<"$ST")"
check_eq status_ifindex "$IFX" "$(jq -r '.[0].ifindex' <<<"$ST")"
check_eq status_netns_ino "$NSINO" "$(jq -r '.[0].netns_ino' <<<"$ST")"
check_eq status_state ok "$(jq -r '.[0].state' <<<"$ST")"
check_eq status_pin_dir "$PIN" "$(jq -r '.[0].pin_dir' <<<"$ST")"
check_eq status_xdp_mode native "$(jq -r '.[0].xdp_mode' <<<"$ST")"
# TC as TCX links by default where the kernel has them (6.18 here): no qdisc.
check_eq status_tc_mode_default tcx "$(jq -r '.[0].tc_mode' <<<"$ST")"
check_eq default_tcx_no_clsact absent "$(has_clsact && echo present || echo absent)"
check_eq default_tcx_ingress "$TIN" "$(tcx_progs_of "$NS_B" veth0 ingress)"
check_eq default_tcx_egress "$TOUT" "$(tcx_progs_of "$NS_B" veth0 egress)"
check_eq ip_link_xdp_id "$XID" "$(xdp_id)"
# ip -j link: xdp.mode 1 is the driver (native) hook, 2 the generic one.
check_eq ip_link_xdp_native 1 "$(xdp_mode)"
check_eq tc_ingress_filter_id "$TIN" "$(tc_ids ingress)"
check_eq tc_egress_filter_id "$TOUT" "$(tc_ids egress)"
check_eq bpftool_xdp_name ps_xdp "$(bpftool prog show id "$XID" -j | jq -r .name)"
check_eq bpftool_tc_in_name ps_tc_in "$(bpftool prog show id "$TIN" -j | jq -r .name)"
check_eq bpftool_tc_out_name ps_tc_out "$(bpftool prog show id "$TOUT" -j | jq -r .name)"
# libxdp falls back to a plain (legacy) attachment when its dispatcher
# cannot load; either way xdp-loader must see our program.
if ip netns exec "$NS_B" xdp-loader status veth0 2>&1 | grep -q "ps_xdp .*$XID"; then
	pass xdp_loader_lists_ps_xdp
else
	fail xdp_loader_lists_ps_xdp "$(ip netns exec "$NS_B" xdp-loader status veth0 2>&1 | tail -2)"
fi
txt=$("$PKTSCOPE" status 2>&1)
if grep -Eq "^veth0 +$IFX +$NS_B +native +$XID +$TIN +$TOUT +ok +$PIN\$" <<<"$txt"; then
	pass status_text_row
else
	fail status_text_row "no row for $NS_B in: $txt"
fi

# ---- pins: private to root ----------------------------------------------------
check_eq pin_root_mode "700 0" "$(stat -c '%a %u' /sys/fs/bpf/pktscope)"
check_eq pin_dir_mode "700 0" "$(stat -c '%a %u' "$PIN")"
check_eq pin_stats_mode "600 0" "$(stat -c '%a %u' "$PIN/stats")"
check_eq pin_meta_mode "600 0" "$(stat -c '%a %u' "$PIN/meta")"
# Every pin (other modules add their maps here too) is root's, 0600.
check_eq pin_all_private "" "$(find "$PIN" -mindepth 1 \( -not -perm 600 -o -not -user 0 \) -printf '%P ')"

# ---- the tool is gone, the counting goes on ----------------------------------------
# attach exited: no process holds the programs, the attachment and pins do.
check_eq progs_held_by_no_process "[]" \
	"$(bpftool prog show -j | jq -c --argjson a "[$XID,$TIN,$TOUT]" \
		'[.[] | select(.id as $i | $a | index($i)) | select((.pids // []) | length > 0)]')"
p0=$(xdp_pkts)
udp_send "$NS_A" "$IP_B" $PORT 19 500
wait_for 3 test "$(xdp_pkts)" = $((p0 + 19))
check_eq counts_grow_after_tool_exit $((p0 + 19)) "$(xdp_pkts)"

# A running `stats -i` ends cleanly on SIGTERM and changes nothing.
setsid "$PKTSCOPE" --netns "$NS_B" stats veth0 -i 0.2 >/dev/null 2>&1 &
STATS_PID=$!
sleep 0.5
kill -TERM "$STATS_PID"
rc=0
for i in $(seq 30); do kill -0 "$STATS_PID" 2>/dev/null || break; sleep 0.1; done
wait "$STATS_PID"; rc=$?
STATS_PID=""
check_eq stats_sigterm_exit 0 "$rc"
check_eq xdp_still_attached_after_sigterm "$XID" "$(xdp_id)"

# ---- attach twice: a message, exit 0, nothing doubled --------------------------------
check_rc attach_twice_rc 0 "$PKTSCOPE" --netns "$NS_B" attach veth0
if grep -q "already attached" <<<"$LAST_ERR"; then pass attach_twice_message; else
	fail attach_twice_message "stderr: $LAST_ERR"; fi
check_eq attach_twice_same_xdp "$XID" "$(xdp_id)"
check_eq attach_twice_one_ingress_filter 1 "$(tc_nfilters ingress)"
check_eq attach_twice_one_egress_filter 1 "$(tc_nfilters egress)"
check_eq attach_twice_status_one 1 "$(status_of_ns | jq length)"
p0=$(xdp_pkts)
udp_send "$NS_A" "$IP_B" $PORT 23 500
wait_for 3 test "$(xdp_pkts)" = $((p0 + 23))
sleep 0.3
check_eq attach_twice_counts_not_doubled $((p0 + 23)) "$(xdp_pkts)"

# ---- JSON documents --------------------------------------------------------------
ps_json "$NS_B" stats veth0 >"$TMP/stats.json"
ps_json "$NS_B" hist size veth0 >"$TMP/hist.json"
"$PKTSCOPE" status -j >"$TMP/status.json" 2>/dev/null
for f in stats hist status; do
	if jq -e . "$TMP/$f.json" >/dev/null 2>&1 && [ "$(jq -s length "$TMP/$f.json")" = 1 ]; then
		pass "json_${f}_one_document"
	else
		fail "json_${f}_one_document" "$(head -c 300 "$TMP/$f.json")"
	fi
done
check_eq json_stats_top_fields "attach_time dirs iface ifindex netns xdp_mode" \
	"$(jq -r 'keys | join(" ")' "$TMP/stats.json")"
check_eq json_stats_dirs "tc_egress tc_ingress xdp" "$(jq -r '.dirs | keys | join(" ")' "$TMP/stats.json")"
check_eq json_stats_dir_fields \
	"bytes ipv4_frag ipv4_options ipv6_ext ipv6_frag l3_bytes l3_packets l4_bytes l4_packets malformed packets qinq truncated verdict vlan" \
	"$(jq -r '.dirs.xdp | keys | join(" ")' "$TMP/stats.json")"
check_eq json_stats_l3 "arp ipv4 ipv6 other" "$(jq -r '.dirs.xdp.l3_packets | keys | join(" ")' "$TMP/stats.json")"
check_eq json_stats_l4 "icmp icmpv6 none other tcp udp" \
	"$(jq -r '.dirs.xdp.l4_packets | keys | join(" ")' "$TMP/stats.json")"
check_eq json_stats_verdict "aborted drop pass redirect tx" \
	"$(jq -r '.dirs.xdp.verdict | keys | join(" ")' "$TMP/stats.json")"
check_eq json_status_fields \
	"attach_time iface ifindex netns netns_ino pin_dir state tc_egress_prog_id tc_ingress_prog_id tc_mode xdp_mode xdp_prog_id" \
	"$(jq -r --arg ns "$NS_B" '.attachments[] | select(.netns == $ns) | keys | join(" ")' "$TMP/status.json")"
check_eq json_hist_dirs "tc_egress tc_ingress xdp" "$(jq -r '.size | keys | join(" ")' "$TMP/hist.json")"
check_eq json_hist_bucket_fields "count hi lo" "$(jq -r '.size.xdp[0] | keys | join(" ")' "$TMP/hist.json")"
check_eq json_hist_first_lo 0 "$(jq -r '.size.xdp[0].lo' "$TMP/hist.json")"
check_eq json_hist_last_open null "$(jq -r '.size.xdp[-1].hi' "$TMP/hist.json")"
check_eq json_hist_contiguous true \
	"$(jq '[.size.xdp as $b | range(1; $b | length) | $b[. - 1].hi == $b[.].lo] | all' "$TMP/hist.json")"
# Internal sums: every packet is in one bucket, one L3, one L4, one verdict.
# (Counters read while traffic may arrive: compare within one document of a
# quiet bench, read twice to be sure it is quiet.)
for d in xdp tc_ingress tc_egress; do
	pk=$(jq -r ".dirs.$d.packets" "$TMP/stats.json")
	check_eq "json_${d}_sum_l3" "$pk" "$(jq -r ".dirs.$d.l3_packets | add" "$TMP/stats.json")"
	check_eq "json_${d}_sum_l4" "$pk" "$(jq -r ".dirs.$d.l4_packets | add" "$TMP/stats.json")"
	check_eq "json_${d}_sum_l3_bytes" "$(jq -r ".dirs.$d.bytes" "$TMP/stats.json")" \
		"$(jq -r ".dirs.$d.l3_bytes | add" "$TMP/stats.json")"
	check_eq "json_${d}_sum_verdict" "$pk" "$(jq -r ".dirs.$d.verdict | add" "$TMP/stats.json")"
	check_eq "json_${d}_sum_hist" "$pk" "$(jq -r "[.size.${d}[].count] | add" "$TMP/hist.json")"
done
# Errors in JSON mode are JSON too.
out=$("$PKTSCOPE" --netns "$NS_B" -j stats nosuch0 2>/dev/null)
check_eq json_error_document string "$(jq -r '.error | type' <<<"$out" 2>/dev/null)"

# ---- stats -i 1 -c 2: two interval documents whose deltas add up ----------------------
snap "$NS_B" "$TMP/i0"
"$PKTSCOPE" --netns "$NS_B" stats veth0 -i 1.5 -c 2 -j >"$TMP/iv.json" 2>"$TMP/iv.err" &
IVPID=$!
sleep 0.5
udp_send "$NS_A" "$IP_B" $PORT 31 700
sleep 1.5
udp_send "$NS_A" "$IP_B" $PORT 43 700
wait "$IVPID"
check_eq stats_interval_rc 0 "$?"
snap "$NS_B" "$TMP/i1"
check_eq stats_interval_two_docs 2 "$(jq -s length "$TMP/iv.json" 2>/dev/null)"
check_eq stats_interval_one_per_line 2 "$(wc -l <"$TMP/iv.json")"
check_eq stats_interval_deltas_add_up "$(dval "$TMP/i0" "$TMP/i1" '.dirs.xdp.l4_packets.udp')" \
	"$(jq -s '[.[].dirs.xdp.l4_packets.udp] | add' "$TMP/iv.json")"
check_eq stats_interval_total 74 "$(jq -s '[.[].dirs.xdp.l4_packets.udp] | add' "$TMP/iv.json")"
check_eq stats_interval_bytes_add_up "$(dval "$TMP/i0" "$TMP/i1" '.dirs.tc_ingress.bytes')" \
	"$(jq -s '[.[].dirs.tc_ingress.bytes] | add' "$TMP/iv.json")"
# pps is packets over the interval that really passed.
check_eq stats_interval_pps true \
	"$(jq -s '[.[] | .interval_s as $t | .dirs[] |
		((.pps - .packets / $t) | fabs) <= 0.001 * (.pps + 1) and
		((.bps - .bytes * 8 / $t) | fabs) <= 0.001 * (.bps + 1)] | all' "$TMP/iv.json" 2>/dev/null)"
check_eq stats_interval_fields true \
	"$(jq -s '[.[] | has("interval_s") and has("time") and (.dirs.xdp | has("pps") and has("bps"))] | all' "$TMP/iv.json")"
check_eq stats_interval_seconds true \
	"$(jq -s '[.[].interval_s | . >= 1.4 and . < 3] | all' "$TMP/iv.json")"

# ---- --replace -------------------------------------------------------------------
check_rc replace 0 "$PKTSCOPE" --netns "$NS_B" attach --replace veth0
ST=$(status_of_ns)
X2=$(jq -r '.[0].xdp_prog_id' <<<"$ST")
T2=$(jq -r '.[0].tc_ingress_prog_id' <<<"$ST")
check_eq replace_status_one 1 "$(jq length <<<"$ST")"
check_eq replace_new_xdp_id new "$([ "$X2" != "$XID" ] && echo new || echo "same $X2")"
check_eq replace_new_tc_id new "$([ "$T2" != "$TIN" ] && echo new || echo "same $T2")"
check_eq replace_ip_link "$X2" "$(xdp_id)"
check_eq replace_tc_ingress "$T2" "$(tc_ids ingress)"
for id in $XID $TIN $TOUT; do
	wait_for 5 prog_gone "$id"
	check_eq "replace_old_prog_${id}_freed" gone "$(prog_exists "$id" && echo present || echo gone)"
done
check_eq replace_fresh_counters 0 "$(xdp_pkts)"
udp_send "$NS_A" "$IP_B" $PORT 5 500
wait_for 3 test "$(xdp_pkts)" = 5
check_eq replace_counts 5 "$(xdp_pkts)"
XID=$X2 TIN=$T2 TOUT=$(jq -r '.[0].tc_egress_prog_id' <<<"$ST")

# ---- detach leaves nothing -----------------------------------------------------------
check_rc detach 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left detach
for id in $XID $TIN $TOUT; do
	wait_for 5 prog_gone "$id"
	check_eq "detach_prog_${id}_freed" gone "$(prog_exists "$id" && echo present || echo gone)"
done
check_rc detach_again_rc 1 "$PKTSCOPE" --netns "$NS_B" detach veth0
if grep -q "no pktscope attached" <<<"$LAST_ERR"; then pass detach_again_message; else
	fail detach_again_message "stderr: $LAST_ERR"; fi

# ---- variants: --no-tc, --no-xdp, --mode generic -----------------------------------------
check_rc attach_no_tc 0 "$PKTSCOPE" --netns "$NS_B" attach --no-tc veth0
check_eq no_tc_no_clsact absent "$(has_clsact && echo present || echo absent)"
check_eq no_tc_dirs xdp "$(ps_json "$NS_B" stats veth0 | jq -r '.dirs | keys | join(" ")')"
check_rc detach_no_tc 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left no_tc
check_rc attach_no_xdp 0 "$PKTSCOPE" --netns "$NS_B" attach --no-xdp veth0
check_eq no_xdp_ip_link 0 "$(xdp_id)"
check_eq no_xdp_dirs "tc_egress tc_ingress" "$(ps_json "$NS_B" stats veth0 | jq -r '.dirs | keys | join(" ")')"
check_rc detach_no_xdp 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left no_xdp
check_rc attach_generic 0 "$PKTSCOPE" --netns "$NS_B" attach --mode generic veth0
check_eq generic_ip_link_mode 2 "$(xdp_mode)"
check_eq generic_status_mode generic "$(status_of_ns | jq -r '.[0].xdp_mode')"
p0=$(xdp_pkts)
udp_send "$NS_A" "$IP_B" $PORT 9 500
wait_for 3 test "$(xdp_pkts)" = $((p0 + 9))
check_eq generic_counts $((p0 + 9)) "$(xdp_pkts)"
check_rc detach_generic 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left generic

# ---- --clsact: classic filters, a qdisc made and removed ---------------------------------
check_rc attach_clsact 0 "$PKTSCOPE" --netns "$NS_B" attach --clsact veth0
ST=$(status_of_ns)
check_eq clsact_tc_mode clsact "$(jq -r '.[0].tc_mode' <<<"$ST")"
check_eq clsact_qdisc_made present "$(has_clsact && echo present || echo absent)"
check_eq clsact_ingress_filter_id "$(jq -r '.[0].tc_ingress_prog_id' <<<"$ST")" \
	"$(tc -n "$NS_B" filter show dev veth0 ingress | sed -n 's/.*handle 0x7053 .* id \([0-9]*\) .*/\1/p')"
check_eq clsact_egress_filter_id "$(jq -r '.[0].tc_egress_prog_id' <<<"$ST")" \
	"$(tc -n "$NS_B" filter show dev veth0 egress | sed -n 's/.*handle 0x7053 .* id \([0-9]*\) .*/\1/p')"
check_eq clsact_no_tcx "" "$(tcx_progs_of "$NS_B" veth0 ingress)$(tcx_progs_of "$NS_B" veth0 egress)"
p0=$(ps_json "$NS_B" stats veth0 | jq -r '.dirs.tc_ingress.l4_packets.udp')
udp_send "$NS_A" "$IP_B" $PORT 7 500
wait_for 3 test "$(ps_json "$NS_B" stats veth0 | jq -r '.dirs.tc_ingress.l4_packets.udp')" = $((p0 + 7))
check_eq clsact_counts $((p0 + 7)) "$(ps_json "$NS_B" stats veth0 | jq -r '.dirs.tc_ingress.l4_packets.udp')"
check_rc detach_clsact 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
nothing_left clsact

# ---- someone else's clsact qdisc and filter stay ----------------------------------------
tc -n "$NS_B" qdisc add dev veth0 clsact
tc -n "$NS_B" filter add dev veth0 ingress protocol all prio 10 u32 match u32 0 0 classid 1:1
check_rc foreign_attach 0 "$PKTSCOPE" --netns "$NS_B" attach --clsact veth0
check_eq foreign_two_ingress_filters 2 "$(tc -n "$NS_B" filter show dev veth0 ingress | grep -Ec 'handle 0x7053|fh 800::800')"
check_rc foreign_detach 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
check_eq foreign_clsact_kept present "$(has_clsact && echo present || echo absent)"
check_eq foreign_u32_kept 1 "$(tc -n "$NS_B" filter show dev veth0 ingress | grep -c 'fh 800::800')"
check_eq foreign_ours_gone 0 "$(tc -n "$NS_B" filter show dev veth0 ingress | grep -c 'handle 0x7053')"
# The default (TCX) beside them: the foreign filter and qdisc are not touched at all.
check_rc foreign_tcx_attach 0 "$PKTSCOPE" --netns "$NS_B" attach veth0
check_eq foreign_tcx_ours_in_tcx "$(status_of_ns | jq -r '.[0].tc_ingress_prog_id')" \
	"$(tcx_progs_of "$NS_B" veth0 ingress)"
check_eq foreign_tcx_no_filter_of_ours "0 1" \
	"$(tc -n "$NS_B" filter show dev veth0 ingress | grep -c 'handle 0x7053') $(tc -n "$NS_B" filter show dev veth0 ingress | grep -c 'fh 800::800')"
check_rc foreign_tcx_detach 0 "$PKTSCOPE" --netns "$NS_B" detach veth0
check_eq foreign_tcx_clsact_kept present "$(has_clsact && echo present || echo absent)"
check_eq foreign_tcx_u32_kept 1 "$(tc -n "$NS_B" filter show dev veth0 ingress | grep -c 'fh 800::800')"
check_eq foreign_tcx_ours_gone "" "$(tcx_progs_of "$NS_B" veth0 ingress)"
tc -n "$NS_B" qdisc del dev veth0 clsact

# ---- nothing left in the kernel ---------------------------------------------------------
wait_for 10 test -z "$(core_leaks)"
check_eq no_leaked_programs "" "$(core_leaks | tr '\n' ' ')"

suite_end
