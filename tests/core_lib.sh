# Helpers shared by the core integration suites (test_core_*.sh) and the
# throughput bench.  Source it after lib.sh.
#
# The bench is netns-scripts/two-hosts.sh with the noise that would blur exact
# counts taken away: static ARP/ND entries on both sides (no ARP or neighbour
# solicitation ever), no IPv6 router solicitations.  What is left of IPv6
# background (MLD reports right after link-up) is ICMPv6 below 128 bytes, so
# the suites assert on UDP/TCP/ICMP counters and on size buckets it cannot
# reach.

. "$REPO_DIR/netns-scripts/two-hosts.sh"

# Debian's interpreter: scapy is a Debian package, not in other pythons.
PY=/usr/bin/python3


# core_bench_up TAG [MTU]: two hosts, quiet, with static neighbours.
core_bench_up() {
	local tag=$1 mtu=${2:-1500} mac_a mac_b ns
	two_hosts_up "$tag" "$mtu" || return 1
	two_hosts_vars "$tag"
	for ns in "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.router_solicitations=0 \
			net.ipv6.conf.all.router_solicitations=0 >/dev/null
	done
	mac_a=$(ip -n "$NS_A" -j link show veth0 | jq -r '.[0].address')
	mac_b=$(ip -n "$NS_B" -j link show veth0 | jq -r '.[0].address')
	MAC_A=$mac_a MAC_B=$mac_b
	ip -n "$NS_A" neigh replace "$IP_B" lladdr "$mac_b" dev veth0 nud permanent &&
	ip -n "$NS_A" neigh replace "$IP6_B" lladdr "$mac_b" dev veth0 nud permanent &&
	ip -n "$NS_B" neigh replace "$IP_A" lladdr "$mac_a" dev veth0 nud permanent &&
	ip -n "$NS_B" neigh replace "$IP6_A" lladdr "$mac_a" dev veth0 nud permanent
}

# core_bench_require TAG: core_bench_up, or the suite fails and ends here
# (every later check needs the bench).
core_bench_require() {
	core_bench_up "$1" && return 0
	fail bench_up "could not build the two-host bench $1"
	exit 1
}

core_bench_down() {
	[ -n "$1" ] && two_hosts_down "$1"
	return 0
}

# tc_hook_n NS DEV ingress|egress: everything at that TC hook: classic
# filters (anyone's) and TCX programs.
tc_hook_n() {
	echo $(( $(tc -n "$1" filter show dev "$2" "$3" | grep -c 'handle') +
		$(tcx_progs_of "$1" "$2" "$3" | wc -w) ))
}

# core_b_vars: NSINO, IFX and PIN (the pin directory) of veth0 in NS_B.
core_b_vars() {
	NSINO=$(stat -L -c %i "/run/netns/$NS_B")
	IFX=$(ip -n "$NS_B" -j link show veth0 | jq -r '.[0].ifindex')
	PIN="/sys/fs/bpf/pktscope/$NSINO-$IFX"
}

# core_b_undo: the end of a suite that attached veth0 in NS_B: detach it,
# remove its pins if detach could not, take the bench down, remove $TMP.
core_b_undo() {
	[ -n "${NS_B:-}" ] && "$PKTSCOPE" --netns "$NS_B" detach veth0 >/dev/null 2>&1
	[ -n "${PIN:-}" ] && [ -d "$PIN" ] && rm -rf "$PIN"
	core_bench_down "$TAG"
	rm -rf "$TMP"
}

# ps_json NS CMD...: pktscope -j in netns NS, stdout only.
ps_json() {
	local ns=$1; shift
	"$PKTSCOPE" --netns "$ns" "$@" -j 2>/dev/null
}

# snap NS FILE: save `stats -j` of veth0 in NS to FILE.
snap() {
	ps_json "$1" stats veth0 >"$2"
}

