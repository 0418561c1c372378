#!/usr/bin/env bash
# Replayed captures: real traffic captured in a two-host netns bench (ARP and
# neighbour discovery, MLD, ping and ping -6 with fragments, DNS over UDP on
# IPv4 and IPv6, HTTP from a local server over IPv4 and IPv6, iperf3 TCP and
# UDP on both, UDP fragments), plus a dozen frames no host sends by itself
# (802.1Q, QinQ, IPv6 routing/destination-options headers, an unknown
# EtherType; tests/replay/crafted.py), is replayed with tcpreplay onto a
# second, silent veth pair with pktscope attached to both ends.  The receiver's XDP and TC ingress and the sender's TC egress must
# count exactly what tshark counts in the same pcap: packets and bytes per
# L3 and L4 class, VLAN/fragment/extension-header counts and every size
# bucket.  tests/replay/tshark_ref.sh holds the field-to-class mapping.
#
# Exactness: the replay pair has no addresses and IPv6 disabled before its
# links come up, so nothing but tcpreplay's frames crosses it (checked: the
# veths' own rx/tx counters move by exactly the pcap's frame count); GRO is
# off on the receiver so TC ingress sees the frames one by one; the capture
# bench has TSO/GSO/GRO off so that every captured frame is a wire frame
# (<= MTU + Ethernet + one VLAN tag) that tcpreplay can send.
# Runtime: 20-40 s (capture about 12 s of it, on 2 loaded CPUs).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"
export LC_ALL=C		# one collation for sort and join

TAG=$(uniq_tag)c		# capture bench: $TAG-a, $TAG-b
RTAG=$(uniq_tag)r		# replay pair: $RTAG-s (sender), $RTAG-r (receiver)
NS_S=$RTAG-s NS_R=$RTAG-r
TMP=$(mktemp -d)
PIDS=()
PCAP=$TMP/cap.pcap

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	core_detach_ours
	two_hosts_down "$TAG"
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_R" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for t in tcpreplay tshark tcpdump iperf3 dig curl ethtool; do
	if ! command -v $t >/dev/null; then
		fail "tool_$t" "$t is not installed (make deps installs DEPS_TEST)"
		exit 1
	fi
done

# run_bg NS CMD...: run CMD in NS in its own process group, remembered for cleanup.
run_bg() {
	local ns=$1; shift
	setsid ip netns exec "$ns" "$@" >>"$TMP/bg.log" 2>&1 &
	PIDS+=("$!")
}

# ---- capture --------------------------------------------------------------
if ! two_hosts_up "$TAG"; then
	fail capture_bench "could not build the two-host bench $TAG"
	exit 1
fi
two_hosts_vars "$TAG"
for ns in "$NS_A" "$NS_B"; do
	# Wire-size frames only: no TSO/GSO super-packets on send, no GRO on receive.
	ip netns exec "$ns" ethtool -K veth0 tso off gso off gro off >/dev/null 2>&1
done

mkdir -p "$TMP/www"
head -c 60000 /dev/urandom >"$TMP/www/blob"
run_bg "$NS_B" iperf3 -s -p 5201
run_bg "$NS_B" "$PY" "$TESTS_DIR/replay/dns_server.py" 53
run_bg "$NS_B" "$PY" -m http.server 8080 --bind :: --directory "$TMP/www"
if ! wait_for 10 tcp_listening "$NS_B" 5201 || ! wait_for 10 tcp_listening "$NS_B" 8080 ||
   ! wait_for 10 udp_bound "$NS_B" 53; then
	fail capture_servers "iperf3, HTTP or DNS server did not start: $(tail -3 "$TMP/bg.log")"
	exit 1
fi

# One capture point sees both directions: the server side's veth0.
setsid ip netns exec "$NS_B" tcpdump -i veth0 -s 0 -B 16384 -U -w "$PCAP" 2>"$TMP/tcpdump.err" &
CAP_PID=$!
PIDS+=("$CAP_PID")
if ! wait_for 10 grep -q 'listening on' "$TMP/tcpdump.err"; then
	fail capture_tcpdump "tcpdump did not start: $(cat "$TMP/tcpdump.err")"
	exit 1
