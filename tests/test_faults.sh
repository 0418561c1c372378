#!/usr/bin/env bash
# Faults and lifecycle (issue 11): pktscope killed with SIGKILL after every
# step of an attach (PKTSCOPE_FAILPOINT), the interface or its whole netns
# deleted under an attachment, concurrent attach/detach of one interface,
# bpffs unmounted under a running daemon, a full disk for the report file, a
# read-only bpffs, pins of an older layout.  After each fault, `status` must
# say what the kernel really has (its program ids are compared with ip link
# and tc), `detach` or `attach` must recover, and nothing may be left: no pin,
# no program on the interface, no map or program of the old pins in the
# kernel.
#
# What needs `detach --stale`, an unmount or an older layout runs in a
# private mount namespace on a fresh bpffs (held by a sleeping process), so
# other suites' pins are never touched.  Runtime: about 60-70 s on 2 CPUs
# (three times that when a soak shares the machine).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

TAG=$(uniq_tag)f
TMP=$(mktemp -d)
P=$PKTSCOPE
SINK_PID="" MPID="" DPID="" SINK_A="" FULL=""
PORT=9999 DPORT=9436

cleanup() {
	[ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	if [ -n "$MPID" ]; then
		nsenter -t "$MPID" -m -- "$P" --netns "$NS_A" detach veth0 >/dev/null 2>&1
		nsenter -t "$MPID" -m -- "$P" --netns "$NS_B" detach veth0 >/dev/null 2>&1
		kill "$MPID" 2>/dev/null
		wait "$MPID" 2>/dev/null
	fi
	kill_tree "$SINK_PID"
	kill_tree "$SINK_A"
	[ -n "$FULL" ] && umount "$FULL" 2>/dev/null
	for ns in "${NS_B:-}" "${NS_A:-}"; do
		[ -n "$ns" ] && [ -e "/run/netns/$ns" ] || continue
		"$P" --netns "$ns" detach veth0 >/dev/null 2>&1
		"$P" --netns "$ns" detach --tcp >/dev/null 2>&1
		"$P" --netns "$ns" drops --persist detach >/dev/null 2>&1
	done
	[ -n "${PIN:-}" ] && [ -d "$PIN" ] && rm -rf "$PIN"
	ip netns del "$TAG-c" 2>/dev/null
	core_bench_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

core_bench_require "$TAG"
CORE_OBJS0=$TMP/objs0
ps_objects | sort >"$CORE_OBJS0"
NSINO=$(stat -L -c %i "/run/netns/$NS_B")
PIN=$(pin_dir_of "$NS_B")
PIN_TCP=/sys/fs/bpf/pktscope/tcp-$NSINO PIN_DROPS=/sys/fs/bpf/pktscope/drops-$NSINO
LOCK=/run/pktscope/$(basename "$PIN").lock
# a kill -9 before an attach's end leaves its lock file: one may be left by
# an earlier netns that had this inode
rm -f "$LOCK"
udp_sink "$NS_B" $PORT
wait_for 10 udp_bound "$NS_B" $PORT || { fail udp_sink "no UDP socket in $NS_B"; exit 1; }

# What the kernel has on veth0 of NS_B.
xdp_id() { ip -n "$NS_B" -j link show veth0 | jq -r '.[0].xdp.prog.id // 0'; }
tc_id() { # ingress|egress: pktscope's program id (a filter at its handle, or TCX), 0 if none
	local id
	id=$(tc_prog_ids "$NS_B" veth0 "$1" | head -1)
	echo "${id:-0}"
}
tc_n() { tc_hook_n "$NS_B" veth0 "$1"; }
has_clsact() { tc -n "$NS_B" qdisc show dev veth0 | grep -q clsact && echo yes || echo no; }
# status -j row of our pin dir (empty when none), and its text notes.
row() { "$P" status -j 2>/dev/null | jq -c --arg d "$PIN" '.attachments[] | select(.pin_dir == $d)'; }
map_id() { bpftool map show pinned "$1" -j 2>/dev/null | jq -r '.id // empty'; }
# map_gone ID: the map and every program using it are gone from the kernel.
map_gone() {
	! bpftool map show id "$1" >/dev/null 2>&1 &&
	[ "$(bpftool prog show -j | jq --argjson m "$1" '[.[] | select((.map_ids // []) | index($m))] | length')" = 0 ]
}
udp_pkts() { ps_json "$NS_B" stats veth0 | jq -r ".dirs.$1.l4_packets.udp"; }

# clean NAME: nothing of pktscope left on veth0 of NS_B nor in bpffs, no lock file.
clean() {
	local st
	st=$(row | jq -r .state)
	check_eq "$1_clean" "xdp 0 in 0 out 0 clsact no pin no status none lock no" \
		"xdp $(xdp_id) in $(tc_n ingress) out $(tc_n egress) clsact $(has_clsact) pin $([ -e "$PIN" ] && echo yes || echo no) status ${st:-none} lock $([ -e "$LOCK" ] && echo yes || echo no)"
}

# consistent NAME: what status says is attached is what the kernel has.
consistent() {
	local r
	r=$(row)
	check_eq "$1_status_matches_kernel" "$(xdp_id) $(tc_id ingress) $(tc_id egress)" \
		"$(jq -r '"\(.xdp_prog_id) \(.tc_ingress_prog_id) \(.tc_egress_prog_id)"' <<<"$r")"
}

T0=$(date +%s)
# ---- the failpoint list ----------------------------------------------------------------------
STEPS=$(PKTSCOPE_FAILPOINT=list "$P" attach)
check_eq failpoint_list_core \
	"load mkdir pin-meta pin-stats pin-filter_rules pin-filter_ctl pin-filter_stats xdp tc-clsact tc-ingress tc-egress meta" \
	"$(grep -Ev '^(pin-rtt|tcp-|drops-|tcx-|pin-(tcp_meta|flows|totals|drop|tcx_))' <<<"$STEPS" | tr '\n' ' ' | sed 's/ $//')"
check_rc failpoint_unknown 2 env PKTSCOPE_FAILPOINT=nosuch "$P" --netns "$NS_B" attach veth0
grep -q "unknown PKTSCOPE_FAILPOINT 'nosuch': PKTSCOPE_FAILPOINT=list" <<<"$LAST_ERR" &&
	pass failpoint_unknown_message || fail failpoint_unknown_message "$LAST_ERR"
clean failpoint_unknown

# ---- kill -9 after every step of attach IFACE, recovered by detach and by attach ---------------
# expect STEP: the state status must report after a kill at STEP.
expect() {
	case $1 in
	load) echo none ;;
	mkdir) echo "pins only" ;;
	meta) echo ok ;;
	*) echo partial ;;
	esac
}
# Every step is recovered one way, alternately detach and attach; the steps
# that leave kernel attachments of both kinds behind are recovered both ways.
N=0 K=0
# The --tcx steps: tests/test_tcx.sh.
for step in $(grep -Ev '^(tcp-|drops-|tcx-|pin-(tcp_meta|flows|totals|drop|tcx_))' <<<"$STEPS"); do
	opts=""
	# The clsact steps run with --clsact; the default (TCX here) is killed
	# step by step in tests/test_tcx.sh.
	case $step in pin-rtt*) opts=--rtt ;; tc-*) opts=--clsact ;; esac
	K=$((K + 1))
	case $step in
	xdp|tc-egress) hows="detach attach" ;;
	*) [ $((K % 2)) = 0 ] && hows=attach || hows=detach ;;
	esac
	for how in $hows; do
		n="kill_${step}_$how"
		rc=0
		# (in a subshell: its shell, not ours, reports the SIGKILL)
		( PKTSCOPE_FAILPOINT=$step "$P" --netns "$NS_B" attach $opts veth0 >/dev/null 2>"$TMP/kill.err"; exit $?; ) 2>/dev/null || rc=$?
		check_eq "${n}_killed" "137 pktscope: failpoint $step: SIGKILL" "$rc $(tail -1 "$TMP/kill.err")"
		st=$(row | jq -r .state)
		check_eq "${n}_status_state" "$(expect "$step")" "${st:-none}"
		if [ -n "$st" ]; then
			consistent "$n"
		fi
		if [ "$st" != ok ] && [ -n "$st" ]; then
			# The text names the state and what to do.
			"$P" status 2>/dev/null | grep -q "(ifindex .*netns $NS_B): $st: .*pktscope detach" &&
				pass "${n}_status_says_what_to_do" ||
				fail "${n}_status_says_what_to_do" "$("$P" status 2>&1 | tail -2)"
		fi
		mid=$(map_id "$PIN/meta")
		if [ "$how" = detach ]; then
			if [ "$step" = load ]; then
				check_rc "${n}_detach" 1 "$P" --netns "$NS_B" detach veth0
			else
				check_rc "${n}_detach" 0 "$P" --netns "$NS_B" detach veth0
			fi
		else
			check_rc "${n}_attach" 0 "$P" --netns "$NS_B" attach $opts veth0
			check_eq "${n}_attach_whole" ok "$(row | jq -r .state)"
			consistent "${n}_attach"
			# The recovered attachment counts exactly what is sent
			# (checked where the killed attach left programs behind).
			case $step in
			xdp|tc-*|meta)
				N=$((N + 1))
				udp_send "$NS_A" "$IP_B" $PORT $((N + 2)) 100
				wait_for 3 test "$(udp_pkts tc_ingress)" = $((N + 2))
				check_eq "${n}_attach_counts" "$((N + 2)) $((N + 2))" \
					"$(udp_pkts xdp) $(udp_pkts tc_ingress)"
				;;
			esac
			check_rc "${n}_then_detach" 0 "$P" --netns "$NS_B" detach veth0
		fi
		clean "$n"
		if [ -n "$mid" ]; then
			wait_for 3 map_gone "$mid" && pass "${n}_old_maps_and_progs_gone" ||
				fail "${n}_old_maps_and_progs_gone" "map $mid still there"
		fi
	done
