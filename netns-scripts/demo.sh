#!/usr/bin/env bash
# make demo: a two-host netns bench, pktscope on the receiver, ~15 s of mixed
# traffic (ping, iperf3 TCP at a modest rate, UDP of three sizes), live
# per-second stats, then the size histogram and status.  Everything it
# creates is removed on exit, Ctrl-C included.  Needs root; no TTY needed.
set -u
cd "$(dirname "$0")/.." || exit 1
PKTSCOPE=${PKTSCOPE:-$PWD/build/pktscope}
. netns-scripts/two-hosts.sh

if [ "$(id -u)" != 0 ]; then
	echo "demo.sh: needs root (network namespaces, BPF): run 'sudo make demo'" >&2
	exit 2
fi
for t in iperf3 ping python3; do
	command -v "$t" >/dev/null || { echo "demo.sh: $t is missing: run 'make deps'" >&2; exit 1; }
done

TAG=d$(( $$ % 100000 ))
two_hosts_vars "$TAG"
PIDS=()
ATTACHED=0

teardown() {
	local p
	# Finish tearing down even if a second signal comes.
	trap - EXIT
	trap "" INT TERM
	for p in "${PIDS[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ $ATTACHED = 1 ]; then
		"$PKTSCOPE" --netns "$NS_B" detach veth0
	fi
	two_hosts_down "$TAG"
	echo "== bench $TAG torn down"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# bg CMD...: run in the background in its own process group.
bg() {
	setsid "$@" >/dev/null 2>&1 &
	PIDS+=($!)
}

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "two hosts: $NS_A ($IP_A) <-> $NS_B ($IP_B), veth"
two_hosts_up "$TAG" || exit 1

step "attach pktscope to the receiver"
run "$PKTSCOPE" --netns "$NS_B" attach veth0 || exit 1
ATTACHED=1

step "traffic for ~15 s: ping, iperf3 TCP at 20 Mbit/s, UDP of 100, 500 and 1400 bytes"
bg ip netns exec "$NS_B" iperf3 -s -p 5201
bg ip netns exec "$NS_B" python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9000))
while True:
    s.recv(65536)
'
for i in $(seq 50); do
	ip netns exec "$NS_B" ss -Hltn 'sport = :5201' | grep -q . && break
	sleep 0.1
done
bg ip netns exec "$NS_A" ping -i 0.2 -c 75 "$IP_B"
bg ip netns exec "$NS_A" iperf3 -c "$IP_B" -p 5201 -t 14 -b 20M
bg ip netns exec "$NS_A" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + 15
while time.time() < end:
    for size in (100, 500, 1400):
        s.sendto(b"u" * size, (sys.argv[1], 9000))
    time.sleep(0.02)
' "$IP_B"

step "live counters, one table a second (deltas and rates)"
run "$PKTSCOPE" --netns "$NS_B" stats veth0 -i 1 -c 10

step "packet size histogram since attach"
run "$PKTSCOPE" --netns "$NS_B" hist size veth0

step "where pktscope is attached"
run "$PKTSCOPE" status

step "the same counters as JSON (first lines)"
"$PKTSCOPE" --netns "$NS_B" stats veth0 -j | head -c 400; echo " ..."

step "detach"
run "$PKTSCOPE" --netns "$NS_B" detach veth0
ATTACHED=0