fi

# gen NAME CMD...: one piece of traffic from host a; must succeed.
gen() {
	local name=$1; shift
	ip netns exec "$NS_A" "$@" >"$TMP/gen.out" 2>&1 ||
		fail "capture_$name" "'$*' failed: $(tail -2 "$TMP/gen.out" | tr '\n' ' ')"
}
gen ping4 ping -q -c 5 -i 0.05 -W 2 "$IP_B"
gen ping4_1000 ping -q -c 3 -i 0.05 -s 1000 -W 2 "$IP_B"
gen ping4_frag ping -q -c 2 -i 0.05 -s 3000 -W 2 "$IP_B"
gen ping6 ping -6 -q -c 5 -i 0.05 -W 2 "$IP6_B"
gen ping6_frag ping -6 -q -c 2 -i 0.05 -s 3000 -W 2 "$IP6_B"
gen crafted "$PY" "$TESTS_DIR/replay/crafted.py" veth0 \
	"$(ip -n "$NS_B" -j link show veth0 | jq -r '.[0].address')" "$IP_A" "$IP_B" "$IP6_A" "$IP6_B"
for i in 1 2 3; do
	gen dns4 dig +notcp +tries=1 +time=2 -p 53 "@$IP_B" "host$i.replay.test" A
	gen dns6 dig +notcp +tries=1 +time=2 -p 53 "@$IP6_B" "host$i.replay.test" AAAA
done
gen http4 curl -sSf -o /dev/null "http://$IP_B:8080/blob"
gen http6 curl -sSf -o /dev/null "http://[$IP6_B]:8080/blob"
gen iperf_tcp4 iperf3 -c "$IP_B" -n 1M
gen iperf_tcp6 iperf3 -6 -c "$IP6_B" -n 512K
gen iperf_udp4 iperf3 -u -c "$IP_B" -b 20M -l 1200 -n 300K
gen iperf_udp4_frag iperf3 -u -c "$IP_B" -b 5M -l 4000 -n 40K
gen iperf_udp6 iperf3 -6 -u -c "$IP6_B" -b 20M -l 1000 -n 200K
sleep 0.3
kill -INT "$CAP_PID" 2>/dev/null
wait "$CAP_PID" 2>/dev/null

# The reference, from the pcap alone.  Bucket bounds come from pktscope's
# histogram JSON below (the replay pair is up by then), so they are read,
# not repeated here.
NFRAMES=$(tshark -n -r "$PCAP" 2>/dev/null | wc -l)
MAXLEN=$(tshark -n -r "$PCAP" -T fields -e frame.len 2>/dev/null | sort -n | tail -1)
# The pcap holds every frame tcpdump says it captured, and the kernel
# dropped none on the way to tcpdump.
check_eq capture_frames_in_pcap "$(awk '/packets captured/ {print $1}' "$TMP/tcpdump.err")" "$NFRAMES"
check_eq capture_kernel_drops 0 "$(awk '/dropped by kernel/ {print $1}' "$TMP/tcpdump.err")"
# 1500-byte MTU + 14 + one 802.1Q tag: nothing tcpreplay could not send.
if [ "$MAXLEN" -le 1518 ]; then
	pass capture_wire_frames
else
	fail capture_wire_frames "$NFRAMES frames, largest $MAXLEN bytes (want <= 1518)"
	exit 1
fi

# ---- replay pair ------------------------------------------------------------
ip netns add "$NS_S" && ip netns add "$NS_R" || { fail replay_bench "ip netns add"; exit 1; }
for ns in "$NS_S" "$NS_R"; do
	# Before the link exists: no link-local address, no RS, MLD or DAD ever.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 >/dev/null
done
ip link add "$RTAG-x" netns "$NS_S" type veth peer name "$RTAG-y" netns "$NS_R" ||
	{ fail replay_bench "ip link add veth"; exit 1; }