done
echo "# kill -9 rounds of attach IFACE: $(( $(date +%s) - T0 )) s"

# ---- kill -9 after every step of attach --tcp and drops --persist attach -----------------------
# Their programs live by pinned links: the ones not yet pinned went with the
# process.  status lists them under "probes" with the links pinned; detach
# --tcp / drops --persist detach removes what is left.
probe() { "$P" status -j 2>/dev/null | jq -c --arg d "$1" '.probes[] | select(.pin_dir == $d)'; }
# kill_probe_steps KIND REGEX PIN META NLINKS "ATTACH" "DETACH" [STATUS_RE]: kill
# -9 after each step REGEX selects of `pktscope ATTACH` (KIND-load: nothing
# yet; KIND-pin-link: 1 of NLINKS links pinned; else pins without programs),
# check status, the line status prints (STATUS_RE) and that DETACH leaves no
# pin and no map; then one whole attach and detach.
kill_probe_steps() {
	local kind=$1 re=$2 pin=$3 meta=$4 nl=$5 att=$6 det=$7 sre=${8:-}
	local step n rc want got mid
	for step in $(grep -E "$re" <<<"$STEPS"); do
		n="kill_$step"
		rc=0
		# (in a subshell: its shell, not ours, reports the SIGKILL)
		# shellcheck disable=SC2086
		( PKTSCOPE_FAILPOINT=$step "$P" --netns "$NS_B" $att >/dev/null 2>"$TMP/kill.err"; exit $?; ) 2>/dev/null || rc=$?
		check_eq "${n}_killed" "137 pktscope: failpoint $step: SIGKILL" "$rc $(tail -1 "$TMP/kill.err")"
		case $step in
		"$kind-load") want="none" ;;
		"$kind-pin-link") want="partial 1 $nl" ;;
		*) want="pins without programs 0 $nl" ;;
		esac
		got=$(probe "$pin" | jq -r '"\(.state) \(.links) \(.links_expected)"')
		check_eq "${n}_status" "$want" "${got:-none}"
		mid=$(map_id "$pin/$meta")
		if [ "$step" != "$kind-load" ]; then
			if [ -n "$sre" ]; then
				"$P" status 2>/dev/null | grep -q "$sre" && pass "${n}_status_says_what_to_do" ||
					fail "${n}_status_says_what_to_do" "$("$P" status 2>&1 | tail -1)"
			fi
			# shellcheck disable=SC2086
			check_rc "${n}_detach" 0 "$P" --netns "$NS_B" $det
		fi
		check_eq "${n}_no_pins" no "$([ -e "$pin" ] && echo yes || echo no)"
		if [ -n "$mid" ]; then
			wait_for 3 map_gone "$mid" && pass "${n}_maps_and_progs_gone" ||
				fail "${n}_maps_and_progs_gone" "map $mid still there"
		fi
	done
	# shellcheck disable=SC2086
	check_rc "${kind}_after_kills_attach" 0 "$P" --netns "$NS_B" $att
	check_eq "${kind}_whole_status" "ok $nl $nl" "$(probe "$pin" | jq -r '"\(.state) \(.links) \(.links_expected)"')"
	# shellcheck disable=SC2086
	check_rc "${kind}_after_kills_detach" 0 "$P" --netns "$NS_B" $det
}
kill_probe_steps tcp '^(tcp-|pin-(tcp_meta|flows|totals)$)' "$PIN_TCP" tcp_meta 5 \
	"attach --tcp" "detach --tcp" "TCP probes (netns $NS_B): .* links pinned .*pktscope detach --tcp"
