#!/usr/bin/env bash
# Drop accounting and the drop filter, on a two-host netns bench with exact
# numbers: N datagrams sent, N counted where they were dropped.
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

TAG="$(uniq_tag)d"
TMP=$(mktemp -d)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	"$PKTSCOPE" --netns "$TAG-a" detach veth0 >/dev/null 2>&1
	"$PKTSCOPE" --netns "$TAG-b" detach veth0 >/dev/null 2>&1
	"$PKTSCOPE" --netns "$TAG-b" drops --persist detach >/dev/null 2>&1
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

# A UDP receiver that keeps its datagram count in a file (written atomically).
cat >"$TMP/recv.py" <<'EOF'
import os, socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)	# SO_RCVBUFFORCE: no buffer drops
s.bind(("0.0.0.0", port))
def put(n):
	with open(out + ".tmp", "w") as f:
		f.write(str(n))
	os.replace(out + ".tmp", out)
# The count is written when the socket goes quiet for 20 ms, and at least
# every 1000 datagrams: cheap enough to keep up with the sender.
s.settimeout(0.02)
n = written = 0
put(n)
while True:
	try:
		s.recv(65535)
		n += 1
		if n - written >= 1000:
			put(n)
			written = n
	except socket.timeout:
		if n != written:
			put(n)
			written = n
EOF
# N datagrams to DST:PORT, paced so that no queue on the way overflows.
cat >"$TMP/send.py" <<'EOF'
import socket, sys, time
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
	s.sendto(b"pktscope-drops-test" + b"x" * 45, (dst, port))
	if i % 100 == 99:
		time.sleep(0.001)
EOF

send() { ip netns exec "$1" python3 "$TMP/send.py" "$2" "$3" "$4"; }

# recv_start NS PORT NAME: start a receiver; its count is in $TMP/NAME.
recv_start() {
	ip netns exec "$1" python3 "$TMP/recv.py" "$2" "$TMP/$3" &
	PIDS+=($!)
	wait_for 5 test -s "$TMP/$3"
}

# wait_for SECONDS CMD...: poll until CMD succeeds or the time is up.
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

count_is() { [ "$(cat "$TMP/$1" 2>/dev/null)" = "$2" ]; }

# The receiver count once it reached WANT, or stopped moving for a second
# (at most 15 s).
recv_count() {
	local name=$1 want=$2 last=-1 cur i same=0
	for ((i = 0; i < 300; i++)); do
		cur=$(cat "$TMP/$name")
		[ "$cur" = "$want" ] && break
		if [ "$cur" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 20 ] && break
		else
			same=0
		fi
		last=$cur
		sleep 0.05
	done
	cat "$TMP/$name"
}

rule_field() {	# NS RULE_ID FIELD
	"$PKTSCOPE" --netns "$1" filter list veth0 -j |
		jq -r --argjson id "$2" ".rules[] | select(.id == \$id) | .$3"
}

verdict_drop() {	# NS DIR
	"$PKTSCOPE" --netns "$1" stats veth0 -j | jq -r ".dirs.$2.verdict.drop"
}

# drops_start NS NAME ARGS...: run `pktscope drops` until drops_stop NAME.
drops_start() {
	local ns=$1 name=$2; shift 2
	"$PKTSCOPE" --netns "$ns" drops -j "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	eval "DROPS_$name=$!"
	PIDS+=($!)
	wait_for 10 grep -q "watching drops" "$TMP/$name.err"
}

drops_stop() {
	local pid
	eval "pid=\$DROPS_$1"
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# drops_count NAME JQ_FILTER: sum of .count over the rows of the last table.
drops_count() {
	tail -n 1 "$TMP/$1.out" | jq "[.drops[] | select($2) | .count] | add // 0"
}

if ! two_hosts_up "$TAG" >/dev/null 2>&1; then
	fail setup "two_hosts_up $TAG failed"
	exit 1
fi
A="$TAG-a" B="$TAG-b"
# Neighbours resolved before anything is counted.
ip netns exec "$A" ping -c 1 -W 2 "$IP_B" >/dev/null
ip netns exec "$B" ping -c 1 -W 2 "$IP_A" >/dev/null
ip netns exec "$A" ping -6 -c 1 -W 2 "$IP6_B" >/dev/null

# ---- bad input -------------------------------------------------------------
check_rc filter_unattached 1 "$PKTSCOPE" --netns "$B" filter add veth0 --drop --proto udp
case "$LAST_ERR" in
*"no pktscope attached"*) pass filter_unattached_msg ;;
*) fail filter_unattached_msg "stderr: $LAST_ERR" ;;
esac

