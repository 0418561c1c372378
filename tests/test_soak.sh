#!/usr/bin/env bash
# Soak: SOAK_SECS (default 45; `make soak` runs 600) of iperf3 plus
# short-connection churn through a two-host netns bench with every network
# probe attached, sampled the way users and Prometheus read it.
#
#   TAG-a  veth0: the daemon attaches XDP + TC + passive RTT, the pinned TCP
#          probes (flow LRU bounded at 256, so the churn keeps it full and
#          evicting) and the pinned kernel drop probes; one drop filter rule
#          (every 1000th egress TCP segment to port 5201); streaming
#          `pktscope stats -i 1 -j`, `tcplife -j` and `tcpretrans -j`;
#          the iperf3 client (restarted every 20 s) and the churn server.
#   TAG-b  iperf3 server; the churn client (SOAK_CHURN_RATE connections a
#          second, one in four over IPv6, each 100 bytes up, 1000 down).
#
# tests/soak/soak.py samples while the load runs (three threads, best
# effort): `pktscope stats -j` every 100 ms (one process each), /metrics
# every second (a new connection each), VmRSS/RssAnon of the daemon and of
# the three streaming pktscope processes every second, and the entry count of
# every bounded map (bpftool dump) every 10 s.  After the warm-up (10 % of the
# run, at least 5 s) `pktscope memleak` follows each long-running process.
# Asserted at the end (load stopped, bench quiet):
#   - every stats -j counter and every metrics counter/histogram series never
#     decreases between consecutive reads, and no series vanishes;
#   - final stats -j = initial stats -j + the sum of the deltas that the
#     streaming `stats -i 1 -j` printed, for every counter of every direction
#     (exact); the last scrape equals the final stats -j for every packets,
#     bytes, L4, verdict and size-histogram count/sum series (exact);
#   - every bounded map stays within max_entries: bpftool's count at the end
#     (a dump during the churn is no snapshot: it once saw 326 keys in the
#     256-entry LRU), pktscope_tcp_flows and `rtt -j` at every read;
#   - no leak: at most 8 allocations made after the warm-up and still held
#     3 s later, per process (memleak).  A leak of one block per scrape,
#     stats interval or connection leaves one per event: ~40 (short form) or
#     ~600 (10 minutes) per scrape/interval, ~1800 / ~24000 per connection.
#     Checked by building with a 16-byte leak per scrape in the daemon and per
#     event in tcplife: 32 and 1558 outstanding in the short form, FAIL.
#   - RSS flat: RssAnon growth from the end of the warm-up to the end <=
#     SOAK_RSS_KIB (8 KiB, two pages); first and last VmRSS printed.  RSS
#     alone misses small leaks (the heap's free chunks absorb them: the two
#     leaks above left RssAnon flat), so memleak is the exact check and RSS
#     the check that the allocator, stacks and mappings do not grow;
#   - the drop rule dropped exactly matched/1000, the same in filter list,
#     metrics and the egress drop verdicts; tcplife printed exactly one line
#     per churned connection with its exact payload bytes;
#   - the daemon and the streamers stayed up, exit 0 on SIGTERM, and the
#     daemon (detach_on_exit) leaves no pins.
# Runtime: SOAK_SECS + about 20 s (65 s for make test on a loaded 2-CPU machine).
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

# The suite runs in a private mount namespace with a bpffs of its own: the
# daemon exports every attachment it finds under /sys/fs/bpf/pktscope, and
# attachments that other runs on this machine make and remove while the soak
# runs would change what it serves (and the size of its responses).  What
# this suite pins also goes away with it, whatever happens.
if [ -z "${SOAK_PRIVATE_BPFFS:-}" ]; then
	SOAK_PRIVATE_BPFFS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
mount -t bpf bpf /sys/fs/bpf || { fail setup "mount a private bpffs on /sys/fs/bpf"; exit 1; }

export LC_ALL=C
SOAK_SECS=${SOAK_SECS:-45}
SOAK_BW=${SOAK_BW:-50M}			# iperf3 rate: the machine has 2 CPUs
CHURN_RATE=${SOAK_CHURN_RATE:-40}	# short connections per second
export SOAK_EVERY=1000			# the drop rule's N
export SOAK_CHURN_PORT=7100
DPORT=19435				# the daemon, on TAG-a's own loopback
TAG="$(uniq_tag)k"
TMP=$(mktemp -d /tmp/pktscope-soak.XXXXXX)
PY=/usr/bin/python3
SOAK_PY=$TESTS_DIR/soak/soak.py
PIDS=()
DPID="" LOAD_PIDS=()