kill_probe_steps drops '^(drops-|pin-drop)' "$PIN_DROPS" drops_meta 3 \
	"drops --persist attach" "drops --persist detach"
echo "# kill -9 rounds: $(( $(date +%s) - T0 )) s"

# ---- the interface deleted under its attachment --------------------------------------------------
# (no dummy driver on every kernel: a veth pair inside the netns)
ip -n "$NS_B" link add fq0 type veth peer name fq1 && ip -n "$NS_B" link set fq0 up
FQX=$(ip -n "$NS_B" -j link show fq0 | jq -r '.[0].ifindex')
FQPIN=/sys/fs/bpf/pktscope/$NSINO-$FQX
check_rc ifgone_attach 0 "$P" --netns "$NS_B" attach --mode generic fq0
fqmid=$(map_id "$FQPIN/meta")
ip -n "$NS_B" link del fq0
fqrow=$("$P" status -j 2>/dev/null | jq -c --arg d "$FQPIN" '.attachments[] | select(.pin_dir == $d)')
check_eq ifgone_status "fq0 interface gone" "$(jq -r '"\(.iface) \(.state)"' <<<"$fqrow")"
"$P" status 2>/dev/null | grep -q "^fq0 (ifindex $FQX, netns $NS_B): interface gone: .*detach --stale" &&
	pass ifgone_status_says_what_to_do || fail ifgone_status_says_what_to_do "$("$P" status 2>&1 | tail -3)"
