#!/usr/bin/env bash
# valgrind memcheck over the main commands, on a two-host netns bench with
# traffic: each command is one check, PASS when memcheck reports no error
# (invalid read/write, invalid free, overlap, ...) and no "definitely lost"
# block, and the command exits with its documented code.  On FAIL the
# valgrind log excerpt is printed.
#
# --undef-value-errors=no: the kernel fills buffers through bpf() commands that
# valgrind 3.19 does not model (it warns "unhandled eBPF command"; per-CPU map
# lookups are marked defined for one CPU's value only), so every read of a
# counter the kernel wrote is an "uninitialised value" false positive.
# Addressability (invalid reads/writes, frees) and leaks are still checked;
# uninitialised reads in user space are the ASan/UBSan run's job
# (make test SANITIZE=1).
#
# Runtime: ~90-120 s on 2 CPUs (valgrind start-up with libbpf, libxdp and the
# embedded BPF objects costs 2-5 s per command, attach ~10 s).
source "$(dirname "$0")/lib.sh"
source "$REPO_DIR/netns-scripts/two-hosts.sh"

TAG="$(uniq_tag)v"
TMP=$(mktemp -d)
PIDS=()
PORT=19467

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill_tree "$p"; done
	"$PKTSCOPE" --netns "$TAG-a" detach veth0 --tcp >/dev/null 2>&1
	"$PKTSCOPE" --netns "$TAG-a" detach veth0 >/dev/null 2>&1
	"$PKTSCOPE" --netns "$TAG-a" detach --tcp >/dev/null 2>&1
	two_hosts_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT

if ! command -v valgrind >/dev/null; then
	skip all "valgrind not installed (make deps)"
	exit 0
fi
# An ASan build (make test SANITIZE=1) cannot run under valgrind: the two
# shadow the same memory.  That run is the sanitizers' check instead.
if nm -D "$PKTSCOPE" 2>/dev/null | grep -q __asan_init; then
	skip all "$PKTSCOPE is built with ASan (SANITIZE=1): memcheck runs on the normal build"
	exit 0
fi

VG=(valgrind --undef-value-errors=no --leak-check=full
    --errors-for-leak-kinds=definite --error-exitcode=99 --child-silent-after-fork=yes
    --suppressions="$TESTS_DIR/valgrind.supp")
n=0

# vg_check NAME WANT_RC PKTSCOPE-ARGS...: one command under memcheck.
vg_check() {
	local name=$1 want=$2 log rc t0=$SECONDS
	shift 2
	n=$((n + 1))
	log=$TMP/vg-$n.log
	"${VG[@]}" --log-file="$log" "$PKTSCOPE" "$@" >"$TMP/out-$n" 2>&1
	rc=$?
	echo "# $name: $((SECONDS - t0)) s under valgrind"
	vg_verdict "$name" "$want" "$rc" "$log" "$TMP/out-$n"
}

# vg_verdict NAME WANT_RC RC LOG OUT
vg_verdict() {
	local name=$1 want=$2 rc=$3 log=$4 out=$5 why=""
	grep -q 'ERROR SUMMARY: 0 errors' "$log" || why="memcheck errors"
	grep -qE 'definitely lost: 0 bytes|All heap blocks were freed|no leaks are possible' "$log" ||
		why="${why:+$why, }definitely lost blocks"
	[ "$rc" = 99 ] && why="${why:-memcheck error exit}"
	[ -z "$why" ] && [ "$rc" != "$want" ] && why="exit $rc, wanted $want"
	if [ -z "$why" ]; then
		pass "$name"
	else
		echo "---- $name: output"; tail -5 "$out"
		echo "---- $name: valgrind log"
		grep -v 'unhandled eBPF command' "$log" | grep -E '^==[0-9]+== ' | head -60
		fail "$name" "$why"
	fi
}

