#!/usr/bin/env bash
# TCP tracepoint probes: tcplife, tcpconnect, tcpaccept, tcpresets, tcpretrans,
# tcpstates and the persistent mode, on real connections between two netns.
# Every number is compared exactly with what the test programs did or with
# the kernel's own counter (nstat TcpRetransSegs).
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

export LC_ALL=C
TAG="$(uniq_tag)t"
XFER=$BUILD_DIR/tests/progs/tcpxfer
TMP=$(mktemp -d /tmp/pktscope-tcp.XXXXXX)
export NSTAT_HISTORY=$TMP/nstat.history
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

[ -x "$XFER" ] || { fail setup "no $XFER: run make"; exit 1; }
two_hosts_up "$TAG" || { fail setup "two_hosts_up $TAG failed"; exit 1; }
# Warm up ARP/ND so no connection waits on neighbour resolution.
ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null
ip netns exec "$NS_A" ping -6 -c1 -W2 "$IP6_B" >/dev/null

# start_tracer NAME NETNS CMD ARGS...: run pktscope in the background with
# JSON output into $TMP/NAME.json; waits for its "Tracing" line.
declare -A TPID
start_tracer() {
	local name=$1 ns=$2 i; shift 2
	# NETNS "-": no --netns (the namespace the suite runs in)
	"$PKTSCOPE" ${ns:+$([ "$ns" = - ] || echo "--netns $ns")} "$@" -j >"$TMP/$name.json" 2>"$TMP/$name.err" &
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

# stop_tracer NAME: Ctrl-C; it must exit 0 and every line must be whole JSON.
stop_tracer() {
	local name=$1 rc
	kill -INT "${TPID[$name]}"
	wait "${TPID[$name]}"; rc=$?
	check_eq "$name-exit-0" 0 "$rc"
	if jq -e . "$TMP/$name.json" >/dev/null 2>&1 || [ ! -s "$TMP/$name.json" ]; then
		pass "$name-json-lines"
	else
		fail "$name-json-lines" "not one JSON object per line: $(head -c 300 "$TMP/$name.json")"
	fi
}

# q NAME JQ_FILTER: jq over a tracer's events, compact output.
q() { jq -c "$2" "$TMP/$1.json" 2>/dev/null; }

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- persistent mode first, so its totals see everything below -----------
if out=$("$PKTSCOPE" --netns "$NS_A" tcp-persist attach --max-flows 4096 2>&1); then
	PERSIST=1
	pass persist-attach
	pdir=$(echo "$out" | sed -n 's/.*pinned in //p')
	check_eq persist-dir-mode 700 "$(stat -c %a "$pdir")"
	check_eq persist-pin-modes 600 "$(stat -c %a "$pdir"/* | sort -u | tr '\n' ' ' | sed 's/ $//')"
	check_rc persist-attach-twice 1 "$PKTSCOPE" --netns "$NS_A" tcp-persist attach
else
	fail persist-attach "$out"
fi

# ---- life, connect, accept, resets, states: one round of traffic ----------
SENT4=70001 BACK4=123457 SENT6=4099 BACK6=65536 NCONN=5 SENTC=100 BACKC=10
ip netns exec "$NS_B" "$XFER" server "$IP_B" 7000 $BACK4 1 >"$TMP/srv4.out" &
SRV4=$!; BG+=("$SRV4")
ip netns exec "$NS_B" "$XFER" server "$IP6_B" 7006 $BACK6 1 >"$TMP/srv6.out" &
SRV6=$!; BG+=("$SRV6")
ip netns exec "$NS_B" "$XFER" server "$IP_B" 7100 $BACKC $NCONN >"$TMP/srvc.out" &
SRVC=$!; BG+=("$SRVC")
for f in srv4 srv6 srvc; do
	for i in $(seq 50); do grep -q ready "$TMP/$f.out" && break; sleep 0.1; done
done

start_tracer lifeA "$NS_A" tcplife
start_tracer lifeB "$NS_B" tcplife
start_tracer life4 "$NS_A" tcplife -4
start_tracer life6 "$NS_A" tcplife -6
start_tracer lifeport "$NS_A" tcplife --port 7000
start_tracer lifepid "$NS_B" tcplife -p "$SRV6"
start_tracer connA "$NS_A" tcpconnect
start_tracer accB "$NS_B" tcpaccept
start_tracer accpid "$NS_B" tcpaccept -p "$SRVC"
start_tracer rstA "$NS_A" tcpresets
start_tracer rstB "$NS_B" tcpresets
start_tracer statesA "$NS_A" tcpstates --port 7000
# From the suite's own namespace, one tracer for both benches' sockets.
start_tracer lifeall - tcplife --all-netns

t0=$(ms_now)
ip netns exec "$NS_A" "$XFER" client "$IP_B" 7000 $SENT4 >"$TMP/cli4.out" & CLI4=$!
wait $CLI4
wall4=$(( $(ms_now) - t0 ))
t0=$(ms_now)
ip netns exec "$NS_A" "$XFER" client "$IP6_B" 7006 $SENT6 >"$TMP/cli6.out" & CLI6=$!
wait $CLI6
wall6=$(( $(ms_now) - t0 ))
ip netns exec "$NS_A" "$XFER" client "$IP_B" 7100 $SENTC $NCONN >"$TMP/clic.out" & CLIC=$!
wait $CLIC
# a closed port: refused
ip netns exec "$NS_A" "$XFER" client "$IP_B" 7101 1 >"$TMP/clir.out" & CLIR=$!
wait $CLIR; check_eq refused-client-exit 1 $?
wait "$SRV4" "$SRV6" "$SRVC"
check_eq transfer-v4 "got $BACK4" "$(cat "$TMP/cli4.out")"
check_eq transfer-v6 "got $BACK6" "$(cat "$TMP/cli6.out")"
sleep 0.3	# the last FIN/ACK exchanges happen in softirq after close()
for t in lifeA lifeB life4 life6 lifeport lifepid connA accB accpid rstA rstB statesA lifeall; do
	stop_tracer "$t"
done

# tcplife, both sides, IPv4 and IPv6: once per flow, exact bytes, owner, duration
life_check() {	# NAME TRACER RPORT_OR_LPORT_SELECTOR TX RX PID WALL
	local name=$1 tr=$2 sel=$3 tx=$4 rx=$5 pid=$6 wall=$7 lines
	lines=$(q "$tr" "select($sel)")
	check_eq "$name-once" 1 "$(echo "$lines" | grep -c .)"
	check_eq "$name-bytes" "$tx $rx" "$(echo "$lines" | jq -r '"\(.tx_bytes) \(.rx_bytes)"')"
	check_eq "$name-owner" "$pid tcpxfer" "$(echo "$lines" | jq -r '"\(.pid) \(.comm)"')"
	if [ -n "$wall" ]; then
		if echo "$lines" | jq -e --argjson w "$wall" '.ms > 0 and .ms <= $w' >/dev/null; then
			pass "$name-duration"
		else
			fail "$name-duration" "ms $(echo "$lines" | jq .ms) not within wall time ${wall}ms"
		fi
	fi
}
life_check life-v4-client lifeA ".rport==7000 and .raddr==\"$IP_B\" and .laddr==\"$IP_A\"" \
	$SENT4 $BACK4 $CLI4 $wall4
life_check life-v4-server lifeB ".lport==7000 and .raddr==\"$IP_A\"" $BACK4 $SENT4 $SRV4 ""
life_check life-v6-client lifeA ".rport==7006 and .raddr==\"$IP6_B\" and .family==\"ipv6\"" \
	$SENT6 $BACK6 $CLI6 $wall6
life_check life-v6-server lifeB ".lport==7006 and .raddr==\"$IP6_A\"" $BACK6 $SENT6 $SRV6 ""
check_eq life-all-flows-A "$((2 + NCONN))" "$(q lifeA . | grep -c .)"
# --all-netns: both ends of every flow of the two namespaces in one
# process, each exactly as the tracer of its own namespace saw it.
ends() {	# TRACER...: the flows' ends on the test ports, one line each
	local t
	for t in "$@"; do
		q "$t" 'select([.lport, .rport] | any(. == 7000 or . == 7006 or . == 7100)) |
			"\(.laddr) \(.lport) \(.raddr) \(.rport) \(.tx_bytes) \(.rx_bytes) \(.pid) \(.comm)"'
	done | sort
}
check_eq life-all-netns-ends "$((2 * (2 + NCONN)))" "$(ends lifeall | grep -c .)"
check_eq life-all-netns-same "$(ends lifeA lifeB)" "$(ends lifeall)"
check_eq life-refused-not-a-life 0 "$(q lifeA 'select(.rport==7101)' | grep -c .)"

# filters keep exactly the matching events
check_eq filter-ipv4 "$((1 + NCONN)) ipv4" "$(q life4 .family | sort | uniq -c | awk '{print $1, $2}' | tr -d '"')"
check_eq filter-ipv6 "1 ipv6" "$(q life6 .family | sort | uniq -c | awk '{print $1, $2}' | tr -d '"')"
check_eq filter-port "1 7000" "$(q lifeport .rport | sort | uniq -c | awk '{print $1, $2}')"
check_eq filter-pid "1 $SRV6 7006" "$(q lifepid '"\(.pid) \(.lport)"' | sort | uniq -c | awk '{print $1, $2, $3}' | tr -d '"')"
check_eq filter-pid-accept "$NCONN $SRVC" "$(q accpid .pid | sort | uniq -c | awk '{print $1, $2}')"

# connect / accept: N lines each side with the same ports; the refused one fails
conn_ports=$(q connA "select(.rport==7100 and .result==\"OK\") | .lport" | sort -n | tr '\n' ' ')
acc_ports=$(q accB "select(.lport==7100 and .raddr==\"$IP_A\") | .rport" | sort -n | tr '\n' ' ')
check_eq connect-count "$NCONN" "$(echo "$conn_ports" | wc -w)"
check_eq accept-count "$NCONN" "$(echo "$acc_ports" | wc -w)"
check_eq connect-accept-ports "$conn_ports" "$acc_ports"
check_eq connect-owner "$NCONN $CLIC tcpxfer" \
	"$(q connA 'select(.rport==7100) | "\(.pid) \(.comm)"' | sort | uniq -c | awk '{print $1, $2, $3}' | tr -d '"')"
check_eq connect-refused "ECONNREFUSED" "$(q connA 'select(.rport==7101) | .result' | tr -d '"')"
check_eq connect-total "$((3 + NCONN))" "$(q connA . | grep -c .)"
check_eq accept-total "$((2 + NCONN))" "$(q accB . | grep -c .)"
check_eq accept-v6-addrs "$IP6_B 7006 $IP6_A tcpxfer $SRV6" \
	"$(q accB 'select(.family=="ipv6") | "\(.laddr) \(.lport) \(.raddr) \(.comm) \(.pid)"' | tr -d '"')"
check_eq accept-v4-addrs "$IP_B 7000 $IP_A" \
	"$(q accB 'select(.lport==7000) | "\(.laddr) \(.lport) \(.raddr)"' | tr -d '"')"

# resets: the refused SYN got exactly one RST each way
check_eq reset-received-A "1 rcvd 7101" "$(q rstA '"\(.dir) \(.rport)"' | sort | uniq -c | awk '{print $1, $2, $3}' | tr -d '"')"
check_eq reset-sent-B "1 sent 7101 NO_SOCKET" \
	"$(q rstB '"\(.dir) \(.lport) \(.reason)"' | sort | uniq -c | awk '{print $1, $2, $3, $4}' | tr -d '"')"

# tcpstates: the client's walk through the states, each with its predecessor
check_eq states-client "CLOSE>SYN_SENT ESTABLISHED>FIN_WAIT1 FIN_WAIT1>FIN_WAIT2 FIN_WAIT2>CLOSE SYN_SENT>ESTABLISHED" \
	"$(q statesA "select(.laddr==\"$IP_A\") | \"\(.oldstate)>\(.newstate)\"" | tr -d '"' | sort | tr '\n' ' ' | sed 's/ $//')"
check_eq states-one-socket 1 "$(q statesA .skaddr | sort -u | wc -l)"

# ---- retransmits against the kernel's TcpRetransSegs ---------------------
# 5% of the flow's data packets are dropped at the receiver, with
# gso_max_segs 1.  The kernel still retransmits an skb of 2 segments now and
# then (seen: 367 events for 371 TcpRetransSegs), so the kernel's counter is
# compared with the sum of the events' segments, and the event count of the
# other consumers (--count, the persistent flow table) with the streamed one.
ip netns exec "$NS_B" nft add table inet "$TAG"
ip netns exec "$NS_B" nft add chain inet "$TAG" c '{ type filter hook input priority 0; }'
ip netns exec "$NS_B" nft add rule inet "$TAG" c tcp dport 7200 numgen random mod 100 '<' 5 drop
ip -n "$NS_A" link set veth0 gso_max_segs 1
ip netns exec "$NS_B" "$XFER" server "$IP_B" 7200 100 1 >"$TMP/srvr.out" &
SRVR=$!; BG+=("$SRVR")
for i in $(seq 50); do grep -q ready "$TMP/srvr.out" && break; sleep 0.1; done
start_tracer retrans "$NS_A" tcpretrans
"$PKTSCOPE" --netns "$NS_A" tcpretrans --count >"$TMP/rcount.txt" 2>"$TMP/rcount.err" &
RCOUNT=$!; BG+=("$RCOUNT")
for i in $(seq 100); do grep -q Tracing "$TMP/rcount.err" && break; sleep 0.1; done
before=$(ip netns exec "$NS_A" nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ {print $2}')
ip netns exec "$NS_A" "$XFER" client "$IP_B" 7200 3000000 >"$TMP/clir2.out" & CLIR2=$!
wait $CLIR2
wait $SRVR
sleep 0.3
after=$(ip netns exec "$NS_A" nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ {print $2}')
stop_tracer retrans
kill -INT $RCOUNT; wait $RCOUNT; check_eq retrans-count-exit-0 0 $?
delta=$((after - before))
if [ "$delta" -gt 0 ]; then pass retrans-kernel-saw-some; else fail retrans-kernel-saw-some "TcpRetransSegs did not move: the drop rule did not work"; fi
nev=$(q retrans . | grep -c .)
check_eq retrans-segs-eq-TcpRetransSegs "$delta" "$(q retrans .segs | awk '{s += $1} END {print s + 0}')"
lport=$(awk '/^pktscope/ {next} /7200/ {split($1, a, ":"); print a[2]}' "$TMP/rcount.txt")
check_eq retrans-4tuple "$nev $IP_A $lport $IP_B 7200" \
	"$(q retrans '"\(.laddr) \(.lport) \(.raddr) \(.rport)"' | sort | uniq -c | awk '{print $1, $2, $3, $4, $5}' | tr -d '"')"
check_eq retrans-owner "$CLIR2 tcpxfer" "$(q retrans '"\(.pid) \(.comm)"' | sort -u | tr -d '"')"
check_eq retrans-count-mode "$nev $delta" "$(awk '/ -> .*:7200/ {print $4, $5}' "$TMP/rcount.txt")"

# Again with GSO on: one event can carry several segments; their sum is exact.
ip -n "$NS_A" link set veth0 gso_max_segs 65535
ip netns exec "$NS_B" nft add rule inet "$TAG" c tcp dport 7201 numgen random mod 100 '<' 5 drop
ip netns exec "$NS_B" "$XFER" server "$IP_B" 7201 100 1 >"$TMP/srvg.out" &
SRVG=$!; BG+=("$SRVG")
for i in $(seq 50); do grep -q ready "$TMP/srvg.out" && break; sleep 0.1; done
start_tracer retransgso "$NS_A" tcpretrans --port 7201
before=$(ip netns exec "$NS_A" nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ {print $2}')
ip netns exec "$NS_A" "$XFER" client "$IP_B" 7201 3000000 >/dev/null
wait $SRVG
sleep 0.3
after=$(ip netns exec "$NS_A" nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ {print $2}')
stop_tracer retransgso
check_eq retrans-gso-segs-eq-TcpRetransSegs "$((after - before))" \
	"$(q retransgso .segs | awk '{s += $1} END {print s + 0}')"

# ---- persistent totals: everything A did since attach ---------------------
if [ "$PERSIST" = 1 ]; then
	ps=$("$PKTSCOPE" --netns "$NS_A" tcp-persist stats -j)
	total_retrans=$(ip netns exec "$NS_A" nstat -az TcpRetransSegs | awk '/TcpRetransSegs/ {print $2}')
	check_eq persist-closed "$((4 + NCONN))" "$(echo "$ps" | jq .totals.closed)"
	check_eq persist-tx "$((SENT4 + SENT6 + NCONN * SENTC + 6000000))" "$(echo "$ps" | jq .totals.tx_bytes)"
	check_eq persist-rx "$((BACK4 + BACK6 + NCONN * BACKC + 200))" "$(echo "$ps" | jq .totals.rx_bytes)"
	check_eq persist-opens "$((4 + NCONN)) 1" "$(echo "$ps" | jq -r '"\(.totals.active_opens) \(.totals.failed_connects)"')"
	check_eq persist-resets "0 1" "$(echo "$ps" | jq -r '"\(.totals.resets_sent) \(.totals.resets_received)"')"
	check_eq persist-retrans-segs "$total_retrans" "$(echo "$ps" | jq .totals.retrans_segs)"
	check_eq persist-flow-retrans "$nev $delta" \
		"$(echo "$ps" | jq -r ".flows[] | select(.rport==7200 and .lport==$lport) | \"\\(.retransmits) \\(.retrans_segs)\"")"
	check_eq persist-flow-bytes "$SENT4 $BACK4" \
		"$(echo "$ps" | jq -r '.flows[] | select(.rport==7000) | "\(.tx_bytes) \(.rx_bytes)"')"
	check_cmd persist-detach "$PKTSCOPE" --netns "$NS_A" tcp-persist detach
	PERSIST=0
	if [ -e "$pdir" ]; then fail persist-unpinned "$pdir still there"; else pass persist-unpinned; fi
	check_rc persist-detach-again 1 "$PKTSCOPE" --netns "$NS_A" tcp-persist detach
	check_rc persist-stats-none 1 "$PKTSCOPE" --netns "$NS_A" tcp-persist stats
fi

# ---- event streams: one write per batch, not one per line ----------------
# 100 connections through tcpstates in NS_A (five state changes each on the
# client's side: every one must be there).  The kernel's count of the
# reader's write calls (/proc/PID/io, syscw) is at most one per poll timeout
# (100 ms) of the time it ran plus one per 64 KiB written, plus the header:
# the lines go out in batches (one write per line would be 500).
NW=100
ip netns exec "$NS_B" "$XFER" server "$IP_B" 7200 0 $NW >"$TMP/srvw.out" & SRVW=$!; BG+=("$SRVW")
for i in $(seq 50); do grep -q ready "$TMP/srvw.out" && break; sleep 0.1; done
start_tracer statesW "$NS_A" tcpstates --port 7200
t0=$(ms_now)
w0=$(awk '$1 == "syscw:" { print $2 }' "/proc/${TPID[statesW]}/io")
ip netns exec "$NS_A" "$XFER" client "$IP_B" 7200 100 $NW >/dev/null
wait "$SRVW"
for i in $(seq 30); do [ "$(grep -c . "$TMP/statesW.json")" -ge $((5 * NW)) ] && break; sleep 0.1; done
w1=$(awk '$1 == "syscw:" { print $2 }' "/proc/${TPID[statesW]}/io")
t1=$(ms_now)
check_eq stream-states-lines $((5 * NW)) "$(grep -c . "$TMP/statesW.json")"
wbound=$(( (t1 - t0) / 100 + 1 + $(stat -c %s "$TMP/statesW.json") / 65536 + 1 ))
if [ $((w1 - w0)) -le "$wbound" ]; then
	pass stream-writes-batched
else
	fail stream-writes-batched "$((w1 - w0)) write calls for $((5 * NW)) lines in $((t1 - t0)) ms (at most $wbound)"
fi
stop_tracer statesW

# ---- bad input: one line on stderr, non-zero exit, nothing left running ---
bad() {	# NAME RC ARGS...
	local name=$1 rc=$2; shift 2
	check_rc "$name" "$rc" "$PKTSCOPE" "$@"
	check_eq "$name-one-line" 1 "$(echo "$LAST_ERR" | grep -c .)"
}
bad bad-unknown-pid 2 tcplife -p 999999999
bad bad-port-range 2 tcpretrans --port 70000
bad bad-port-zero 2 tcpconnect --port 0
bad bad-both-families 2 tcplife -4 -6
bad bad-count-option 2 tcplife --count
bad bad-all-netns-with-netns 2 --netns "$NS_A" tcplife --all-netns
bad bad-interval-no-count 2 tcpretrans -i 1
# a kernel with every tracepoint tcpretrans needs but tcp_retransmit_skb
for t in sock/inet_sock_set_state syscalls/sys_exit_accept4 syscalls/sys_exit_accept \
	 tcp/tcp_retransmit_synack; do
	mkdir -p "$TMP/fake-tracefs/events/$t"
done
export PKTSCOPE_TRACEFS=$TMP/fake-tracefs
bad bad-missing-tracepoint 1 tcpretrans
unset PKTSCOPE_TRACEFS
case "$LAST_ERR" in
*"tcp_retransmit_skb is missing"*) pass bad-missing-tracepoint-says-which ;;
*) fail bad-missing-tracepoint-says-which "$LAST_ERR" ;;
esac
check_rc duration-exits-0 0 "$PKTSCOPE" --netns "$NS_A" tcpstates -d 0.5

suite_end