# detach by the name the pins recorded: the interface no longer exists.
check_rc ifgone_detach_by_recorded_name 0 "$P" --netns "$NS_B" detach fq0
grep -q "detached from fq0 (interface already gone; pins removed)" <<<"$LAST_ERR" &&
	pass ifgone_detach_message || fail ifgone_detach_message "$LAST_ERR"
check_eq ifgone_no_pins no "$([ -e "$FQPIN" ] && echo yes || echo no)"
wait_for 3 map_gone "$fqmid" && pass ifgone_maps_and_progs_gone || fail ifgone_maps_and_progs_gone "map $fqmid"
check_rc ifgone_detach_unknown 2 "$P" --netns "$NS_B" detach fq0

# ---- concurrent attaches: exactly one wins ---------------------------------------------------------
# Eight processes wait for one file and start together when it appears
# (within 5 ms; an attach holds its lock far longer).
# start8 CMD...: each CMD runs 8 times (odd/even: START_ODD / START_EVEN
# override it when set); exit codes in RCS, winners' pids in WINNER, stderr
# of each in $TMP/race.N.
start8() {
	local i rc pids=() go=$TMP/race.go
	rm -f "$go" "$TMP"/race.*
	for i in 1 2 3 4 5 6 7 8; do
		if [ -n "${START_ODD:-}" ]; then
			if [ $((i % 2)) = 1 ]; then set -- $START_ODD; else set -- $START_EVEN; fi
		fi
		( while [ ! -e "$go" ]; do sleep 0.005; done; exec "$@" >/dev/null 2>"$TMP/race.$i" ) &
		pids+=($!)
	done
	sleep 0.5
	touch "$go"
	RCS="" WINNER=""
	for i in 1 2 3 4 5 6 7 8; do
		wait "${pids[$((i - 1))]}"; rc=$?
		RCS="$RCS $rc"
		[ "$rc" = 0 ] && WINNER="${WINNER}${WINNER:+,}${pids[$((i - 1))]}"
	done
	return 0
}
BUSY_RE="^pktscope: veth0: another pktscope \(pid [0-9]+\) is attaching or detaching it right now: nothing changed; see 'pktscope status' once it is done$"
for round in 1 2 3; do
	n="race_attach_$round"
	start8 "$P" --netns "$NS_B" attach veth0
	check_eq "${n}_one_winner" "1 0 7" \
		"$(tr ' ' '\n' <<<"$RCS" | grep -c '^0$') $(tr ' ' '\n' <<<"$RCS" | grep -Ecv '^(0|1|)$') $(tr ' ' '\n' <<<"$RCS" | grep -c '^1$')"
	# every loser says the same line, naming the winner's pid
	check_eq "${n}_losers_line" \
		"7 pktscope: veth0: another pktscope (pid $WINNER) is attaching or detaching it right now: nothing changed; see 'pktscope status' once it is done" \
		"$(cat "$TMP"/race.[1-8] | grep -v '^$' | sort | uniq -c | sed 's/^ *//')"
	check_eq "${n}_state" "ok 1 1" "$(row | jq -r .state) $(tc_n ingress) $(tc_n egress)"
	consistent "$n"
	base=$(udp_pkts xdp)
	udp_send "$NS_A" "$IP_B" $PORT 11 200
	wait_for 3 test "$(udp_pkts tc_ingress)" = $((base + 11))
	check_eq "${n}_counts_once" "$((base + 11)) $((base + 11))" "$(udp_pkts xdp) $(udp_pkts tc_ingress)"
	check_rc "${n}_detach" 0 "$P" --netns "$NS_B" detach veth0
	clean "$n"