two_hosts_up "$TAG" >/dev/null || { fail setup "two_hosts_up $TAG"; exit 1; }
NA=(--netns "$TAG-a")

# TCP server in b that takes connections and a client loop in a: traffic for
# tcplife/tcpretrans/rtt and the packet counters.
ip netns exec "$TAG-b" /usr/bin/python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5301)); s.listen(64)
while True:
	c, _ = s.accept(); c.recv(65536); c.sendall(b"y" * 4096); c.close()
' &
PIDS+=($!)
traffic() {
	ip netns exec "$TAG-a" /usr/bin/python3 -c '
import socket, time, sys
end = time.time() + float(sys.argv[1])
while time.time() < end:
	try:
		c = socket.create_connection(("10.123.0.2", 5301), timeout=1)
		c.sendall(b"x" * 2048); c.recv(65536); c.close()
	except OSError:
		pass
	time.sleep(0.05)
' "$1"
}

# Help and bad input: the paths that exit early must free what they took.
vg_check help 0 --help
vg_check attach_help 0 attach --help
vg_check bad_command 2 nosuchcommand
vg_check bad_iface 2 "${NA[@]}" attach nosuch0
vg_check bad_interval 2 "${NA[@]}" stats veth0 -i abc
vg_check stats_not_attached 1 "${NA[@]}" stats veth0

vg_check attach_tcp_rtt 0 "${NA[@]}" attach veth0 --mode generic --tcp --rtt
traffic 2
vg_check status 0 status
vg_check stats 0 "${NA[@]}" stats veth0
vg_check stats_json 0 -j "${NA[@]}" stats veth0
vg_check stats_tcp 0 "${NA[@]}" stats --tcp
vg_check hist 0 "${NA[@]}" hist size veth0
vg_check filter_add 0 "${NA[@]}" filter add veth0 --drop --proto udp --dport 9
vg_check filter_list 0 "${NA[@]}" filter list veth0
id=$(grep -oE '^ *[0-9]+' "$TMP/out-$n" | head -1 | tr -d ' ')
vg_check filter_del 0 "${NA[@]}" filter del veth0 "${id:-1}"
traffic 3 & PIDS+=($!)
vg_check rtt 0 "${NA[@]}" rtt veth0 -i 1 -c 1
vg_check drops 0 "${NA[@]}" drops veth0 -d 1
vg_check tcplife 0 "${NA[@]}" tcplife -d 1
vg_check tcpretrans 0 "${NA[@]}" tcpretrans -d 1
vg_check syscount 0 syscount -d 1
vg_check profile 0 profile -d 1 --top 5
vg_check report 0 "${NA[@]}" report -d 1 -i veth0 -o "$TMP/r.html" -j "$TMP/r.json"

# The daemon under memcheck: scrape /metrics, then SIGTERM.
n=$((n + 1))
dlog=$TMP/vg-$n.log
"${VG[@]}" --log-file="$dlog" "$PKTSCOPE" "${NA[@]}" daemon --iface veth0 \
	--listen 127.0.0.1:$PORT >"$TMP/out-$n" 2>&1 &
dpid=$!
ok=""
for _ in $(seq 1 150); do
	if ip netns exec "$TAG-a" curl -sf "http://127.0.0.1:$PORT/metrics" -o "$TMP/metrics" 2>/dev/null; then
		ok=1
		break
	fi
	sleep 0.2
done
kill -TERM "$dpid" 2>/dev/null
wait "$dpid"
rc=$?
if [ -z "$ok" ] || ! grep -q '^pktscope_' "$TMP/metrics"; then
	fail daemon_scrape "no /metrics answer from the daemon under valgrind within 30 s"
else
	vg_verdict daemon_scrape_sigterm 0 "$rc" "$dlog" "$TMP/out-$n"
fi

vg_check detach 0 "${NA[@]}" detach veth0 --tcp
vg_check detach_again 1 "${NA[@]}" detach veth0

suite_end