ip -n "$NS_S" link set "$RTAG-x" name veth0
ip -n "$NS_R" link set "$RTAG-y" name veth0
ip netns exec "$NS_R" ethtool -K veth0 gro off >/dev/null 2>&1
ip -n "$NS_S" link set veth0 up
ip -n "$NS_R" link set veth0 up

for ns in "$NS_R" "$NS_S"; do
	if ! core_attach "$ns" >/dev/null 2>"$TMP/err"; then
		fail "attach_$ns" "$(cat "$TMP/err")"
		exit 1
	fi
done

ifstat() { ip netns exec "$1" cat "/sys/class/net/veth0/statistics/$2"; }

# snapshot P: stats and hist of both ends plus the veths' counters, once
# nothing moves any more (frames still in the veth ring are counted later).
snapshot() {
	local p=$1 i
	for i in $(seq 40); do
		snap "$NS_R" "$TMP/$p.r" && snap "$NS_S" "$TMP/$p.s" || return 1
		echo "$(ifstat "$NS_R" rx_packets) $(ifstat "$NS_S" tx_packets)" >"$TMP/$p.if"
		if [ -e "$TMP/$p.prev" ] && cat "$TMP/$p.r" "$TMP/$p.s" "$TMP/$p.if" | cmp -s - "$TMP/$p.prev"; then
			break
		fi
		cat "$TMP/$p.r" "$TMP/$p.s" "$TMP/$p.if" >"$TMP/$p.prev"
		sleep 0.2
	done
	hist_snap "$NS_R" "$TMP/$p.hr" && hist_snap "$NS_S" "$TMP/$p.hs"
}

snapshot r0 || { fail snapshot "stats/hist failed"; exit 1; }
BOUNDS=$(jq -r '[.size.xdp[].lo] | map(tostring) | join(" ")' "$TMP/r0.hr")
if ! "$TESTS_DIR/replay/tshark_ref.sh" "$PCAP" "$BOUNDS" >"$TMP/ref" 2>"$TMP/ref.err"; then
	fail tshark_reference "$(head -3 "$TMP/ref.err")"
	exit 1
fi
pass tshark_reference
# A comparison is only as good as what the pcap holds: every class pktscope
# counts must be in it (a generator that silently sent nothing shows here).
missing=$(for k in l3_packets.ipv4 l3_packets.ipv6 l3_packets.arp l3_packets.other \
		l4_packets.tcp l4_packets.udp l4_packets.icmp l4_packets.icmpv6 \
		l4_packets.other l4_packets.none vlan qinq ipv4_frag ipv6_frag \
		ipv4_options ipv6_ext; do
	awk -v k=$k '$1 == k && $2 == 0 { print k }' "$TMP/ref"
done | tr '\n' ' ')
check_eq capture_has_every_class "" "$missing"

# The pcap's frames, at a fixed rate the veth ring absorbs.
ip netns exec "$NS_S" tcpreplay -i veth0 --pps 5000 "$PCAP" >"$TMP/replay.out" 2>&1 ||
	fail tcpreplay "$(tail -3 "$TMP/replay.out")"
sent=$(awk '/Successful packets:/ { print $3 }' "$TMP/replay.out")
check_eq tcpreplay_sent_all "$NFRAMES" "$sent"
snapshot r1 || { fail snapshot "stats/hist failed"; exit 1; }

# Nothing lost, nothing else on the wire: the veth counters themselves.
check_eq replay_sender_tx_packets "$NFRAMES" \
	"$(( $(awk '{print $2}' "$TMP/r1.if") - $(awk '{print $2}' "$TMP/r0.if") ))"
check_eq replay_receiver_rx_packets "$NFRAMES" \
	"$(( $(awk '{print $1}' "$TMP/r1.if") - $(awk '{print $1}' "$TMP/r0.if") ))"