done
# Detach and attach --replace at once: each exits 0 or 1 with the busy line
# (or, a detach that came after another, the "no pktscope attached" line),
# and what is left is either one whole attachment or nothing at all.
NOPIN_RE="^pktscope: veth0 has no pktscope attached \\(no $PIN\\): see 'pktscope status'$"
for round in 1 2; do
	n="race_mixed_$round"
	"$P" --netns "$NS_B" attach veth0 >/dev/null 2>&1
	START_ODD="$P --netns $NS_B attach --replace veth0" START_EVEN="$P --netns $NS_B detach veth0" start8
	bad=0 wins=0
	for i in 1 2 3 4 5 6 7 8; do
		rc=$(echo $RCS | cut -d' ' -f$i)
		if [ "$rc" = 0 ]; then wins=$((wins + 1))
		elif [ "$rc" != 1 ] || ! grep -Eq "$BUSY_RE|$NOPIN_RE" "$TMP/race.$i"; then
			bad=$((bad + 1)); cat "$TMP/race.$i"
		fi
	done
	check_eq "${n}_exits" "0 yes" "$bad $([ "$wins" -ge 1 ] && echo yes)"
	if [ -d "$PIN" ]; then
		check_eq "${n}_whole" "ok 1 1" "$(row | jq -r .state) $(tc_n ingress) $(tc_n egress)"
		consistent "$n"
		"$P" --netns "$NS_B" detach veth0 >/dev/null 2>&1
	fi
	clean "$n"
done
echo "# races: $(( $(date +%s) - T0 )) s"

# ---- a read-only bpffs ---------------------------------------------------------------------------------
# In private mount namespaces: the same instance remounted read-only, and a
# fresh instance mounted read-only (no pin root yet).
for how in remount fresh; do
	n="readonly_$how"
	if [ $how = remount ]; then m="mount -o bind,remount,ro /sys/fs/bpf"; else m="mount -t bpf -o ro bpf /sys/fs/bpf"; fi
	check_rc "$n" 1 unshare -m --propagation private sh -c "$m && exec $P --netns $NS_B attach veth0"
	check_eq "${n}_one_line" 1 "$(grep -c . <<<"$LAST_ERR")"
	grep -Eq "^pktscope: create /sys/fs/bpf/pktscope(/$NSINO-[0-9]+)?: Read-only file system \(bpffs is mounted read-only: mount -o remount,rw /sys/fs/bpf\)$" <<<"$LAST_ERR" &&
		pass "${n}_message" || fail "${n}_message" "$LAST_ERR"
	clean "$n"
done

# ---- a full disk for the report file ------------------------------------------------------------------
FULL=$TMP/full
mkdir -p "$FULL" && mount -t tmpfs -o size=64k tmpfs "$FULL"
echo "old report" >"$FULL/old.html"
dd if=/dev/zero of="$FULL/fill" bs=4k 2>/dev/null
pins0=$(ls /sys/fs/bpf/pktscope 2>/dev/null | grep -c "$NSINO")
rc=0
"$P" report -d 1 -o "$FULL/old.html" >/dev/null 2>"$TMP/rep.err" || rc=$?
check_eq report_full_rc 1 "$rc"
check_eq report_full_one_line \
	"pktscope: write HTML report to $FULL/old.html: No space left on device (nothing written: free some space or give another path)" \
	"$(grep -v '^report: ' "$TMP/rep.err")"