check_cmd attach_b "$PKTSCOPE" --netns "$B" attach veth0
check_cmd attach_a_tc_only "$PKTSCOPE" --netns "$A" attach --no-xdp veth0

bad() {	# NAME EXPECTED_STDERR_WORD ARGS...
	local name=$1 word=$2; shift 2
	check_rc "bad_$name" 2 "$PKTSCOPE" --netns "$B" filter add veth0 "$@"
	case "$LAST_ERR" in
	*"$word"*) ;;
	*) fail "bad_${name}_msg" "stderr lacks '$word': $LAST_ERR" ;;
	esac
}
bad cidr_prefix "out of range" --drop --src 10.0.0.0/33
bad cidr_addr "not an address" --drop --dst 300.1.2.3
bad cidr_v6_prefix "out of range" --drop --dst fd00::/129
bad cidr_mixed "different families" --drop --src 10.0.0.0/8 --dst fd00::/8
bad sport "out of range" --drop --sport 65536
bad dport_neg "not a number" --drop --dport -1
bad rate_high "out of range" --drop --rate 1.5
bad rate_zero "out of range" --drop --rate 0
bad rate_text "not a number" --drop --rate often
bad proto_name "unknown protocol" --drop --proto sctpx
bad proto_num "out of range" --drop --proto 256
bad every_zero "out of range" --drop --every 0
bad no_action "needs an action" --proto udp
bad rate_and_every "exclude" --drop --rate 0.1 --every 3
bad dir "unknown direction" --drop --dir sideways
check_eq bad_input_adds_nothing 0 \
	"$("$PKTSCOPE" --netns "$B" filter list veth0 -j | jq '.rules | length')"
check_rc del_missing_rule 2 "$PKTSCOPE" --netns "$B" filter del veth0 5

# ---- --every 10 at XDP ingress: exactly 100 of 1000 ---------------------------
P1=39101
recv_start "$B" $P1 r1
drops_start "$B" d1 -i 0.5
id=$("$PKTSCOPE" --netns "$B" filter add veth0 --drop --proto udp --dport $P1 --every 10 \
	--dir ingress -j | jq .id)
check_eq every_rule_at_xdp xdp "$(rule_field "$B" "$id" at)"
send "$A" "$IP_B" $P1 1000
check_eq every_receiver_900 900 "$(recv_count r1 900)"
check_eq every_matched_1000 1000 "$(rule_field "$B" "$id" matched)"
check_eq every_dropped_100 100 "$(rule_field "$B" "$id" dropped)"
check_eq every_xdp_verdict_drop 100 "$(verdict_drop "$B" xdp)"
sleep 0.6
drops_stop d1
check_eq drops_table_rule_row 100 \
	"$(drops_count d1 ".source == \"pktscope\" and .rule_id == $id and .where == \"xdp\"")"
check_cmd every_del "$PKTSCOPE" --netns "$B" filter del veth0 "$id"

# ---- --rate 0.05 on 20000: within 4 standard deviations of 1000 ----------------
P2=39102
recv_start "$B" $P2 r2
id=$("$PKTSCOPE" --netns "$B" filter add veth0 --drop --proto udp --dport $P2 --rate 0.05 -j |
	jq .id)
send "$A" "$IP_B" $P2 20000
check_eq rate_matched_20000 20000 "$(rule_field "$B" "$id" matched)"
d=$(rule_field "$B" "$id" dropped)
# sd = sqrt(20000 * 0.05 * 0.95) = 30.8; 4 sd = 123.
if [ "$d" -ge 877 ] && [ "$d" -le 1123 ]; then
	pass rate_dropped_within_4sd
else
	fail rate_dropped_within_4sd "dropped $d, wanted 1000 +- 123"
fi
check_eq rate_receiver $((20000 - d)) "$(recv_count r2 $((20000 - d)))"
check_cmd rate_del "$PKTSCOPE" --netns "$B" filter del veth0 "$id"

# ---- egress only, at TC; deleting restores delivery ---------------------------
P3=39103
recv_start "$B" $P3 r3b
recv_start "$A" $P3 r3a
id=$("$PKTSCOPE" --netns "$A" filter add veth0 --drop --proto udp --dport $P3 --dir egress -j |
	jq .id)