# flat STATS0 STATS1 HIST0 HIST1 DIR: pktscope's deltas as "key value" lines
# with the keys tshark_ref.sh prints, plus truncated/malformed totals.
flat() {
	jq -n -r --slurpfile a "$1" --slurpfile b "$2" --slurpfile ha "$3" --slurpfile hb "$4" --arg d "$5" '
	def f(s; h): (s[0].dirs[$d]) as $x |
		{packets: $x.packets, bytes: $x.bytes, vlan: $x.vlan, qinq: $x.qinq,
		 ipv4_frag: $x.ipv4_frag, ipv6_frag: $x.ipv6_frag,
		 ipv4_options: $x.ipv4_options, ipv6_ext: $x.ipv6_ext,
		 truncated: ([$x.truncated[]] | add), malformed: ([$x.malformed[]] | add)}
		+ ($x.l3_packets | with_entries(.key = "l3_packets." + .key))
		+ ($x.l3_bytes | with_entries(.key = "l3_bytes." + .key))
		+ ($x.l4_packets | with_entries(.key = "l4_packets." + .key))
		+ ($x.l4_bytes | with_entries(.key = "l4_bytes." + .key))
		+ ([h[0].size[$d][] | {key: ("hist." + (.lo | tostring)), value: .count}] | from_entries);
	f($a; $ha) as $p | f($b; $hb) as $q |
	$q | to_entries[] | "\(.key) \(.value - $p[.key])"' | sort
}

# compare DIR WHO GROUP REGEX: the keys matching REGEX, tshark vs pktscope;
# the whole group as a table when any differs.
compare() {
	local dir=$1 group=$3 re=$4 tbl
	tbl=$(join -a1 -a2 -e '-' -o 0,1.2,2.2 <(grep -E "$re" "$TMP/ref") \
		<(grep -E "$re" "$TMP/ps.$dir"))
	if awk '$2 != $3 { bad = 1 } END { exit !bad }' <<<"$tbl"; then
		fail "${2}_${dir}_$group" "tshark and pktscope differ:"
		printf '    %-22s %10s %10s\n' key tshark pktscope
		awk '{ printf "    %-22s %10s %10s%s\n", $1, $2, $3, ($2 != $3 ? "  <--" : "") }' <<<"$tbl"
	else
		pass "${2}_${dir}_$group"
	fi
}

flat "$TMP/r0.r" "$TMP/r1.r" "$TMP/r0.hr" "$TMP/r1.hr" xdp >"$TMP/ps.xdp"
flat "$TMP/r0.r" "$TMP/r1.r" "$TMP/r0.hr" "$TMP/r1.hr" tc_ingress >"$TMP/ps.tc_ingress"
flat "$TMP/r0.s" "$TMP/r1.s" "$TMP/r0.hs" "$TMP/r1.hs" tc_egress >"$TMP/ps.tc_egress"
for dir in xdp tc_ingress tc_egress; do
	who=receiver
	[ $dir = tc_egress ] && who=sender
	compare $dir $who totals '^(packets|bytes) '
	compare $dir $who l3 '^l3_'
	compare $dir $who l4 '^l4_'
	compare $dir $who flags '^(vlan|qinq|ipv4_frag|ipv6_frag|ipv4_options|ipv6_ext) '
	compare $dir $who size_hist '^hist\.'
	# Real traffic parses cleanly: no header cut short, no impossible field.
	check_eq "${who}_${dir}_no_truncated" 0 "$(awk '$1 == "truncated" { print $2 }' "$TMP/ps.$dir")"
	check_eq "${who}_${dir}_no_malformed" 0 "$(awk '$1 == "malformed" { print $2 }' "$TMP/ps.$dir")"
done

# What was compared, for the log (and the README numbers).
echo "# pcap: $NFRAMES frames, largest $MAXLEN bytes (tcpdump: $(grep -h 'dropped by kernel' "$TMP/tcpdump.err"))"
echo "# tshark reference (non-zero keys):"
awk '$2 != 0 { printf "#   %-22s %s\n", $1, $2 }' "$TMP/ref"
suite_end