# No partial, empty or temporary file; the older report at the path is left
# as it was, not truncated.
check_eq report_full_no_file "fill old.html" "$(ls "$FULL" | tr '\n' ' ' | sed 's/ $//')"
check_eq report_full_old_kept "old report" "$(cat "$FULL/old.html")"
check_eq report_full_nothing_pinned "$pins0" "$(ls /sys/fs/bpf/pktscope 2>/dev/null | grep -c "$NSINO")"
# pgrep exits 1 exactly when no process matches.
check_rc report_full_no_process 1 pgrep -f "report -d 1 -o $FULL"
umount "$FULL" && FULL=""
echo "# report: $(( $(date +%s) - T0 )) s"

# ---- a private mount namespace with its own bpffs ------------------------------------------------------
# Every bpffs mounted at /sys/fs/bpf is taken away in there first, so that an
# unmount later reveals no other instance (the host's) underneath.
unshare -m --propagation private sh -c "while mountpoint -q /sys/fs/bpf; do umount -l /sys/fs/bpf || exit 1; done
	mount -t bpf bpf /sys/fs/bpf && touch $TMP/holder.ok && exec sleep 600" &
MPID=$!
wait_for 5 test -e "$TMP/holder.ok" || { fail holder "no private mount namespace"; exit 1; }
inm() { nsenter -t "$MPID" -m -- "$@"; }

# -- the whole netns deleted under an attachment: status says so, detach --stale cleans
ip netns add "$TAG-c" && ip -n "$TAG-c" link add fq0 type veth peer name fq1 && ip -n "$TAG-c" link set fq0 up
CINO=$(stat -L -c %i "/run/netns/$TAG-c")
CPIN=/sys/fs/bpf/pktscope/$CINO-$(ip -n "$TAG-c" -j link show fq0 | jq -r '.[0].ifindex')
nsenter --net="/run/netns/$TAG-c" -m -t "$MPID" -- "$P" attach --mode generic fq0 >/dev/null 2>&1
cmid=$(inm bpftool map show pinned "$CPIN/meta" -j 2>/dev/null | jq -r '.id // empty')
cstate() { inm "$P" status -j 2>/dev/null | jq -r --arg d "$CPIN" '.attachments[] | select(.pin_dir == $d) | "\(.iface) \(.state)"'; }
# $TAG-c is named on the host only (made after this mount namespace): from
# here it has no name and no process, but its programs are alive, so it is
# "not visible", not gone, and neither --stale nor detach touches it.
check_eq nsgone_alive_not_visible "fq0 netns not visible" "$(cstate)"
check_rc nsgone_alive_stale_keeps 0 inm "$P" detach --stale
check_rc nsgone_alive_detach_refused 1 inm "$P" detach --all
grep -q "cannot enter netns $CINO, where fq0 is still attached .*pins kept" <<<"$LAST_ERR" &&
	pass nsgone_alive_detach_message || fail nsgone_alive_detach_message "$LAST_ERR"
check_eq nsgone_alive_pins_kept yes "$(inm test -e "$CPIN/meta" && echo yes || echo no)"
ip netns del "$TAG-c"
# the namespace is freed asynchronously, and its programs with it
wait_for 5 test "$(cstate)" = "fq0 netns gone"
check_eq nsgone_status "fq0 netns gone" "$(cstate)"
inm "$P" status 2>/dev/null | grep -q "^fq0 (ifindex [0-9]*, netns $CINO): netns gone: .*'pktscope detach --stale'" &&
	pass nsgone_status_says_what_to_do || fail nsgone_status_says_what_to_do "$(inm "$P" status 2>&1 | tail -2)"
check_rc nsgone_detach_stale 0 inm "$P" detach --stale
grep -q "detached from fq0 (netns already gone; pins removed)" <<<"$LAST_ERR" &&
	pass nsgone_detach_message || fail nsgone_detach_message "$LAST_ERR"
check_eq nsgone_no_pins no "$(inm test -e "$CPIN" && echo yes || echo no)"
[ -n "$cmid" ] && { wait_for 3 map_gone "$cmid" && pass nsgone_maps_and_progs_gone ||
	fail nsgone_maps_and_progs_gone "map $cmid"; }

