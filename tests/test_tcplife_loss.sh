#!/usr/bin/env bash
# tcplife byte counts under packet loss: many connections, each with its own
# byte counts both ways, over a veth pair that drops packets in both netns on
# output and on input (nftables, 3% each, SYN and RST spared so no connect
# waits a 1 s SYN timeout and every RST arrives).  An output drop fails the
# sender's own transmit: the kernel sends that data again later as new data, so
# tcp_sock.bytes_sent counts it twice and bytes_sent - bytes_retrans exceeds
# the payload; the old TX formula min(bytes_acked - SYN, bytes_sent -
# bytes_retrans) then kept the acked FIN and reported one byte too many.
# Before the fix, 5-11 of the 80 sides per run were off by exactly +1 (52 of
# 480 in 6 runs); after it, none in 20 runs.  Every side's TX and RX must
# equal what the application sent and read, exactly, for client- and
# server-first FIN close, RST from ESTABLISHED and RST from CLOSE_WAIT, IPv4
# and IPv6, 0 B to 777777 B.  The persistent mode's totals use the same code and are
# checked too.  Takes about 10 s.
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

export LC_ALL=C
TAG="$(uniq_tag)l"
TMP=$(mktemp -d /tmp/pktscope-tcplife.XXXXXX)
PEER=$TESTS_DIR/progs/lifepeer.py
BG=()
PERSIST=0

cleanup() {
	local p
	for p in "${BG[@]}"; do kill -INT "$p" 2>/dev/null; done
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null; done
	[ "$PERSIST" = 1 ] && "$PKTSCOPE" --netns "$NS_A" tcp-persist detach >/dev/null 2>&1
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

two_hosts_up "$TAG" || { fail setup "two_hosts_up $TAG failed"; exit 1; }
ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null
ip netns exec "$NS_A" ping -6 -c1 -W2 "$IP6_B" >/dev/null

# 3% of every TCP packet but SYN and RST, both netns, output and input hooks.
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" nft -f - <<-EOF || { fail setup "nft in $ns"; exit 1; }
	table inet $TAG {
		chain o { type filter hook output priority 0;
			tcp flags & (syn | rst) == 0 numgen random mod 100 < 3 counter drop; }
		chain i { type filter hook input priority 0;
			tcp flags & (syn | rst) == 0 numgen random mod 100 < 3 counter drop; }
	}
	EOF
done
nft_drops() {	# packets the rules dropped in both netns
	local ns n=0
	for ns in "$NS_A" "$NS_B"; do
		n=$((n + $(ip netns exec "$ns" nft list table inet "$TAG" |
			awk '/counter/ {for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1)} END {print s + 0}')))
	done
	echo "$n"
}

if "$PKTSCOPE" --netns "$NS_A" tcp-persist attach >"$TMP/persist.out" 2>&1; then
	PERSIST=1
else
	fail persist-attach "$(cat "$TMP/persist.out")"
fi

declare -A TPID
start_tracer() {	# NAME NETNS
	local name=$1 ns=$2 i
	"$PKTSCOPE" --netns "$ns" tcplife --port 7400 -j >"$TMP/$name.json" 2>"$TMP/$name.err" &
	TPID[$name]=$!
	BG+=("$!")
	for i in $(seq 100); do
		grep -q '^pktscope: Tracing' "$TMP/$name.err" && return 0
		kill -0 "${TPID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	fail "start-$name" "no 'Tracing' line: $(cat "$TMP/$name.err")"
	return 1
}
start_tracer lifeA "$NS_A"
start_tracer lifeB "$NS_B"

# 40 connections: 4 close modes x IPv4/IPv6 x 5 sizes, all counts distinct
# (odd offsets so no count is a multiple of the MSS by accident).
specs=()
sizes=(0 1 1449 65537 777777)
i=0
for mode in cfin sfin crst srst; do
	for fam in 4 6; do
		for k in 0 1 2 3 4; do
			cs=$(( ${sizes[k]} + i ))
			ss=$(( ${sizes[(k + 2) % 5]} + 3 * i ))
			specs+=("$mode:$fam:$cs:$ss")
			i=$((i + 1))
		done
	done
done
NCONN=${#specs[@]}
t0=$(date +%s%N)
/usr/bin/python3 "$PEER" "$NS_A" "$NS_B" "${specs[@]}" >"$TMP/conns.json" 2>"$TMP/peer.err"
check_eq peer-exit-0 "0 " "$? $(head -c 300 "$TMP/peer.err")"
echo "# $NCONN connections in $(( ($(date +%s%N) - t0) / 1000000 )) ms, $(nft_drops) packets dropped"
# A lost last FIN is sent again after an RTO: wait until every socket on port
# 7400 is closed (TIME-WAIT ones are past CLOSE already) before stopping.
for i in $(seq 150); do
	n=0
	for ns in "$NS_A" "$NS_B"; do
		n=$((n + $(ip netns exec "$ns" ss -Htan exclude time-wait '( sport = :7400 or dport = :7400 )' | grep -c .)))
	done
	[ "$n" = 0 ] && break
	sleep 0.1
done
check_eq sockets-closed 0 "$n"
sleep 0.1
for t in lifeA lifeB; do
	kill -INT "${TPID[$t]}"
	wait "${TPID[$t]}"; check_eq "$t-exit-0" 0 $?
done
check_eq connections-done "$NCONN" "$(grep -c . "$TMP/conns.json")"
drops=$(nft_drops)
if [ "$drops" -gt 0 ]; then pass loss-happened; else fail loss-happened "the nft rules dropped nothing"; fi

# Expected "cport tx rx" per side against tcplife's events: one each, exact.
want_c=$(jq -r '"\(.cport) \(.csend) \(.ssend)"' "$TMP/conns.json" | sort)
want_s=$(jq -r '"\(.cport) \(.ssend) \(.csend)"' "$TMP/conns.json" | sort)
got_c=$(jq -r '"\(.lport) \(.tx_bytes) \(.rx_bytes)"' "$TMP/lifeA.json" | sort)
got_s=$(jq -r '"\(.rport) \(.tx_bytes) \(.rx_bytes)"' "$TMP/lifeB.json" | sort)
check_eq client-events "$NCONN" "$(echo "$got_c" | grep -c .)"
check_eq server-events "$NCONN" "$(echo "$got_s" | grep -c .)"
exact() {	# NAME WANT GOT: comm -3 lists a wrong side twice (wanted, then got)
	local d
	d=$(comm -3 <(echo "$2") <(echo "$3") | tr -d '\t')
	if [ -z "$d" ]; then
		pass "$1"
	else
		fail "$1" "$(echo "$d" | awk '{print $1}' | sort -u | grep -c .) of $NCONN wrong (cport tx rx, wanted/got): $(echo "$d" | tr '\n' ';' | head -c 600)"
	fi
}
exact client-bytes-exact "$want_c" "$got_c"
exact server-bytes-exact "$want_s" "$got_s"

if [ "$PERSIST" = 1 ]; then
	ps=$("$PKTSCOPE" --netns "$NS_A" tcp-persist stats -j)
	check_eq persist-closed "$NCONN" "$(echo "$ps" | jq .totals.closed)"
	check_eq persist-tx-rx "$(jq -s 'map(.csend) | add' "$TMP/conns.json") $(jq -s 'map(.ssend) | add' "$TMP/conns.json")" \
		"$(echo "$ps" | jq -r '"\(.totals.tx_bytes) \(.totals.rx_bytes)"')"
	check_cmd persist-detach "$PKTSCOPE" --netns "$NS_A" tcp-persist detach
	PERSIST=0
fi

suite_end
