#!/usr/bin/env bash
# Passive RTT (attach --rtt, pktscope rtt) on a two-host netns bench, against
# independent references: ping's own RTT and reply count, the kernel's RTT
# estimate of the same socket (ss -ti rtt/minrtt), its segment counters (ss
# data_segs_out, nstat TcpRetransSegs / TcpExtTCPSynRetrans) and bpftool.
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

TAG="$(uniq_tag)r"
TMP=$(mktemp -d)
PIDS=()
PORT=5001
PORT2=5002

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	"$PKTSCOPE" --netns "$TAG-a" detach veth0 >/dev/null 2>&1
	"$PKTSCOPE" --netns "$TAG-b" detach veth0 >/dev/null 2>&1
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

# wait_for SECONDS CMD...: poll until CMD succeeds or the time is up.
wait_for() {
	local t=$1 i; shift
	for ((i = 0; i < t * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# within NAME A B PCT ABS: |A - B| <= max(PCT% of B, ABS); A, B in the same unit.
within() {
	local name=$1 a=$2 b=$3 pct=$4 abs=$5
	if awk -v a="$a" -v b="$b" -v p="$pct" -v m="$abs" 'BEGIN {
		d = a - b; if (d < 0) d = -d; t = b * p / 100; if (t < m) t = m; exit !(d <= t) }'; then
		pass "$name"
	else
		fail "$name" "$a vs reference $b: off by more than $pct% or $abs"
	fi
}

# A request/response server: each request line starts with the delay (ms)
# to wait before answering, so the ACK of a request rides on the answer that
# long after it: an RTT the test controls.
cat >"$TMP/server.py" <<'EOF'
import socket, sys, threading, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4096)
open(sys.argv[2], "w").close()
def serve(c):
	f = c.makefile("rb")
	while True:
		line = f.readline()
		if not line:
			break
		d = int(line.split()[0])
		if d:
			time.sleep(d / 1000.0)
		c.sendall(b"r" * 99 + b"\n")
	c.close()
while True:
	c, _ = s.accept()
	threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# N requests with delay D; prints "LOCAL_PORT <ss -ti line>" taken before close,
# then waits until the connection is fully gone (its FIN acknowledged).
cat >"$TMP/client.py" <<'EOF'
import socket, subprocess, sys, time
dst, port, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = socket.create_connection((dst, port))
f = c.makefile("rb")
req = (b"%d " % d).ljust(99, b"q") + b"\n"
for i in range(n):
	c.sendall(req)
	if not f.readline():
		sys.exit("server closed")
lport = c.getsockname()[1]
ss = subprocess.run(["ss", "-tinH", "src", ":%d" % lport], capture_output=True, text=True).stdout
print(lport, " ".join(ss.split()), flush=True)
f.close()
c.close()
# Our FIN is acknowledged once the socket left FIN-WAIT-1/2 and CLOSING.
for i in range(200):
	st = subprocess.run(["ss", "-tanH", "state", "fin-wait-1", "state", "closing",
			     "state", "last-ack", "src", ":%d" % lport], capture_output=True,
			    text=True).stdout
	if not st.strip():
		break
	time.sleep(0.05)
EOF
# Accepts and closes; for the many-connections check.
cat >"$TMP/acceptor.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(4096)
open(sys.argv[2], "w").close()
while True:
	c, _ = s.accept()
	c.close()
EOF
cat >"$TMP/connector.py" <<'EOF'
import socket, sys
dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
	c = socket.create_connection((dst, port))
	c.close()
EOF
# UDP at about BYTES per second, to keep a tbf queue standing.
cat >"$TMP/flood.py" <<'EOF'
import socket, sys, time
dst, rate = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
buf = b"f" * 1400
t0 = time.monotonic(); sent = 0
while True:
	try:
		s.sendto(buf, (dst, 9))
	except OSError:
		pass
	sent += len(buf)
	ahead = sent / rate - (time.monotonic() - t0)
	if ahead > 0:
		time.sleep(ahead)
EOF

if ! two_hosts_up "$TAG"; then
	fail setup "could not create the netns bench"
	exit 1
fi
A=$NS_A
B=$NS_B
ip netns exec "$A" ping -c 2 -i 0.2 -W 2 -q "$IP_B" >/dev/null 2>&1

# ---- bad input, and RTT off ------------------------------------------------
check_rc attach_rtt_no_tc 2 "$PKTSCOPE" --netns "$A" attach veth0 --rtt --no-tc
check_eq attach_rtt_no_tc_left_nothing 0 "$("$PKTSCOPE" status -j | \
	jq --arg ns "$A" '[.attachments[] | select(.netns == $ns)] | length')"
"$PKTSCOPE" --netns "$B" attach veth0 >/dev/null 2>&1
check_rc rtt_without_rtt_attach 1 "$PKTSCOPE" --netns "$B" rtt veth0
check_eq stats_json_no_rtt_when_off "false" \
	"$("$PKTSCOPE" --netns "$B" stats veth0 -j | jq 'has("rtt")')"
"$PKTSCOPE" --netns "$B" detach veth0 >/dev/null 2>&1
check_rc rtt_bad_sort 2 "$PKTSCOPE" --netns "$A" rtt veth0 --sort fastest

if ! "$PKTSCOPE" --netns "$A" attach veth0 --rtt >"$TMP/attach.out" 2>&1; then
	fail attach_rtt "$(cat "$TMP/attach.out")"
	exit 1
fi
pass attach_rtt
PIN_DIR=$("$PKTSCOPE" --netns "$A" status -j | jq -r --arg ns "$A" \
	'.attachments[] | select(.netns == $ns) | .pin_dir')

rtt_json() { "$PKTSCOPE" --netns "$A" rtt veth0 -j --top 0; }
src_samples() { rtt_json | jq ".sources.$1.samples"; }
src_sum_us() { rtt_json | jq ".sources.$1.samples * .sources.$1.avg_us"; }
flow_json() { rtt_json | jq -c --argjson p "$1" '.flows[] | select(.local_port == $p)'; }

# ---- ICMP echo: count and mean against ping ---------------------------------
# ping_phase NAME COUNT [mean]: ping's received count must equal pktscope's
# icmp samples over the same interval; with "mean", ping's avg must match their
# mean.  Only with a queue: on an idle veth the RTT (~30 us) is below ping's
# own user-space send/receive overhead, which its avg includes.
ping_phase() {
	local name=$1 n=$2 want_mean=${3:-} s0 u0 s1 u1 out rcvd avg mean
	s0=$(src_samples icmp); u0=$(src_sum_us icmp)
	out=$(ip netns exec "$A" ping -c "$n" -i 0.02 -W 1 -q "$IP_B" 2>&1)
	s1=$(src_samples icmp); u1=$(src_sum_us icmp)
	rcvd=$(echo "$out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	avg=$(echo "$out" | sed -n 's|^rtt [^=]*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
	check_eq "icmp_${name}_samples_eq_replies" "$rcvd" "$((s1 - s0))"
	[ -n "$want_mean" ] || return 0
	if [ -n "$avg" ] && [ "$s1" -gt "$s0" ]; then
		mean=$(awk -v a="$u0" -v b="$u1" -v n="$((s1 - s0))" 'BEGIN { printf "%.1f", (b - a) / n }')
		within "icmp_${name}_mean_vs_ping_avg" "$mean" \
			"$(awk -v a="$avg" 'BEGIN { printf "%.1f", a * 1000 }')" 20 50
		echo "    icmp $name: ping avg ${avg} ms, pktscope mean ${mean} us" >&2
	else
		fail "icmp_${name}_mean_vs_ping_avg" "no replies (ping: $out)"
	fi
}
ping_phase idle 40
# ICMPv6 echo, same matching.
s0=$(src_samples icmp)
rcvd=$(ip netns exec "$A" ping -6 -c 20 -i 0.02 -W 1 -q "$IP6_B" 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
check_eq icmp6_samples_eq_replies "$rcvd" "$(( $(src_samples icmp) - s0 ))"

# A standing queue on B's egress: tbf at 4 Mbit/s (25 ms of queue) fed
# 8 Mbit/s of UDP; the echo replies wait behind it.
ip netns exec "$B" tc qdisc add dev veth0 root tbf rate 4mbit burst 4kb latency 25ms
ip netns exec "$B" python3 "$TMP/flood.py" "$IP_A" 1000000 &
FLOOD=$!
PIDS+=($FLOOD)
backlog() { ip netns exec "$B" tc -s qdisc show dev veth0 | sed -n 's/.*backlog \([0-9]*\)b.*/\1/p' | head -1; }
queue_standing() { [ "$(backlog)" -gt 8000 ]; }
if wait_for 10 queue_standing; then
	pass tbf_queue_standing
	ping_phase queued 40 mean
else
	fail tbf_queue_standing "tbf backlog $(backlog) bytes"
fi
kill_tree "$FLOOD"
ip netns exec "$B" tc qdisc del dev veth0 root

# ---- TCP with timestamps: against ss -ti, two delays --------------------------
ip netns exec "$B" python3 "$TMP/server.py" "$PORT" "$TMP/server.ready" &
PIDS+=($!)
wait_for 5 test -e "$TMP/server.ready" || fail server_start "request server did not start"

# tcp_phase NAME N DELAY_MS SOURCE: run N requests; check the flow's samples
# by source, its p50 against ss rtt and its min against ss minrtt.
P50=0
tcp_phase() {
	local name=$1 n=$2 d=$3 src=$4 line lport ss_rtt ss_min flow
	line=$(ip netns exec "$A" python3 "$TMP/client.py" "$IP_B" "$PORT" "$n" "$d")
	lport=${line%% *}
	ss_rtt=$(echo "$line" | sed -n 's/.* rtt:\([0-9.]*\)\/.*/\1/p')
	ss_min=$(echo "$line" | sed -n 's/.* minrtt:\([0-9.]*\).*/\1/p')
	flow=$(flow_json "$lport")
	if [ -z "$flow" ] || [ -z "$ss_rtt" ]; then
		fail "tcp_${name}" "no flow for local port '$lport' or no ss line: $line"
		return
	fi
	# One sample per request, one for the FIN, one for the handshake.
	check_eq "tcp_${name}_${src}_samples" "$((n + 1))" "$(echo "$flow" | jq ".samples_by_source.$src")"
	check_eq "tcp_${name}_handshake_samples" 1 "$(echo "$flow" | jq .samples_by_source.handshake)"
	P50=$(echo "$flow" | jq .p50_us)
	within "tcp_${name}_p50_vs_ss_rtt" "$P50" "$(awk -v r="$ss_rtt" 'BEGIN { print r * 1000 }')" 20 100
	within "tcp_${name}_min_vs_ss_minrtt" "$(echo "$flow" | jq .min_us)" \
		"$(awk -v r="$ss_min" 'BEGIN { print r * 1000 }')" 20 100
	echo "    tcp $name: ss rtt ${ss_rtt} ms minrtt ${ss_min} ms; pktscope $(echo "$flow" | \
		jq -c '{min_us, p50_us, avg_us, max_us, samples_by_source}')" >&2
}
tcp_phase ts_5ms 30 5 ts
p50_a=$P50
tcp_phase ts_25ms 30 25 ts
# Tracks the change: 5 ms -> 25 ms of answer delay.
if awk -v a="$p50_a" -v b="$P50" 'BEGIN { exit !(b > 3 * a) }'; then
	pass tcp_ts_tracks_delay_change
else
	fail tcp_ts_tracks_delay_change "p50 went from $p50_a us to $P50 us"
fi

# ---- TCP without timestamps: seq/ack ----------------------------------------------
for ns in "$A" "$B"; do ip netns exec "$ns" sysctl -qw net.ipv4.tcp_timestamps=0; done
tcp_phase seqack_10ms 30 10 seqack

# ---- loss: Karn's rule ----------------------------------------------------------------
# 5% of A's TCP segments to the server lost on the way: dropped by pktscope's
# own filter in B's XDP (a drop in A's own egress would be a failed transmit,
# which TCP sends again as new data, not a retransmission).  Every
# retransmission must be seen at A, and no ACK covering a retransmitted
# segment may yield a sample.
nstat_abs() { ip netns exec "$A" nstat -saz "$1" | awk -v k="$1" '$1 == k { print $2 }'; }
"$PKTSCOPE" --netns "$B" attach veth0 >/dev/null
rid=$("$PKTSCOPE" --netns "$B" filter add veth0 --drop --proto tcp --dport "$PORT" \
	--rate 0.05 --dir ingress -j | jq .id)
r0=$(nstat_abs TcpRetransSegs)
N=150
line=$(ip netns exec "$A" python3 "$TMP/client.py" "$IP_B" "$PORT" "$N" 1)
r1=$(nstat_abs TcpRetransSegs)
"$PKTSCOPE" --netns "$B" filter del veth0 "$rid" >/dev/null
"$PKTSCOPE" --netns "$B" detach veth0 >/dev/null 2>&1
lport=${line%% *}
flow=$(flow_json "$lport")
if [ -z "$flow" ]; then
	fail loss_flow "no flow for local port '$lport'"
else
	echo "    loss: kernel retransmitted $((r1 - r0)); pktscope $(echo "$flow" | \
		jq -c '{retrans, karn_skipped, samples_by_source, max_us}')" >&2
	check_eq loss_retrans_eq_kernel "$((r1 - r0))" "$(echo "$flow" | jq .retrans)"
	# SYN, N requests and the FIN: each closed once, by a sample or a Karn skip.
	check_eq loss_samples_plus_karn_eq_segments "$((N + 2))" \
		"$(echo "$flow" | jq '.samples_by_source.seqack + .samples_by_source.handshake + .karn_skipped')"
	k=$(echo "$flow" | jq .karn_skipped)
	if [ "$((r1 - r0))" -gt 0 ] && [ "$k" -ge 1 ] && [ "$k" -le "$((r1 - r0))" ]; then
		pass loss_karn_skips
	else
		fail loss_karn_skips "karn_skipped $k with $((r1 - r0)) retransmissions"
	fi
	# A sample timed from a segment that was resent after a timeout would be
	# at least the 200 ms minimum RTO; the answers here take ~1 ms.
	if awk -v m="$(echo "$flow" | jq .max_us)" 'BEGIN { exit !(m < 200000) }'; then
		pass loss_no_sample_spans_a_retransmission
	else
		fail loss_no_sample_spans_a_retransmission "max sample $(echo "$flow" | jq .max_us) us"
	fi
fi
for ns in "$A" "$B"; do ip netns exec "$ns" sysctl -qw net.ipv4.tcp_timestamps=1; done

# ---- 10,000 short connections: bounded maps --------------------------------------------
ip netns exec "$B" python3 "$TMP/acceptor.py" "$PORT2" "$TMP/acceptor.ready" &
PIDS+=($!)
wait_for 5 test -e "$TMP/acceptor.ready" || fail acceptor_start "acceptor did not start"
max=$(bpftool map show pinned "$PIN_DIR/rtt_outstanding" -j | jq .max_entries)
fmax=$(bpftool map show pinned "$PIN_DIR/rtt_flows" -j | jq .max_entries)
check_eq outstanding_max_entries 16384 "$max"
h0=$(src_samples handshake)
s0=$(nstat_abs TcpExtTCPSynRetrans)
ip netns exec "$A" python3 "$TMP/connector.py" "$IP_B" "$PORT2" 10000 &
CONN=$!
PIDS+=($CONN)
peak=0
fpeak=0
while kill -0 "$CONN" 2>/dev/null; do
	n=$(bpftool map dump pinned "$PIN_DIR/rtt_outstanding" -j 2>/dev/null | jq length)
	f=$(bpftool map dump pinned "$PIN_DIR/rtt_flows" -j 2>/dev/null | jq length)
	[ "${n:-0}" -gt "$peak" ] && peak=$n
	[ "${f:-0}" -gt "$fpeak" ] && fpeak=$f
	sleep 0.3
done
wait "$CONN"
crc=$?
check_eq connections_ok 0 "$crc"
sleep 0.2
n=$(bpftool map dump pinned "$PIN_DIR/rtt_outstanding" -j | jq length)
[ "$n" -gt "$peak" ] && peak=$n
echo "    10000 connections: outstanding peak $peak of $max, flows peak $fpeak of $fmax" >&2
if [ "$peak" -le "$max" ] && [ "$fpeak" -le "$fmax" ]; then
	pass outstanding_within_bound
else
	fail outstanding_within_bound "outstanding peak $peak (max $max), flows peak $fpeak (max $fmax)"
fi
check_eq outstanding_count_matches_bpftool "$n" "$(rtt_json | jq .counters.outstanding)"
# The timestamp table: 8192 sets of two 64-byte slots; its pending slots as
# bpftool reads them: t (bytes 48..55 of each slot, little-endian) above 1.
check_eq ts_sets_entries_size "8192 128" \
	"$(bpftool map show pinned "$PIN_DIR/rtt_ts" -j | jq -r '"\(.max_entries) \(.bytes_value)"')"
ts_pending_bpftool() {
	bpftool map dump pinned "$PIN_DIR/rtt_ts" -j | jq '[.[] | .value as $v | 0, 64 |
		select(($v[. + 49:. + 56] | any(. != "0x00")) or
		       ($v[. + 48] != "0x00" and $v[. + 48] != "0x01"))] | length'
}
# Each connection's SYN -> SYN-ACK is one handshake sample, a resent SYN
# included: with timestamps its fresh TSval says which SYN was answered.
s1=$(nstat_abs TcpExtTCPSynRetrans)
echo "    10000 connections: $((s1 - s0)) SYNs resent; rtt counters $(rtt_json | jq -c .counters)" >&2
check_eq handshake_samples_10000 10000 "$(( $(src_samples handshake) - h0 ))"
# A SYN whose SYN-ACKs never arrive (dropped by a rule in A's XDP) stays
# pending, resent or not: exactly one more pending slot than before.
tsp0=$(ts_pending_bpftool)
rid=$("$PKTSCOPE" --netns "$A" filter add veth0 --drop --proto tcp --sport "$PORT2" -j | jq .id)
ip netns exec "$A" python3 -c "import socket; socket.create_connection(('$IP_B', $PORT2), timeout=1.5)" \
	2>/dev/null &
HUNG=$!
PIDS+=($HUNG)
sleep 1.2
tsp=$(ts_pending_bpftool)
check_eq ts_unanswered_syn_pending "$((tsp0 + 1))" "$tsp"
check_eq ts_pending_matches_bpftool "$tsp" "$(rtt_json | jq .counters.ts_pending)"
wait "$HUNG" 2>/dev/null
"$PKTSCOPE" --netns "$A" filter del veth0 "$rid" >/dev/null

# ---- stats carries the summary --------------------------------------------------
check_eq stats_json_rtt_icmp "$(src_samples icmp)" \
	"$("$PKTSCOPE" --netns "$A" stats veth0 -j | jq .rtt.icmp.samples)"

# ---- output: interval mode is a stream of valid JSON documents --------------------
check_eq rtt_interval_json_docs 2 "$("$PKTSCOPE" --netns "$A" rtt veth0 -i 0.1 -c 2 -j | jq -s length)"
check_eq rtt_flows_sorted_by_max true "$("$PKTSCOPE" --netns "$A" rtt veth0 --flows --sort max \
	--top 5 -j | jq '[.flows[].max_us] | . == (sort | reverse) and length == 5')"

# ---- --events: one JSON line per sample (gap 0: no rate limit) ---------------------
"$PKTSCOPE" --netns "$A" rtt veth0 --events --gap-ms 0 -d 3 -j >"$TMP/events" 2>&1 &
EV=$!
PIDS+=($EV)
sleep 1
ip netns exec "$A" ping -c 5 -i 0.1 -q "$IP_B" >/dev/null 2>&1
wait "$EV"
check_eq events_icmp_lines 5 "$(jq -c 'select(.source == "icmp")' "$TMP/events" | wc -l)"

# ---- without XDP, TC ingress closes the samples ---------------------------------
"$PKTSCOPE" --netns "$A" detach veth0 >/dev/null 2>&1
if "$PKTSCOPE" --netns "$A" attach veth0 --rtt --no-xdp >"$TMP/attach.out" 2>&1; then
	rcvd=$(ip netns exec "$A" ping -c 20 -i 0.02 -W 1 -q "$IP_B" 2>&1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	check_eq no_xdp_icmp_samples_eq_replies "$rcvd" "$(src_samples icmp)"
else
	fail attach_rtt_no_xdp "$(cat "$TMP/attach.out")"
fi

suite_end
