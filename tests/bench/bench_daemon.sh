#!/usr/bin/env bash
# Map read cost with a full TCP flow table: a /metrics scrape of the daemon
# (every counter of an attachment: XDP + TC + RTT + drop filter maps, and the
# TCP totals) and `pktscope stats --tcp -j` (a new process listing every
# flow), first with the pinned flow LRU empty, then with exactly 65,536 live
# flows in it (filled by one bpftool batch; the LRU gets 256 spare entries
# per CPU so that it holds them all, see tcp_persist_attach_flows).  Both read with batch lookups.
# REPS (default 5) of each, medians; the empty table is the baseline.
# Target: < 100 ms with 65,536 flows.  About 1 minute.
set -u
cd "$(dirname "$0")/../.."
source netns-scripts/two-hosts.sh
: "${PKTSCOPE:=${BUILD_DIR:-$PWD/build}/pktscope}"
TAG="b$(( $$ % 100000 ))m"
BENCH_NAME=daemon; . tests/bench/lib.sh
ROUNDS=$BENCH_REPS
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
tcp_flows = $((FLOWS + 256 * $(nproc --all)))
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

# ms CMD...: wall time of one run, in ms.
ms() {
	local t0=$(date +%s%N)
	"$@" >/dev/null
	awk -v n=$(( $(date +%s%N) - t0 )) 'BEGIN { printf "%.2f\n", n / 1e6 }'
}
# One scrape, curl's own measure (request to last byte), in ms.
scrape() { ip netns exec "$NS_A" curl -s -o /dev/null -w '%{time_total}\n' "$URL" | awk '{ printf "%.2f\n", $1 * 1000 }'; }
# REPS of scrape and stats, alternating: "SCRAPES|STATS".
measure() {
	local i sc=() st=()
	for ((i = 0; i < ROUNDS; i++)); do
		sc+=("$(scrape)")
		st+=("$(ms "$PKTSCOPE" --netns "$NS_A" stats --tcp -j)")
	done
	echo "${sc[*]}|${st[*]}"
}

lines=$(ip netns exec "$NS_A" curl -s "$URL" | grep -vc '^#')
IFS='|' read -r sc_empty st_empty < <(measure)

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
bpftool batch file "$TMP/fill.batch" >/dev/null 2>"$TMP/fill.err" || { echo "   filling the flow map failed: $(tail -2 "$TMP/fill.err")"; exit 1; }
# Every filled flow must still be there (10.1.x.y keys); the rest are the
# scrapes' own TCP connections.
nfilled=$(bpftool map dump pinned "$MAP" -j | python3 -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["key"][:2] == ["0x0a", "0x01"]))')
echo "   flow table: $nfilled of $FLOWS filled flows live; scrape of $lines series"
IFS='|' read -r sc_full st_full < <(measure)

bench_figure daemon.scrape "/metrics scrape (curl time_total), $nfilled flows vs empty flow table" ms \
	"$nfilled flows" "$sc_full" "empty table" "$sc_empty" "< 100 ms" lower
bench_figure stats.tcp "pktscope stats --tcp -j (new process, lists every flow), $nfilled flows vs empty" ms \
	"$nfilled flows" "$st_full" "empty table" "$st_empty" "< 100 ms" lower