# hist_snap NS FILE: save `hist size -j` of veth0 in NS to FILE.
hist_snap() {
	ps_json "$1" hist size veth0 >"$2"
}

# dval BEFORE AFTER JQPATH: after - before of one number, e.g.
#   dval b.json a.json '.dirs.xdp.l4_packets.udp'
dval() {
	local x y
	x=$(jq -r "$3" "$1") y=$(jq -r "$3" "$2")
	echo $((y - x))
}

# bucket_delta BEFORE AFTER DIR LO: delta of the size bucket starting at LO.
bucket_delta() {
	dval "$1" "$2" ".size.$3[] | select(.lo == $4) | .count"
}

# Size bucket (its lower bound) of a frame length, from the histogram JSON
# itself so that the bounds are never repeated here.
bucket_of() {
	jq -r --argjson n "$2" '[.size.xdp[] | select(.lo <= $n)] | last | .lo' "$1"
}

# udp_send NS DST PORT COUNT PAYLOAD [FAMILY]: exactly COUNT datagrams of
# PAYLOAD bytes, one sendto each (nothing coalesced: no UDP GSO, no cork).
udp_send() {
	ip netns exec "$1" "$PY" - "$2" "$3" "$4" "$5" "${6:-4}" <<'EOF'
import socket, sys
dst, port, n, size, fam = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET, socket.SOCK_DGRAM)
# Don't fragment: a datagram that does not fit must fail, not split.
s.setsockopt(socket.IPPROTO_IP if fam != "6" else socket.IPPROTO_IPV6,
             10 if fam != "6" else 23, 2)
buf = b"x" * size
for _ in range(n):
    if s.sendto(buf, (dst, port)) != size:
        sys.exit("short send")
EOF
}

# udp_sink NS PORT: a bound UDP socket that never reads (so no ICMP port
# unreachable goes back), in the background; its PID is in SINK_PID.
udp_sink() {
	setsid ip netns exec "$1" "$PY" -c '
import socket, sys, time
fam = socket.AF_INET6
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
print("ready", flush=True)
time.sleep(600)
' "$2" >/dev/null 2>&1 &
	SINK_PID=$!
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local t=$(( $1 * 10 )); shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}

# udp_bound NS PORT: something listens on UDP PORT in NS.
udp_bound() {
	ip netns exec "$1" ss -Hluan "sport = :$2" | grep -q .
}

tcp_listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q .
}

# Programs and maps pktscope loads, by the names the kernel knows them by.
PS_PROG_RE='^(ps_xdp|ps_tc_in|ps_tc_out)$'
PS_MAP_RE='^(ps_stats|ps_meta|tc_stats\.rodata|xdp_stat\.rodata)$'

# ps_objects: "prog ID" and "map ID" lines for pktscope's programs and maps
# that no process holds (held only by an attachment or a pin).  Programs a
# test or tool holds open at the moment are not leaks and other helpers'
# processes come and go, so they are left out.
ps_objects() {
	bpftool prog show -j | jq -r --arg re "$PS_PROG_RE" \
		'.[] | select((.name // "") | test($re)) | select((.pids // []) | length == 0) | "prog \(.id)"'
	bpftool map show -j | jq -r --arg re "$PS_MAP_RE" \
		'.[] | select((.name // "") | test($re)) | select((.pids // []) | length == 0) | "map \(.id)"'
}