cleanup() {
	local p
	for p in "${LOAD_PIDS[@]}" "${PIDS[@]}"; do kill_tree "$p"; done
	[ -n "$DPID" ] && kill_tree "$DPID"
	if [ -n "${NS_A:-}" ] && [ -e "/run/netns/$NS_A" ]; then
		"$PKTSCOPE" --netns "$NS_A" detach veth0 >/dev/null 2>&1
		"$PKTSCOPE" --netns "$NS_A" detach --tcp >/dev/null 2>&1
		"$PKTSCOPE" --netns "$NS_A" drops --persist detach >/dev/null 2>&1
	fi
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

for t in iperf3 curl jq bpftool; do
	command -v $t >/dev/null || { skip all "no $t (make deps installs it)"; exit 0; }
done
two_hosts_up "$TAG" || { fail setup "two_hosts_up $TAG failed"; exit 1; }
# No router solicitations: the bench must fall quiet for the exact sums.
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.router_solicitations=0
done
INO=$(stat -L -c %i "/run/netns/$NS_A")
PIN_IF=/sys/fs/bpf/pktscope/$INO-$(ip -n "$NS_A" -o link show veth0 | cut -d: -f1)
PIN_TCP=/sys/fs/bpf/pktscope/tcp-$INO
PIN_DROPS=/sys/fs/bpf/pktscope/drops-$INO
URL=http://127.0.0.1:$DPORT
nsa_curl() { ip netns exec "$NS_A" curl -s --max-time 5 "$@"; }
stats_j() { "$PKTSCOPE" --netns "$NS_A" stats veth0 -j; }

# ---- the daemon attaches every probe -------------------------------------
cat >"$TMP/soak.conf" <<EOF
listen = 127.0.0.1:$DPORT
tcp = yes
tcp_flows = 256
drops = yes
detach_on_exit = yes
[iface veth0]
rtt = yes
EOF
"$PKTSCOPE" --netns "$NS_A" daemon --config "$TMP/soak.conf" >"$TMP/daemon.out" 2>"$TMP/daemon.err" &
DPID=$!
for i in $(seq 100); do
	[ "$(nsa_curl -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
if [ "$(nsa_curl "$URL/healthz")" != ok ]; then
	fail setup "daemon did not come up: $(tail -3 "$TMP/daemon.err" | tr '\n' ' ')"
	exit 1
fi
check_cmd setup/filter_rule "$PKTSCOPE" --netns "$NS_A" filter add veth0 --drop --proto tcp \
	--dport 5201 --every "$SOAK_EVERY" --dir egress
[ -d "$PIN_IF" ] && [ -d "$PIN_TCP" ] && [ -d "$PIN_DROPS" ] && [ -e "$PIN_IF/rtt_flows" ] ||
	{ fail setup "pins missing under /sys/fs/bpf/pktscope for netns inode $INO"; exit 1; }
export SOAK_MAPS="tcp_flows=$PIN_TCP/flows rtt_flows=$PIN_IF/rtt_flows
	rtt_outstanding=$PIN_IF/rtt_outstanding drop_counts=$PIN_DROPS/drop_counts
	drop_ifnames=$PIN_DROPS/drop_ifnames"

# Servers (setsid: each is its own process group for kill_tree).
setsid ip netns exec "$NS_B" iperf3 -s -p 5201 >"$TMP/iperf3-server.log" 2>&1 &
PIDS+=($!)
setsid ip netns exec "$NS_A" $PY "$SOAK_PY" churn-server $SOAK_CHURN_PORT "$TMP/churn_server.count" &
CHURN_SRV=$!
PIDS+=($CHURN_SRV)

# quiet: wait until two reads of stats -j 1 s apart are equal (up to 30 s).
quiet() {
	local a b i
	a=$(stats_j | jq -c .dirs)
	for i in $(seq 30); do
		sleep 1
		b=$(stats_j | jq -c .dirs)
		[ "$a" = "$b" ] && return 0
		a=$b
	done
	return 1
}
quiet || { fail setup/quiet "the bench never fell quiet"; exit 1; }

# ---- streaming readers, then the sampler, then the load -----------------
stats_j >"$TMP/s0.json"
setsid "$PKTSCOPE" --netns "$NS_A" stats veth0 -i 1 -j >"$TMP/stats_i.jsonl" 2>"$TMP/stats_i.err" &
STATS_I=$!
setsid "$PKTSCOPE" --netns "$NS_A" tcplife -j >"$TMP/tcplife.jsonl" 2>"$TMP/tcplife.err" &
LIFE=$!
setsid "$PKTSCOPE" --netns "$NS_A" tcpretrans -j >"$TMP/tcpretrans.jsonl" 2>"$TMP/tcpretrans.err" &
RETR=$!
PIDS+=($STATS_I $LIFE $RETR)
for i in $(seq 100); do
	[ -s "$TMP/stats_i.jsonl" ] && grep -q Tracing "$TMP/tcplife.err" &&
		grep -q Tracing "$TMP/tcpretrans.err" && break
	sleep 0.1
done
check_eq setup/streamers_started yes "$([ -s "$TMP/stats_i.jsonl" ] &&
	grep -q Tracing "$TMP/tcplife.err" && grep -q Tracing "$TMP/tcpretrans.err" && echo yes)"
# stats -i took its baseline between s0 and now: the bench must have stayed
# quiet in between, or the exact sum below would not hold.
check_eq setup/quiet_at_start "$(jq -c .dirs "$TMP/s0.json")" "$(stats_j | jq -c .dirs)"

PKTSCOPE=$PKTSCOPE setsid $PY "$SOAK_PY" sample "$TMP" "$NS_A" veth0 "$URL" \
	daemon=$DPID stats_i=$STATS_I tcplife=$LIFE tcpretrans=$RETR 2>"$TMP/sampler.err" &
SAMPLER=$!
PIDS+=($SAMPLER)

setsid bash -c "while :; do ip netns exec '$NS_A' iperf3 -c '$IP_B' -p 5201 -t 20 -b '$SOAK_BW' \
	>/dev/null 2>&1 || sleep 0.5; done" &
LOAD_PIDS+=($!)
setsid ip netns exec "$NS_B" $PY "$SOAK_PY" churn-client "$IP_A" "$IP6_A" $SOAK_CHURN_PORT \
	"$CHURN_RATE" "$TMP/churn_client.count" &
CHURN_CLI=$!
LOAD_PIDS+=($CHURN_CLI)

t0=$(date +%s)
t_end=$(( t0 + SOAK_SECS ))
WARM=$(( SOAK_SECS / 10 > 5 ? SOAK_SECS / 10 : 5 ))
ML_PIDS=()
echo "soak: $SOAK_SECS s of iperf3 ($SOAK_BW) and $CHURN_RATE short connections/s through $NS_A"
while [ "$(date +%s)" -lt "$t_end" ]; do
	kill -0 "$DPID" 2>/dev/null && kill -0 "$SAMPLER" 2>/dev/null || break
	# After the warm-up, pktscope memleak follows every long-running
	# process: what they allocate from then on and keep is counted exactly.
	if [ ${#ML_PIDS[@]} = 0 ] && [ "$(date +%s)" -ge $(( t0 + WARM )) ]; then
		for p in daemon=$DPID stats_i=$STATS_I tcplife=$LIFE tcpretrans=$RETR; do
			setsid "$PKTSCOPE" memleak -p "${p#*=}" 5 -j --min-age 3000 -n 3 \
				>"$TMP/memleak_${p%%=*}.jsonl" 2>"$TMP/memleak_${p%%=*}.err" &
			ML_PIDS+=($!)
			PIDS+=($!)
		done
	fi
	sleep 1
done
for p in "${ML_PIDS[@]}"; do kill -TERM "$p"; wait "$p"; done

# ---- stop the load, let the bench fall quiet, take the final reads -----
kill -TERM "$CHURN_CLI"; wait "$CHURN_CLI"
kill_tree "${LOAD_PIDS[0]}"
LOAD_PIDS=()
kill -TERM "$CHURN_SRV"; wait "$CHURN_SRV"
quiet || fail final/quiet "the bench did not fall quiet after the load stopped"
stats_j >"$TMP/s1.json"
# One more full interval of stats -i after the last packet.
n=$(wc -l <"$TMP/stats_i.jsonl")
for i in $(seq 50); do [ "$(wc -l <"$TMP/stats_i.jsonl")" -gt "$n" ] && break; sleep 0.1; done
kill -TERM "$SAMPLER"; wait "$SAMPLER"
check_eq final/sampler_exit 0 $?
nsa_curl "$URL/metrics" >"$TMP/m1.txt"
"$PKTSCOPE" --netns "$NS_A" filter list veth0 -j >"$TMP/filter.json"
check_eq final/quiet_at_end "$(jq -c .dirs "$TMP/s1.json")" "$(stats_j | jq -c .dirs)"
for p in $STATS_I $LIFE $RETR; do
	kill -TERM "$p"; wait "$p"
	check_eq "final/streamer_exit_$p" 0 $?
done

# ---- checks ------------------------------------------------------------
# An ASan build (make test SANITIZE=1) keeps freed memory in its quarantine
# and replaces malloc (libc uprobes see nothing): RSS and memleak checks are
# the normal build's; that run has LeakSanitizer instead.
SOAK_ASAN=0
nm -D "$PKTSCOPE" 2>/dev/null | grep -q __asan_init && SOAK_ASAN=1
if ! SOAK_ASAN=$SOAK_ASAN $PY "$SOAK_PY" check "$TMP" >"$TMP/check.out" 2>"$TMP/check.err"; then
	fail check "soak.py check failed: $(tail -3 "$TMP/check.err" | tr '\n' ' ')"
fi
while IFS=$'\t' read -r kind name a b; do
	case $kind in
	CHECK) check_eq "$name" "$a" "$b" ;;
	SKIP) skip "$name" "$a" ;;
	INFO) echo "  $name: $a" ;;
	esac
done <"$TMP/check.out"

# The daemon stops cleanly and removes what it attached.
kill -TERM "$DPID"; wait "$DPID"
check_eq final/daemon_exit 0 $?
DPID=""
check_eq final/no_pins_left "" "$(ls -d "$PIN_IF" "$PIN_TCP" "$PIN_DROPS" 2>/dev/null)"
suite_end
