#!/usr/bin/env bash
# TCP probes: what they cost a veth transfer, and how fast `pktscope tcplife`
# starts next to libbpf-tools' tcplife.  Side by side in the same run; ratios
# and absolute numbers, no pass/fail.
#   1. iperf3 over a veth pair between two netns, without probes, with the
#      persistent TCP probes attached (tcp-persist), and with two streaming
#      commands running (tcplife + tcpretrans); rounds interleaved, the
#      median of the per-round ratios (veth throughput on a shared 2-CPU
#      machine moves by tens of percent between runs; none of these
#      tracepoints is on the per-packet path).
#   2. start-up: launch to "attached" (pktscope's "Tracing" line on stderr,
#      tcplife's header on stdout), median of 5 launches each.
set -u
cd "$(dirname "$0")/../.."
source netns-scripts/two-hosts.sh
: "${PKTSCOPE:=$PWD/build/pktscope}"
TAG="b$(( $$ % 100000 ))t"
SECS=${BENCH_SECS:-2}
ROUNDS=${BENCH_ROUNDS:-5}
TMP=$(mktemp -d /tmp/pktscope-bench-tcp.XXXXXX)
BG=()
ATTACHED=0

cleanup() {
	local p
	for p in "${BG[@]}"; do kill -INT "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	[ "$ATTACHED" = 1 ] && "$PKTSCOPE" --netns "$NS_A" tcp-persist detach >/dev/null 2>&1
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

two_hosts_up "$TAG" || { echo "   two_hosts_up failed"; exit 1; }
ip netns exec "$NS_A" ping -c1 -W2 "$IP_B" >/dev/null

# iperf3 -c for SECS seconds; prints bits per second received.
iperf_bps() {
	local port=$1 srv
	ip netns exec "$NS_B" iperf3 -s -p "$port" -1 >/dev/null 2>&1 &
	srv=$!
	sleep 0.3
	ip netns exec "$NS_A" iperf3 -c "$IP_B" -p "$port" -t "$SECS" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second | floor'
	wait "$srv" 2>/dev/null
}

wait_line() {	# FILE PATTERN: poll until FILE has a line matching PATTERN (5 s)
	local i
	for i in $(seq 500); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
	return 1
}

ratio() { awk "BEGIN {if ($2 > 0) printf \"%.3f\", $1 / $2; else print \"n/a\"}"; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

port=5300
declare -A sum bps_of
rp=() rs=()
for r in $(seq "$ROUNDS"); do
	for cfg in none persist stream; do
		pids=()
		case $cfg in
		persist)
			"$PKTSCOPE" --netns "$NS_A" tcp-persist attach >/dev/null && ATTACHED=1 ;;
		stream)
			"$PKTSCOPE" --netns "$NS_A" tcplife >/dev/null 2>"$TMP/l.err" & pids+=($!)
			"$PKTSCOPE" --netns "$NS_A" tcpretrans >/dev/null 2>"$TMP/r.err" & pids+=($!)
			BG+=("${pids[@]}")
			wait_line "$TMP/l.err" Tracing; wait_line "$TMP/r.err" Tracing ;;
		esac
		port=$((port + 1))
		bps=$(iperf_bps $port)
		[ -n "$bps" ] && [ "$bps" != null ] || bps=0
		printf '   round %d %-8s %8.2f Gbit/s\n' "$r" "$cfg" "$(awk "BEGIN {print $bps / 1e9}")"
		bps_of[$cfg]=$bps
		[ "$cfg" = persist ] && "$PKTSCOPE" --netns "$NS_A" tcp-persist detach >/dev/null && ATTACHED=0
		for p in "${pids[@]}"; do kill -INT "$p"; wait "$p"; done
	done
	rp+=("$(ratio "${bps_of[persist]}" "${bps_of[none]}")")
	rs+=("$(ratio "${bps_of[stream]}" "${bps_of[none]}")")
done
echo "   throughput with persistent TCP probes / without: $(printf '%s\n' "${rp[@]}" | median)  (target >= 0.98; median of per-round ratios: ${rp[*]})"
echo "   throughput with tcplife+tcpretrans streaming / without: $(printf '%s\n' "${rs[@]}" | median)  (per round: ${rs[*]})"

# ---- start-up time -------------------------------------------------------
startup_ms() {	# NAME PATTERN OUTFILE CMD...: ms from launch to PATTERN in OUTFILE
	local pat=$2 out=$3 t0 t1 pid; shift 3
	: >"$out"
	t0=$(date +%s%N)
	"$@" &
	pid=$!
	wait_line "$out" "$pat" || { kill -INT $pid; wait $pid; echo -1; return; }
	t1=$(date +%s%N)
	kill -INT $pid; wait $pid 2>/dev/null
	echo $(( (t1 - t0) / 1000000 ))
}
peer=$(command -v tcplife || echo /usr/sbin/tcplife)
ps_ms=() peer_ms=()
for i in 1 2 3 4 5; do
	ps_ms+=("$(startup_ms pktscope Tracing "$TMP/ps.err" \
		sh -c "exec $PKTSCOPE tcplife >/dev/null 2>$TMP/ps.err")")
	if [ -x "$peer" ]; then
		peer_ms+=("$(startup_ms tcplife PID "$TMP/peer.out" \
			sh -c "exec stdbuf -oL $peer >$TMP/peer.out 2>/dev/null")")
	fi
done
p=$(printf '%s\n' "${ps_ms[@]}" | median)
echo "   pktscope tcplife start-up: median ${p} ms (runs: ${ps_ms[*]})"
if [ ${#peer_ms[@]} -gt 0 ]; then
	q=$(printf '%s\n' "${peer_ms[@]}" | median)
	echo "   libbpf-tools tcplife start-up: median ${q} ms (runs: ${peer_ms[*]})"
	echo "   start-up ratio pktscope / libbpf-tools: $(ratio "$p" "$q")"
else
	echo "   libbpf-tools tcplife not installed (make deps): no side-by-side start-up"
fi