check_eq egress_rule_at tc_egress "$(rule_field "$A" "$id" at)"
send "$A" "$IP_B" $P3 50
send "$B" "$IP_A" $P3 50
check_eq egress_ingress_delivered 50 "$(recv_count r3a 50)"
check_eq egress_dropped_receiver 0 "$(recv_count r3b 0)"
check_eq egress_rule_dropped 50 "$(rule_field "$A" "$id" dropped)"
check_eq egress_tc_verdict_drop 50 "$(verdict_drop "$A" tc_egress)"
check_cmd egress_del "$PKTSCOPE" --netns "$A" filter del veth0 "$id"
send "$A" "$IP_B" $P3 50
check_eq egress_restored 50 "$(recv_count r3b 50)"

# ---- ingress at TC when XDP is not attached ----------------------------------
P4=39104
recv_start "$A" $P4 r4
id=$("$PKTSCOPE" --netns "$A" filter add veth0 --drop --proto udp --dport $P4 --src "$IP_B/32" \
	--dir ingress --every 5 -j | jq .id)
check_eq tc_ingress_rule_at tc_ingress "$(rule_field "$A" "$id" at)"
send "$B" "$IP_A" $P4 100
check_eq tc_ingress_receiver_80 80 "$(recv_count r4 80)"
check_eq tc_ingress_dropped_20 20 "$(rule_field "$A" "$id" dropped)"
check_eq tc_ingress_verdict_drop 20 "$(verdict_drop "$A" tc_ingress)"
check_cmd tc_ingress_del "$PKTSCOPE" --netns "$A" filter del veth0 "$id"

# ---- kernel drops: netfilter and no socket, with their reasons ----------------
P5=39105 P6=39106
ip netns exec "$B" nft add table inet T &&
	ip netns exec "$B" nft add chain inet T c '{ type filter hook input priority 0; }' &&
	ip netns exec "$B" nft add rule inet T c udp dport $P5 drop ||
	fail nft_setup "nft rules in $B failed"
drops_start "$B" d2 -i 0.5
send "$A" "$IP_B" $P5 300
send "$A" "$IP_B" $P6 120
send "$A" "$IP6_B" $P5 40
# Both counts in the BPF maps once the next table is printed.
sleep 0.7
drops_stop d2
check_eq nft_drop_counted 300 \
	"$(drops_count d2 '.reason == "NETFILTER_DROP" and .iface == "veth0" and .l3 == "ipv4" and .l4 == "udp"')"
# Bytes as the skb has them at the input hook: from the IP header on
# (20 + 8 + 64 and 40 + 8 + 64 per datagram).
check_eq nft_drop_bytes $((300 * 92)) "$(tail -n 1 "$TMP/d2.out" | jq '[.drops[] |
	select(.reason == "NETFILTER_DROP" and .l3 == "ipv4" and .l4 == "udp") | .bytes] | add // 0')"
check_eq nft_drop_ipv6_counted 40 \
	"$(drops_count d2 '.reason == "NETFILTER_DROP" and .iface == "veth0" and .l3 == "ipv6" and .l4 == "udp"')"
check_eq nft_drop_ipv6_bytes $((40 * 112)) "$(tail -n 1 "$TMP/d2.out" | jq '[.drops[] |
	select(.reason == "NETFILTER_DROP" and .l3 == "ipv6" and .l4 == "udp") | .bytes] | add // 0')"
check_eq nft_drop_where stack \
	"$(tail -n 1 "$TMP/d2.out" | jq -r '[.drops[] | select(.reason == "NETFILTER_DROP")][0].where')"
check_eq no_socket_counted 120 \
	"$(drops_count d2 '.reason == "NO_SOCKET" and .iface == "veth0" and .l4 == "udp"')"