# -- --stale leaves whole attachments alone and takes partial and probe leftovers
inm "$P" --netns "$NS_B" attach veth0 >/dev/null 2>&1
PKTSCOPE_FAILPOINT=tc-ingress inm "$P" --netns "$NS_A" attach --clsact veth0 >/dev/null 2>&1
PKTSCOPE_FAILPOINT=tcp-pin-link inm "$P" --netns "$NS_A" attach --tcp >/dev/null 2>&1
AINO=$(stat -L -c %i "/run/netns/$NS_A")
# killed before its mkdir: only its lock file is left
PKTSCOPE_FAILPOINT=load inm "$P" --netns "$NS_A" attach lo >/dev/null 2>&1
check_eq stale_lock_left yes "$([ -e "/run/pktscope/$AINO-1.lock" ] && echo yes || echo no)"
# a probe directory changed in the last 10 s may be an attach in progress: aged here
inm touch -d '1 minute ago' "/sys/fs/bpf/pktscope/tcp-$AINO"
check_rc stale_detach 0 inm "$P" detach --stale
check_eq stale_lock_removed no "$([ -e "/run/pktscope/$AINO-1.lock" ] && echo yes || echo no)"
check_eq stale_left "$(basename "$PIN")" "$(inm ls /sys/fs/bpf/pktscope | tr '\n' ' ' | sed 's/ $//')"
check_eq stale_nsa_clean "0 0" "$(ip -n "$NS_A" -j link show veth0 | jq -r '.[0].xdp.prog.id // 0') $(tc -n "$NS_A" filter show dev veth0 ingress | grep -c handle)"
check_eq stale_whole_kept ok "$(inm "$P" status -j 2>/dev/null | jq -r '.attachments[0].state')"
inm "$P" --netns "$NS_B" detach veth0 >/dev/null 2>&1
clean stale

# -- pins of an older layout: refused with a message, never read, never replaced.
# (test_core_badinput.sh covers stats/hist/detach IFACE with a layout 99 and
# other value sizes; here: a layout one older, and a stats map of another
# value size, met by attach, attach --replace, detach --stale and status.)
inm "$P" --netns "$NS_B" attach veth0 >/dev/null 2>&1
GOOD_META=$(inm bpftool map lookup pinned "$PIN/meta" key 0 0 0 0 -j 2>/dev/null | jq -r '.value | join(" ")')
GOOD_STATS=$(inm bpftool map show pinned "$PIN/stats" -j 2>/dev/null | jq -r .bytes_value)
inm "$P" --netns "$NS_B" detach veth0 >/dev/null 2>&1
OLDV=$(( $(awk '{ print $5 }' <<<"$GOOD_META") - 1 ))
LODIR=/sys/fs/bpf/pktscope/$NSINO-1
fake() { # LAYOUT_VERSION STATS_VALUE_SIZE: pins for lo of NS_B (bytes 4..7 of meta: the version)
	local meta
	meta=$(awk -v v="$(printf '0x%02x' "$1")" '{ $5 = v; $6 = $7 = $8 = "0x00"; print }' <<<"$GOOD_META")
	inm sh -c "rm -rf $LODIR; mkdir -m 700 $LODIR &&
		bpftool map create $LODIR/meta type array key 4 value $(wc -w <<<"$GOOD_META") entries 1 name ps_meta &&
		bpftool map update pinned $LODIR/meta key 0 0 0 0 value $meta &&
		bpftool map create $LODIR/stats type percpu_array key 4 value $2 entries 3 name ps_stats"
}
for kind in version stats; do
	if [ $kind = version ]; then
		fake "$OLDV" "$GOOD_STATS" || fail layout_fake "could not make the older pins"
		RE="pinned maps in $LODIR have layout version $OLDV .* this build reads version $((OLDV + 1)) .*detach with the pktscope that attached them, or remove $LODIR"
	else
		fake "$((OLDV + 1))" $((GOOD_STATS - 8)) || fail layout_fake "could not make the older pins"
		RE="pinned map $LODIR/stats has value size $((GOOD_STATS - 8)) and 3 entries, this build expects $GOOD_STATS and 3: remove $LODIR"
	fi
	for c in "attach lo" "attach --replace lo" "detach lo" "detach --stale"; do
		n="layout_${kind}_$(tr ' -' '__' <<<"$c")"
		check_rc "$n" 1 inm "$P" --netns "$NS_B" $c
		check_eq "${n}_one_line" 1 "$(grep -c . <<<"$LAST_ERR")"
		grep -Eq "$RE" <<<"$LAST_ERR" && pass "${n}_message" || fail "${n}_message" "$LAST_ERR"
		check_eq "${n}_pins_kept" "meta stats" "$(inm ls "$LODIR" | tr '\n' ' ' | sed 's/ $//')"
		check_eq "${n}_lo_untouched" "0 0" "$(ip -n "$NS_B" -j link show lo | jq -r '.[0].xdp.prog.id // 0') $(tc -n "$NS_B" qdisc show dev lo | grep -c clsact)"
	done
	# status says it once on stderr and lists nothing it cannot read
	check_rc "layout_${kind}_status" 0 inm "$P" status -j
	grep -Eq "$RE" <<<"$LAST_ERR" && pass "layout_${kind}_status_message" ||
		fail "layout_${kind}_status_message" "$LAST_ERR"
	check_eq "layout_${kind}_status_lists_none" 0 "$(inm "$P" status -j 2>/dev/null | jq '.attachments | length')"
