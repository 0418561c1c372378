#!/usr/bin/env bash
# Core accounting under real traffic, on a two-host netns bench with pktscope
# attached to both ends: exact counts per size bucket at the receiver's XDP
# and TC ingress and at the sender's TC egress, protocols of ping and iperf3
# TCP, VLAN/QinQ frames, and a 9000-byte jumbo frame.
#
# Exactness: neighbours are static (no ARP/ND), every datagram is one
# sendto() of a known size with DF set, and each check compares deltas of
# counters that the remaining background (a few IPv6 MLD reports, ICMPv6
# below 128 bytes) cannot reach.  Independent references: the veth's own
# rx/tx packet counters and the TCP MIB counters (nstat) of each namespace.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

TAG=$(uniq_tag)t
JTAG=$(uniq_tag)j
TMP=$(mktemp -d)
SINK_PID="" SRV_PID="" JSINK_PID=""

cleanup() {
	kill_tree "$SINK_PID"
	kill_tree "$JSINK_PID"
	kill_tree "$SRV_PID"
	core_detach_ours
	core_bench_down "$TAG"
	core_bench_down "$JTAG"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

attach() {
	core_attach "$1" >/dev/null 2>"$TMP/err" && return 0
	fail "attach_$1" "$(cat "$TMP/err")"
	return 1
}

# snapshot PREFIX: stats and hist of both ends and the veth's own packet
# counters, once all of them stopped moving (packets still in a veth ring
# are counted a moment later).
snapshot() {
	local p=$1 i
	for i in $(seq 30); do
		snap "$NS_B" "$TMP/$p.b" && snap "$NS_A" "$TMP/$p.a" || return 1
		echo "$(ifstat "$NS_B" rx_packets) $(ifstat "$NS_A" tx_packets)" >"$TMP/$p.if"
		if [ -e "$TMP/$p.b.prev" ] && cmp -s "$TMP/$p.b" "$TMP/$p.b.prev" &&
		   cmp -s "$TMP/$p.a" "$TMP/$p.a.prev" && cmp -s "$TMP/$p.if" "$TMP/$p.if.prev"; then
			break
		fi
		cp "$TMP/$p.b" "$TMP/$p.b.prev"
		cp "$TMP/$p.a" "$TMP/$p.a.prev"
		cp "$TMP/$p.if" "$TMP/$p.if.prev"
		sleep 0.2
	done
	hist_snap "$NS_B" "$TMP/$p.hb" && hist_snap "$NS_A" "$TMP/$p.ha"
}
# rx/tx packets of the veths at a snapshot: ifc PREFIX rx|tx
ifc() { awk -v f="$2" '{ print (f == "rx" ? $1 : $2) }' "$TMP/$1.if"; }

# Kernel's own interface counters, the reference for totals.
ifstat() { ip netns exec "$1" cat "/sys/class/net/veth0/statistics/$2"; }

# ---- bench -----------------------------------------------------------------
core_bench_require "$TAG"
attach "$NS_B" && attach "$NS_A" || exit 1
PORT=9999
udp_sink "$NS_B" $PORT
if ! wait_for 10 udp_bound "$NS_B" $PORT; then
	fail udp_sink "no UDP socket on port $PORT in $NS_B"
	exit 1
fi

# ---- UDP, several sizes, N each ---------------------------------------------
# Frame = payload + 8 (UDP) + 20 (IPv4) + 14 (Ethernet).  Bucket edges are hit
# from both sides (128 = lower edge, 1513/1514 around the 1514 edge), and
# every N is different so that a swapped bucket cannot pass.
SIZES="128:11 300:23 600:37 1100:41 1400:53 1513:29 1514:67"
snapshot u0
for sn in $SIZES; do
	frame=${sn%:*} n=${sn#*:}
	udp_send "$NS_A" "$IP_B" $PORT "$n" $((frame - 42)) || fail "udp_send_$frame" "sender failed"
done
snapshot u1

total=0 bytes=0
for sn in $SIZES; do
	frame=${sn%:*} n=${sn#*:}
	total=$((total + n)) bytes=$((bytes + n * frame))
	lo=$(bucket_of "$TMP/u1.hb" "$frame")
	check_eq "udp_${frame}_bucket${lo}_xdp" "$n" "$(bucket_delta "$TMP/u0.hb" "$TMP/u1.hb" xdp "$lo")"
	check_eq "udp_${frame}_bucket${lo}_tc_ingress" "$n" \
		"$(bucket_delta "$TMP/u0.hb" "$TMP/u1.hb" tc_ingress "$lo")"
	check_eq "udp_${frame}_bucket${lo}_sender_tc_egress" "$n" \
		"$(bucket_delta "$TMP/u0.ha" "$TMP/u1.ha" tc_egress "$lo")"
done
# The sizes above were chosen to fall into seven different buckets.
nb=$(for sn in $SIZES; do bucket_of "$TMP/u1.hb" "${sn%:*}"; done | sort -u | wc -l)
check_eq udp_sizes_distinct_buckets 7 "$nb"

for d in xdp tc_ingress; do
	check_eq "udp_packets_$d" "$total" "$(dval "$TMP/u0.b" "$TMP/u1.b" ".dirs.$d.l4_packets.udp")"
	check_eq "udp_bytes_$d" "$bytes" "$(dval "$TMP/u0.b" "$TMP/u1.b" ".dirs.$d.l4_bytes.udp")"
	check_eq "udp_ipv4_packets_$d" "$total" "$(dval "$TMP/u0.b" "$TMP/u1.b" ".dirs.$d.l3_packets.ipv4")"
	for p in tcp icmp; do
		check_eq "udp_no_${p}_$d" 0 "$(dval "$TMP/u0.b" "$TMP/u1.b" ".dirs.$d.l4_packets.$p")"
	done
done
check_eq udp_packets_sender_tc_egress "$total" \
	"$(dval "$TMP/u0.a" "$TMP/u1.a" '.dirs.tc_egress.l4_packets.udp')"
check_eq udp_bytes_sender_tc_egress "$bytes" \
	"$(dval "$TMP/u0.a" "$TMP/u1.a" '.dirs.tc_egress.l4_bytes.udp')"
# Totals against the veth driver's own counters (any background included).
check_eq udp_xdp_packets_vs_rx_packets "$(( $(ifc u1 rx) - $(ifc u0 rx) ))" \
	"$(dval "$TMP/u0.b" "$TMP/u1.b" '.dirs.xdp.packets')"
check_eq udp_tc_egress_packets_vs_tx_packets "$(( $(ifc u1 tx) - $(ifc u0 tx) ))" \
	"$(dval "$TMP/u0.a" "$TMP/u1.a" '.dirs.tc_egress.packets')"

# ---- UDP over IPv6 ------------------------------------------------------------
# 1000 + 8 + 40 + 14 = 1062 bytes: far above anything MLD sends.
snapshot v0
udp_send "$NS_A" "$IP6_B" $PORT 31 1000 6 || fail udp6_send "sender failed"
snapshot v1
lo=$(bucket_of "$TMP/v1.hb" 1062)
check_eq udp6_bucket_xdp 31 "$(bucket_delta "$TMP/v0.hb" "$TMP/v1.hb" xdp "$lo")"
check_eq udp6_bucket_tc_ingress 31 "$(bucket_delta "$TMP/v0.hb" "$TMP/v1.hb" tc_ingress "$lo")"
check_eq udp6_bucket_sender_tc_egress 31 "$(bucket_delta "$TMP/v0.ha" "$TMP/v1.ha" tc_egress "$lo")"
check_eq udp6_packets_xdp 31 "$(dval "$TMP/v0.b" "$TMP/v1.b" '.dirs.xdp.l4_packets.udp')"
check_eq udp6_bytes_xdp $((31 * 1062)) "$(dval "$TMP/v0.b" "$TMP/v1.b" '.dirs.xdp.l4_bytes.udp')"
check_eq udp6_not_ipv4_xdp 0 "$(dval "$TMP/v0.b" "$TMP/v1.b" '.dirs.xdp.l3_packets.ipv4')"

# ---- ping and ping -6 -----------------------------------------------------------
# ICMP echo of 200 bytes: 242-byte frames; echo over IPv6 of 300: 362 bytes.
N=7
snapshot p0
ip netns exec "$NS_A" ping -q -c $N -i 0.05 -s 200 -W 2 "$IP_B" >/dev/null ||
	fail ping "ping $IP_B from $NS_A failed"
ip netns exec "$NS_A" ping -6 -q -c $N -i 0.05 -s 300 -W 2 "$IP6_B" >/dev/null ||
	fail ping6 "ping -6 $IP6_B from $NS_A failed"
snapshot p1
for d in xdp tc_ingress tc_egress; do
	check_eq "ping_icmp_receiver_$d" $N "$(dval "$TMP/p0.b" "$TMP/p1.b" ".dirs.$d.l4_packets.icmp")"
	check_eq "ping_icmp_bytes_receiver_$d" $((N * 242)) \
		"$(dval "$TMP/p0.b" "$TMP/p1.b" ".dirs.$d.l4_bytes.icmp")"
	check_eq "ping_icmp_sender_$d" $N "$(dval "$TMP/p0.a" "$TMP/p1.a" ".dirs.$d.l4_packets.icmp")"
	for p in tcp udp; do
		check_eq "ping_no_${p}_receiver_$d" 0 "$(dval "$TMP/p0.b" "$TMP/p1.b" ".dirs.$d.l4_packets.$p")"
	done
	lo=$(bucket_of "$TMP/p1.hb" 362)
	check_eq "ping6_bucket${lo}_receiver_$d" $N "$(bucket_delta "$TMP/p0.hb" "$TMP/p1.hb" "$d" "$lo")"
done

# ---- iperf3 TCP -------------------------------------------------------------------
# Every TCP segment on the wire is one XDP packet at the other end: the
# receiver's XDP count equals the segments the sender's TCP sent
# (OutSegs + RetransSegs from nstat), both ways.
tcp_mib() {
	ip netns exec "$1" nstat -asz TcpOutSegs TcpRetransSegs | awk 'NR > 1 { s += $2 } END { print s + 0 }'
}
setsid ip netns exec "$NS_B" iperf3 -s -1 -p 5301 >"$TMP/iperf-s.log" 2>&1 &
SRV_PID=$!
if wait_for 10 tcp_listening "$NS_B" 5301; then
	snapshot t0
	oa0=$(tcp_mib "$NS_A") ob0=$(tcp_mib "$NS_B")
	if ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5301 -t 2 -b 200M >"$TMP/iperf-c.log" 2>&1; then
		pass iperf3_run
	else
		fail iperf3_run "$(tail -2 "$TMP/iperf-c.log" | tr '\n' ' ')"
	fi
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=""
	snapshot t1
	oa1=$(tcp_mib "$NS_A") ob1=$(tcp_mib "$NS_B")
	check_eq tcp_receiver_xdp_vs_sender_outsegs "$((oa1 - oa0))" \
		"$(dval "$TMP/t0.b" "$TMP/t1.b" '.dirs.xdp.l4_packets.tcp')"
	check_eq tcp_receiver_tc_ingress_vs_sender_outsegs "$((oa1 - oa0))" \
		"$(dval "$TMP/t0.b" "$TMP/t1.b" '.dirs.tc_ingress.l4_packets.tcp')"
	check_eq tcp_sender_xdp_vs_receiver_outsegs "$((ob1 - ob0))" \
		"$(dval "$TMP/t0.a" "$TMP/t1.a" '.dirs.xdp.l4_packets.tcp')"
	# TC egress runs before GSO segmentation: a TSO skb of k segments is
	# one packet there and k on the wire, and each of the k-1 extra
	# segments repeats the 66 bytes of headers (Ethernet, IPv4, TCP with
	# timestamps).  So the wire (receiver XDP) minus TC egress must be 66
	# bytes per extra packet, exactly.
	wp=$(dval "$TMP/t0.b" "$TMP/t1.b" '.dirs.xdp.l4_packets.tcp')
	wb=$(dval "$TMP/t0.b" "$TMP/t1.b" '.dirs.xdp.l4_bytes.tcp')
	ep=$(dval "$TMP/t0.a" "$TMP/t1.a" '.dirs.tc_egress.l4_packets.tcp')
	eb=$(dval "$TMP/t0.a" "$TMP/t1.a" '.dirs.tc_egress.l4_bytes.tcp')
	check_eq tcp_sender_tc_egress_gso_bytes "$((66 * (wp - ep)))" "$((wb - eb))"
	check_eq tcp_receiver_tc_egress_vs_receiver_outsegs "$((ob1 - ob0))" \
		"$(dval "$TMP/t0.b" "$TMP/t1.b" '.dirs.tc_egress.l4_packets.tcp')"
	check_eq tcp_receiver_xdp_vs_rx_packets "$(( $(ifc t1 rx) - $(ifc t0 rx) ))" \
		"$(dval "$TMP/t0.b" "$TMP/t1.b" '.dirs.xdp.packets')"
	for p in udp icmp; do
		check_eq "tcp_no_${p}_receiver_xdp" 0 "$(dval "$TMP/t0.b" "$TMP/t1.b" ".dirs.xdp.l4_packets.$p")"
	done
else
	fail iperf3_server "iperf3 -s did not listen in $NS_B"
fi

# ---- VLAN and QinQ frames -------------------------------------------------------------
# No 802.1Q module here: tagged frames are written raw from a packet socket
# in the sender.  7 single-tagged (802.1Q) and 5 double-tagged (802.1ad +
# 802.1Q) UDP frames; the receiver has no VLAN device and drops them after
# TC, but XDP and TC ingress see every one.
snapshot q0
if ip netns exec "$NS_A" "$PY" - "$MAC_B" "$IP_B" "$PORT" <<'EOF' 2>"$TMP/scapy.err"
import sys
from scapy.all import Ether, Dot1Q, Dot1AD, IP, UDP, sendp, conf
conf.verb = 0
mac, ip, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
one = Ether(dst=mac) / Dot1Q(vlan=10) / IP(dst=ip) / UDP(sport=4000, dport=port) / (b"v" * 300)
two = (Ether(dst=mac, type=0x88a8) / Dot1AD(vlan=100) / Dot1Q(vlan=10) / IP(dst=ip) /
       UDP(sport=4000, dport=port) / (b"q" * 600))
sendp([one] * 7 + [two] * 5, iface="veth0")
EOF
then
	snapshot q1
	for d in xdp tc_ingress; do
		check_eq "vlan_receiver_$d" 7 "$(dval "$TMP/q0.b" "$TMP/q1.b" ".dirs.$d.vlan")"
		check_eq "qinq_receiver_$d" 5 "$(dval "$TMP/q0.b" "$TMP/q1.b" ".dirs.$d.qinq")"
		check_eq "vlan_udp_receiver_$d" 12 "$(dval "$TMP/q0.b" "$TMP/q1.b" ".dirs.$d.l4_packets.udp")"
	done
	check_eq vlan_sender_tc_egress 7 "$(dval "$TMP/q0.a" "$TMP/q1.a" '.dirs.tc_egress.vlan')"
	check_eq qinq_sender_tc_egress 5 "$(dval "$TMP/q0.a" "$TMP/q1.a" '.dirs.tc_egress.qinq')"
else
	fail vlan_send "scapy sendp failed: $(tail -1 "$TMP/scapy.err")"
fi

# ---- 9000-byte frames over MTU 9000 ------------------------------------------------------
# A second bench with jumbo MTU: 13 frames of exactly 9000 bytes (the lower
# edge of [9000, 16K)) and 5 of 8999 (just below it).
kill_tree "$SINK_PID"; SINK_PID=""
# ---- the same UDP with generic XDP on the receiver ---------------------------
# A veth packet that a generic XDP program sees is copied by the kernel
# (skb_pp_cow_data) into an skb whose mac_len is 0, so TC ingress gets its
# data from the network header on; pktscope's TC program must still count
# it as the wire frame (IPv4/UDP, full size), exactly as XDP does.
if core_attach "$NS_B" --replace --mode generic >/dev/null 2>"$TMP/err"; then
	GSIZES="128:13 600:31 1514:19"
	snapshot g0
	total=0 bytes=0
	for sn in $GSIZES; do
		frame=${sn%:*} n=${sn#*:}
		total=$((total + n)) bytes=$((bytes + n * frame))
		udp_send "$NS_A" "$IP_B" $PORT "$n" $((frame - 42)) || fail "generic_udp_send_$frame" "sender failed"
	done
	snapshot g1
	for sn in $GSIZES; do
		frame=${sn%:*} n=${sn#*:}
		lo=$(bucket_of "$TMP/g1.hb" "$frame")
		for d in xdp tc_ingress; do
			check_eq "generic_udp_${frame}_bucket${lo}_$d" "$n" \
				"$(bucket_delta "$TMP/g0.hb" "$TMP/g1.hb" "$d" "$lo")"
		done
	done
	for d in xdp tc_ingress; do
		check_eq "generic_udp_packets_$d" "$total" "$(dval "$TMP/g0.b" "$TMP/g1.b" ".dirs.$d.l4_packets.udp")"
		check_eq "generic_udp_bytes_$d" "$bytes" "$(dval "$TMP/g0.b" "$TMP/g1.b" ".dirs.$d.l4_bytes.udp")"
		check_eq "generic_udp_ipv4_packets_$d" "$total" \
			"$(dval "$TMP/g0.b" "$TMP/g1.b" ".dirs.$d.l3_packets.ipv4")"
		check_eq "generic_no_l3_other_$d" 0 "$(dval "$TMP/g0.b" "$TMP/g1.b" ".dirs.$d.l3_packets.other")"
	done
	check_eq generic_xdp_packets_vs_rx_packets "$(( $(ifc g1 rx) - $(ifc g0 rx) ))" \
		"$(dval "$TMP/g0.b" "$TMP/g1.b" '.dirs.xdp.packets')"
	check_eq generic_tc_ingress_packets_vs_rx_packets "$(( $(ifc g1 rx) - $(ifc g0 rx) ))" \
		"$(dval "$TMP/g0.b" "$TMP/g1.b" '.dirs.tc_ingress.packets')"
else
	fail generic_attach "$(cat "$TMP/err")"
fi

if core_bench_up "$JTAG" 9000; then
	attach "$NS_B" && attach "$NS_A"
	udp_sink "$NS_B" $PORT
	JSINK_PID=$SINK_PID SINK_PID=""
	if wait_for 10 udp_bound "$NS_B" $PORT; then
		snapshot j0
		udp_send "$NS_A" "$IP_B" $PORT 13 $((9000 - 42)) || fail jumbo_send "9000-byte frames refused"
		udp_send "$NS_A" "$IP_B" $PORT 5 $((8999 - 42)) || fail jumbo_send "8999-byte frames refused"
		snapshot j1
		lo=$(bucket_of "$TMP/j1.hb" 9000)
		check_eq jumbo_bucket_is_9000 9000 "$lo"
		lo2=$(bucket_of "$TMP/j1.hb" 8999)
		check_eq jumbo_xdp_9000 13 "$(bucket_delta "$TMP/j0.hb" "$TMP/j1.hb" xdp "$lo")"
		check_eq jumbo_tc_ingress_9000 13 "$(bucket_delta "$TMP/j0.hb" "$TMP/j1.hb" tc_ingress "$lo")"
		check_eq jumbo_sender_tc_egress_9000 13 \
			"$(bucket_delta "$TMP/j0.ha" "$TMP/j1.ha" tc_egress "$lo")"
		check_eq jumbo_xdp_8999 5 "$(bucket_delta "$TMP/j0.hb" "$TMP/j1.hb" xdp "$lo2")"
		check_eq jumbo_tc_ingress_8999 5 "$(bucket_delta "$TMP/j0.hb" "$TMP/j1.hb" tc_ingress "$lo2")"
		check_eq jumbo_sender_tc_egress_8999 5 \
			"$(bucket_delta "$TMP/j0.ha" "$TMP/j1.ha" tc_egress "$lo2")"
		check_eq jumbo_bytes_xdp $((13 * 9000 + 5 * 8999)) \
			"$(dval "$TMP/j0.b" "$TMP/j1.b" '.dirs.xdp.l4_bytes.udp')"
	else
		fail jumbo_sink "no UDP socket on port $PORT in $NS_B"
	fi
else
	fail jumbo_bench_up "could not build the MTU 9000 bench $JTAG"
fi

suite_end