# tcx_progs_of NS DEV ingress|egress: the program ids the kernel's TCX hook
# of DEV in netns NS runs, in order, space-separated ("" when none), read
# with the test's own BPF_PROG_QUERY (bpftool 7.1 does not know TCX).
tcx_progs_of() {
	local ifx
	ifx=$(ip -n "$1" -j link show "$2" | jq -r '.[0].ifindex') || return 1
	ip netns exec "$1" "$PY" - "$ifx" "$3" <<'EOF'
import ctypes, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
ifindex, where = int(sys.argv[1]), sys.argv[2]
ids = (ctypes.c_uint32 * 64)()
# union bpf_attr, query: target_ifindex, attach_type (BPF_TCX_INGRESS 46,
# BPF_TCX_EGRESS 47), query_flags, attach_flags, prog_ids, count.
attr = ctypes.create_string_buffer(struct.pack("IIIIQI", ifindex, 46 if where == "ingress" else 47,
                                               0, 0, ctypes.addressof(ids), 64) + b"\0" * 100)
if libc.syscall(321, 16, attr, 128) != 0:	# bpf(BPF_PROG_QUERY)
    err = ctypes.get_errno()
    sys.exit(0 if err == 2 else "BPF_PROG_QUERY: errno %d" % err)	# ENOENT: no TCX entry
count = struct.unpack_from("I", attr, 24)[0]
print(" ".join(str(ids[i]) for i in range(count)))
EOF
}

# tc_prog_ids NS DEV ingress|egress: pktscope's TC program ids on DEV, one per
# line, wherever attach put them: classic filters at its handle (0x7053) and
# programs of the TCX hook.
tc_prog_ids() {
	tc -n "$1" filter show dev "$2" "$3" | sed -n 's/.*handle 0x7053 .* id \([0-9]*\) .*/\1/p'
	tcx_progs_of "$1" "$2" "$3" | tr ' ' '\n' | sed '/^$/d'
}

# Pin directory of veth0 in netns NS (/sys/fs/bpf/pktscope/<netns ino>-<ifindex>).
pin_dir_of() {
	local ino ifx
	ino=$(stat -L -c %i "/run/netns/$1") || return 1
	ifx=$(ip -n "$1" -j link show veth0 | jq -r '.[0].ifindex') || return 1
	echo "/sys/fs/bpf/pktscope/$ino-$ifx"
}

# core_attach NS [OPTIONS]: attach to veth0 in NS and remember it, so that
# core_detach_ours can undo it even when the binary or the netns went away.
CORE_ATTACHED=()
CORE_PINS=()
core_attach() {
	local ns=$1; shift
	CORE_ATTACHED+=("$ns")
	CORE_PINS+=("$(pin_dir_of "$ns")")
	"$PKTSCOPE" --netns "$ns" attach "$@" veth0
}

# Detach what core_attach attached; pins left behind (netns already gone, or
# detach failed) are removed by hand: they are this suite's own.
core_detach_ours() {
	local ns d
	for ns in "${CORE_ATTACHED[@]}"; do
		[ -e "/run/netns/$ns" ] && "$PKTSCOPE" --netns "$ns" detach veth0 >/dev/null 2>&1
	done
	for d in "${CORE_PINS[@]}"; do
		[ -n "$d" ] && [ -d "$d" ] && rm -rf "$d"
	done
	CORE_ATTACHED=() CORE_PINS=()
	return 0
}

# core_leaks: pktscope programs held by no process (so: by an attachment)
# that were not in the file $CORE_OBJS0 (a sorted ps_objects of the start)
# and do not belong to an attachment `status` lists (other suites', in their
# own namespaces, at the same time), with the maps those programs use.
# User space can keep a map alive only through an fd (a process), a pin or
# a program: pins are checked by the suites, fds end with the process, so a
# leaked map always hangs off a leaked program or a pin.
core_leaks() {
	local others
	others=$("$PKTSCOPE" status -j 2>/dev/null | jq -c '[.attachments[] |
		.xdp_prog_id, .tc_ingress_prog_id, .tc_egress_prog_id]')
	[ -n "$others" ] || others='[]'
	ps_objects | grep '^prog ' | sort | comm -13 "$CORE_OBJS0" - | while read -r kind id; do
		jq -e --argjson id "$id" 'index($id)' <<<"$others" >/dev/null && continue
		echo "$kind $id maps $(bpftool prog show id "$id" -j 2>/dev/null | jq -c '.map_ids // []')"
	done
}