done
inm rm -rf "$LODIR"

# -- bpffs unmounted under a running daemon: it re-mounts and re-pins from its reference
udp_sink "$NS_A" $PORT
SINK_A=$SINK_PID SINK_PID=""
wait_for 10 udp_bound "$NS_A" $PORT
nsenter -t "$MPID" -m -- "$P" --netns "$NS_A" daemon --iface veth0 --detach-on-exit \
	--listen "127.0.0.1:$DPORT" >"$TMP/d.out" 2>"$TMP/d.err" &
DPID=$!
URL="http://127.0.0.1:$DPORT"
wait_for 10 ip netns exec "$NS_A" curl -sf --max-time 2 "$URL/healthz" || fail daemon_up "$(cat "$TMP/d.err")"
SER="pktscope_packets_total{netns=\"$NS_A\",iface=\"veth0\",dir=\"xdp\",l3=\"ipv4\"}"
scrape() { ip netns exec "$NS_A" curl -s --max-time 5 "$URL/metrics" | awk -v s="$SER" 'index($0, s " ") == 1 {print $2}'; }
udp_send "$NS_B" "$IP_A" $PORT 37 100
wait_for 3 test "$(scrape)" = 37
check_eq bpffs_gone_before 37 "$(scrape)"
# a plain umount is refused while the daemon holds the pin root
rc=0; inm umount /sys/fs/bpf 2>/dev/null || rc=$?
check_eq bpffs_gone_plain_umount_busy 32 "$rc"
inm umount -l /sys/fs/bpf
check_eq bpffs_gone_unmounted no "$(inm test -e /sys/fs/bpf/pktscope && echo yes || echo no)"
udp_send "$NS_B" "$IP_A" $PORT 41 100
check_eq bpffs_gone_after $((37 + 41)) "$(scrape)"
check_eq bpffs_gone_log_line 1 \
	"$(grep -c "^pktscope: bpffs at /sys/fs/bpf was unmounted under the daemon: mounted it again and re-pinned [0-9]* objects of 1 pin directories from the daemon's own reference$" "$TMP/d.err")"
# status and stats work again on the re-pinned maps, with the same counts
check_eq bpffs_gone_status_ok ok "$(inm "$P" status -j 2>/dev/null | jq -r '.attachments[0].state')"
check_eq bpffs_gone_stats $((37 + 41)) "$(inm "$P" --netns "$NS_A" stats veth0 -j 2>/dev/null | jq -r '.dirs.xdp.l3_packets.ipv4')"
udp_send "$NS_B" "$IP_A" $PORT 5 100
check_eq bpffs_gone_counts_go_on $((37 + 41 + 5)) "$(scrape)"
check_eq bpffs_gone_log_once 1 "$(grep -c "unmounted under the daemon" "$TMP/d.err")"
kill -TERM "$DPID"; wait "$DPID"; DPID=""
check_eq bpffs_gone_detach_on_exit "0 0" \
	"$(ip -n "$NS_A" -j link show veth0 | jq -r '.[0].xdp.prog.id // 0') $(inm ls /sys/fs/bpf/pktscope | grep -c .)"
kill "$MPID"; wait "$MPID" 2>/dev/null; MPID=""

# ---- nothing left in the kernel -------------------------------------------------------------------------
wait_for 10 test -z "$(core_leaks)"
check_eq no_leaked_objects "" "$(core_leaks | tr '\n' ' ')"
echo "# total: $(( $(date +%s) - T0 )) s"
suite_end
