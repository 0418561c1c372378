#!/usr/bin/env bash
# pktscope daemon: how long a /metrics scrape takes, with every counter of
# an attachment (XDP + TC + RTT + drop filter maps) and the TCP totals, then
# with the pinned TCP flow LRU filled to 65,536 entries (the scrape counts
# them with batch lookups).  Side by side in the same run: medians of
# ROUNDS scrapes each, absolute ms and the ratio; also `pktscope stats -j`
# (a process reading the same counters) for scale.  No pass/fail.
set -u
cd "$(dirname "$0")/../.."
source netns-scripts/two-hosts.sh
: "${PKTSCOPE:=$PWD/build/pktscope}"
TAG="b$(( $$ % 100000 ))m"
ROUNDS=${BENCH_ROUNDS:-30}
FLOWS=65536
TMP=$(mktemp -d /tmp/pktscope-bench-daemon.XXXXXX)
DPID=""

cleanup() {
	[ -n "$DPID" ] && { kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; }
	if [ -n "${NS_A:-}" ]; then
		"$PKTSCOPE" --netns "$NS_A" detach veth0 >/dev/null 2>&1
		"$PKTSCOPE" --netns "$NS_A" detach --tcp >/dev/null 2>&1
	fi
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in curl bpftool python3; do
	command -v $t >/dev/null || { echo "   no $t: skipped"; exit 0; }
done
two_hosts_up "$TAG" || { echo "   two_hosts_up failed"; exit 1; }
ip netns exec "$NS_A" ping -c3 -i0.2 -W2 "$IP_B" >/dev/null
PORT=$((20000 + RANDOM % 40000))
cat >"$TMP/d.conf" <<EOF
listen = 127.0.0.1:$PORT
tcp = yes
tcp_flows = $FLOWS
detach_on_exit = yes
[iface veth0]
mode = native
rtt = yes
EOF
"$PKTSCOPE" --netns "$NS_A" daemon --config "$TMP/d.conf" >"$TMP/d.out" 2>"$TMP/d.err" &
DPID=$!
URL=http://127.0.0.1:$PORT/metrics
for i in $(seq 100); do
	ip netns exec "$NS_A" curl -sf -o /dev/null "$URL" && break
	sleep 0.1
done
ip netns exec "$NS_A" curl -sf -o /dev/null "$URL" || { echo "   daemon not serving: $(cat "$TMP/d.err")"; exit 1; }

# median_ms CMD...: median wall time of ROUNDS runs, in ms.
median_ms() {
	local i t0
	for i in $(seq "$ROUNDS"); do
		t0=$(date +%s%N)
		"$@" >/dev/null
		echo $(( $(date +%s%N) - t0 ))
	done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1e6}'
}
# curl's own measure of one scrape (request to last byte), median in ms.
scrape_ms() {
	local i
	for i in $(seq "$ROUNDS"); do
		ip netns exec "$NS_A" curl -s -o /dev/null -w '%{time_total}\n' "$URL"
	done | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]*1000}'
}
collect_ms() {
	ip netns exec "$NS_A" curl -s "$URL" | awk '$1 == "pktscope_collect_duration_seconds" {printf "%.2f", $2 * 1000}'
}

lines=$(ip netns exec "$NS_A" curl -s "$URL" | grep -vc '^#')
natt=$(ip netns exec "$NS_A" curl -s "$URL" | awk '$1 == "pktscope_attachments" {print $2}')
empty=$(scrape_ms); empty_c=$(collect_ms)
stats=$(median_ms "$PKTSCOPE" --netns "$NS_A" stats veth0 -j)

# Fill the pinned flow LRU: one bpftool process, FLOWS updates in a batch file.
INO=$(stat -L -c %i "/run/netns/$NS_A")
MAP=/sys/fs/bpf/pktscope/tcp-$INO/flows
python3 - "$MAP" "$FLOWS" >"$TMP/fill.batch" <<'PY'
import sys
m, n = sys.argv[1], int(sys.argv[2])
val = " ".join(["00"] * 72)
for i in range(n):
    # 10.1.x.y -> 10.2.x.y, ports from i: struct ps_tcp_flow (40 bytes)
    la = [10, 1, (i >> 8) & 255, i & 255] + [0] * 12
    ra = [10, 2, (i >> 8) & 255, i & 255] + [0] * 12
    tail = [i & 255, (i >> 8) & 255, 80, 0, 2, 0, 0, 0]
    key = " ".join("%02x" % b for b in la + ra + tail)
    print("map update pinned %s key hex %s value hex %s" % (m, key, val))
PY
t0=$(date +%s%N)
bpftool batch file "$TMP/fill.batch" >/dev/null 2>"$TMP/fill.err" || { echo "   filling the flow map failed: $(tail -2 "$TMP/fill.err")"; exit 1; }
fill_s=$(awk -v n=$(( $(date +%s%N) - t0 )) 'BEGIN {printf "%.1f", n/1e9}')
nflows=$(ip netns exec "$NS_A" curl -s "$URL" | awk '$1 ~ /^pktscope_tcp_flows\{/ {print $2}')
full=$(scrape_ms); full_c=$(collect_ms)

echo "   scrape of $lines series ($natt attachments on the machine, ours with xdp+tc+rtt+filter; TCP totals), median of $ROUNDS:"
printf '   %-44s %8s ms (collect %s ms)\n' "flow table empty" "$empty" "$empty_c"
printf '   %-44s %8s ms (collect %s ms)\n' "flow table $nflows flows (filled in ${fill_s}s)" "$full" "$full_c"
awk -v a="$full" -v b="$empty" 'BEGIN {printf "   %-44s %8.2fx\n", "ratio full/empty", (b > 0 ? a / b : 0)}'
printf '   %-44s %8s ms\n' "for scale: pktscope stats -j (new process)" "$stats"