# One line per drop with the flow; a drop in another netns is not seen.
drops_start "$B" d3 --events
send "$A" "$IP_B" $P5 20
send "$A" "$IP6_B" $P5 6
send "$B" "$IP_A" $P6 7
sleep 0.5
drops_stop d3
check_eq events_one_per_drop 20 \
	"$(jq -s "[.[] | select(.reason == \"NETFILTER_DROP\" and .dport == $P5 and .src == \"$IP_A\")] | length" "$TMP/d3.out")"
check_eq events_ipv6_flow 6 \
	"$(jq -s "[.[] | select(.reason == \"NETFILTER_DROP\" and .l3 == \"ipv6\" and .l4 == \"udp\" and .src == \"$IP6_A\" and .dst == \"$IP6_B\" and .dport == $P5 and .len == 112)] | length" "$TMP/d3.out")"
check_eq events_other_netns_unseen 0 \
	"$(jq -s "[.[] | select(.dport == $P6)] | length" "$TMP/d3.out")"

# ---- persistent mode: pinned per netns, counts with no process running -------
ino=$(ip netns exec "$B" stat -L -c %i /proc/self/ns/net)
KD=/sys/fs/bpf/pktscope/drops-$ino
check_rc persist_bad_action 2 "$PKTSCOPE" --netns "$B" drops --persist bogus
check_rc persist_with_iface 2 "$PKTSCOPE" --netns "$B" drops --persist attach veth0
check_rc persist_with_interval 2 "$PKTSCOPE" --netns "$B" drops --persist attach -i 1
[ -e "$KD" ] && fail persist_bad_input_attaches_nothing "$KD exists" ||
	pass persist_bad_input_attaches_nothing
check_cmd persist_attach "$PKTSCOPE" --netns "$B" drops --persist attach
check_rc persist_attach_twice 1 "$PKTSCOPE" --netns "$B" drops --persist attach
case "$LAST_ERR" in
*"already attached"*) pass persist_attach_twice_msg ;;
*) fail persist_attach_twice_msg "stderr: $LAST_ERR" ;;
esac
check_eq persist_dir_0700 700 "$(stat -c %a "$KD")"
check_eq persist_pins_0600 "600 600 600 600 600 600 600" \
	"$(stat -c %a "$KD"/* | tr '\n' ' ' | sed 's/ $//')"
# The attaching process has exited: the pins alone count these.
NP=230
send "$A" "$IP_B" $P5 $NP
send "$A" "$IP_B" $P6 17
pdrops() {	# ARGS... -> the JSON of one table read from the pins
	"$PKTSCOPE" --netns "$B" drops -j -c 1 -i 0.05 "$@" 2>/dev/null | tail -n 1
}
nft_n() { jq '[.drops[] | select(.reason == "NETFILTER_DROP" and .iface == "veth0" and .l4 == "udp") | .count] | add // 0'; }
# kfree_skb runs in the softirq that delivers: poll briefly for the last ones.
for i in $(seq 40); do [ "$(pdrops | nft_n)" = $NP ] && break; sleep 0.05; done
check_eq persist_nft_exact $NP "$(pdrops | nft_n)"
check_eq persist_no_socket_exact 17 "$(pdrops | jq '[.drops[] | select(.reason == "NO_SOCKET" and .iface == "veth0" and .l4 == "udp") | .count] | add // 0')"
check_eq persist_table_pinned true "$(pdrops | jq .pinned)"
check_eq persist_iface_filter $NP "$(pdrops veth0 | nft_n)"
check_eq persist_other_iface_empty 0 "$(pdrops lo | nft_n)"
# --events still loads its own programs beside the pins.
drops_start "$B" d4 --events
send "$A" "$IP_B" $P5 5
sleep 0.5
drops_stop d4
check_eq persist_events_beside_pins 5 \
	"$(jq -s "[.[] | select(.reason == \"NETFILTER_DROP\" and .dport == $P5)] | length" "$TMP/d4.out")"
check_eq persist_total_after_events $((NP + 5)) "$(pdrops | nft_n)"
link_id=$(bpftool link show pinned "$KD/link_kfree_skb" -j 2>/dev/null | jq .id)
check_cmd persist_detach "$PKTSCOPE" --netns "$B" drops --persist detach
[ -e "$KD" ] && fail persist_detach_removes_pins "$(ls -la "$KD")" || pass persist_detach_removes_pins
if [ -n "$link_id" ] && ! bpftool link show id "$link_id" >/dev/null 2>&1; then
	pass persist_detach_link_gone
else
	fail persist_detach_link_gone "link '$link_id' still there"
fi
check_rc persist_detach_twice 1 "$PKTSCOPE" --netns "$B" drops --persist detach
check_eq persist_gone_table_live null \
	"$("$PKTSCOPE" --netns "$B" drops -j -d 0.1 2>/dev/null | tail -n 1 | jq .pinned)"

# ---- detach removes the filter pins ------------------------------------------
check_cmd detach_b "$PKTSCOPE" --netns "$B" detach veth0
ifidx=$(ip -n "$B" -o link show veth0 | cut -d: -f1)
if [ -e "/sys/fs/bpf/pktscope/$ino-$ifidx" ]; then
	fail detach_removes_pins "/sys/fs/bpf/pktscope/$ino-$ifidx still there"
else
	pass detach_removes_pins
fi

suite_end
