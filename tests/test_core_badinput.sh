#!/usr/bin/env bash
# Bad input to the core commands: each case must print its message, exit with
# the documented code (2 usage, 1 runtime/permission), and change nothing:
# no XDP program, no clsact qdisc or filter, no pin, no pktscope program or
# map left in the kernel.
#
# Cases that need a broken /sys/fs/bpf/pktscope (a file, a directory of
# another owner or mode, maps of another layout) run in a private mount
# namespace on a fresh bpffs instance, so the machine's real pins, and other
# suites running at the same time, never see them.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

TAG=$(uniq_tag)e
TMP=$(mktemp -d)

cleanup() {
	core_detach_ours
	core_bench_down "$TAG"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

core_bench_require "$TAG"
ip -n "$NS_B" link add ifb0 type ifb && ip -n "$NS_B" link set ifb0 up ||
	fail ifb "could not create an ifb device in $NS_B"
PIN=$(pin_dir_of "$NS_B")
NSINO=$(stat -L -c %i "/run/netns/$NS_B")
P=$PKTSCOPE
CORE_OBJS0=$TMP/objs0 CORE_PIN=$PIN
ps_objects | sort >"$CORE_OBJS0"

# The state bad input must not change: veth0 and ifb0 in NS_B and our pins.
# pktscope's programs and maps in the kernel are compared once at the end
# (other suites load theirs at the same time: see core_leaks).
state() {
	local dev
	for dev in veth0 ifb0; do
		ip -n "$NS_B" -j link show "$dev" | jq -c '.[0] | {ifname, xdp}'
		tc -n "$NS_B" qdisc show dev "$dev"
		tc -n "$NS_B" filter show dev "$dev" ingress
		tc -n "$NS_B" filter show dev "$dev" egress
		echo "tcx $(tcx_progs_of "$NS_B" "$dev" ingress) / $(tcx_progs_of "$NS_B" "$dev" egress)"
	done
	ls -d /sys/fs/bpf/pktscope/"$NSINO"-* 2>/dev/null
}

# bad NAME RC MESSAGE_REGEX CMD...: exit code, message on stderr, nothing changed.
bad() {
	local name=$1 rc=$2 re=$3; shift 3
	state >"$TMP/before"
	check_rc "${name}_rc" "$rc" "$@"
	if [ -n "$LAST_ERR" ] && grep -Eq -- "$re" <<<"$LAST_ERR"; then
		pass "${name}_message"
	else
		fail "${name}_message" "stderr '$LAST_ERR' does not match /$re/"
	fi
	state >"$TMP/after"
	if cmp -s "$TMP/before" "$TMP/after"; then
		pass "${name}_changes_nothing"
	else
		fail "${name}_changes_nothing" "$(diff "$TMP/before" "$TMP/after" | grep '^[<>]' | head -4 | tr '\n' ' ')"
	fi
}

# ---- help and exit codes ---------------------------------------------------------
out=$("$P" --help 2>&1); rc=$?
check_eq help_rc 0 "$rc"
for c in attach detach status stats hist; do
	if grep -Eq "^  $c " <<<"$out"; then pass "help_lists_$c"; else fail "help_lists_$c" "not in --help"; fi
	o=$("$P" "$c" --help 2>&1); r=$?
	check_eq "help_${c}_rc" 0 "$r"
	if grep -q "^usage: pktscope .*$c" <<<"$o"; then pass "help_${c}_usage"; else
		fail "help_${c}_usage" "$(head -1 <<<"$o")"; fi
done
if grep -q "0 success, 1 runtime error.*2 usage error" <<<"$out"; then pass help_exit_codes; else
	fail help_exit_codes "exit codes not documented in --help"; fi

# ---- command line -----------------------------------------------------------------
bad unknown_command 2 "unknown command 'frobnicate'" "$P" frobnicate
bad no_command 2 "no command" "$P"
bad unknown_global_flag 2 "unrecognized option|see 'pktscope --help'" "$P" --frobnicate status
bad unknown_attach_flag 2 "unrecognized option" "$P" --netns "$NS_B" attach --frobnicate veth0
bad unknown_stats_flag 2 "unrecognized option" "$P" --netns "$NS_B" stats --frobnicate veth0
# A bad option: pktscope's one line (what, with which option, the command's
# help), whatever getopt found wrong, in every command (one parser: ps_getopt).
opt_bad() {
	local name=$1 want=$2; shift 2
	bad "$name" 2 "^$want\$" "$@"
	check_eq "${name}_one_line" 1 "$(grep -c . <<<"$LAST_ERR")"
}
opt_bad global_flag "pktscope: unrecognized option '--frobnicate': see 'pktscope --help'" \
	"$P" --frobnicate status
opt_bad attach_flag "pktscope: attach: unrecognized option '--frobnicate': see 'pktscope attach --help'" \
	"$P" --netns "$NS_B" attach --frobnicate veth0
opt_bad short_flag "pktscope: stats: unrecognized option '-Q': see 'pktscope stats --help'" \
	"$P" --netns "$NS_B" stats -Q veth0
opt_bad short_in_cluster "pktscope: stats: unrecognized option '-Q': see 'pktscope stats --help'" \
	"$P" --netns "$NS_B" stats -vQ veth0
opt_bad missing_value "pktscope: stats: option '-i' needs a value: see 'pktscope stats --help'" \
	"$P" --netns "$NS_B" stats veth0 -i
opt_bad missing_long_value "pktscope: attach: option '--mode' needs a value: see 'pktscope attach --help'" \
	"$P" --netns "$NS_B" attach veth0 --mode
opt_bad value_not_taken "pktscope: attach: option '--rtt' takes no value: see 'pktscope attach --help'" \
	"$P" --netns "$NS_B" attach --rtt=1 veth0
opt_bad abbreviation_value_not_taken "pktscope: attach: option '--rtt' takes no value: see 'pktscope attach --help'" \
	"$P" --netns "$NS_B" attach --rt=1 veth0
opt_bad ambiguous "pktscope: tcplife: option '--p' is ambiguous: give more of its name: see 'pktscope tcplife --help'" \
	"$P" tcplife --p 1
opt_bad subcommand_flag "pktscope: filter list: unrecognized option '--bogus': see 'pktscope filter --help'" \
	"$P" --netns "$NS_B" filter list --bogus veth0
opt_bad abbreviated_command "pktscope: syscount: unrecognized option '--bogus': see 'pktscope syscount --help'" \
	"$P" sysc --bogus
opt_bad global_missing_value "pktscope: option '--netns' needs a value: see 'pktscope --help'" \
	"$P" --netns
bad attach_no_iface 2 "attach takes one interface" "$P" --netns "$NS_B" attach
bad attach_two_ifaces 2 "attach takes one interface" "$P" --netns "$NS_B" attach veth0 ifb0
bad attach_nothing 2 "leave nothing to attach" "$P" --netns "$NS_B" attach --no-xdp --no-tc veth0
bad attach_tcx_and_clsact 2 "^pktscope: --tcx and --clsact are two ways to attach TC: give one$" \
	"$P" --netns "$NS_B" attach --tcx --clsact veth0
bad attach_clsact_no_tc 2 "^pktscope: --clsact says how to attach TC, --no-tc not to attach it: drop one$" \
	"$P" --netns "$NS_B" attach --clsact --no-tc veth0
bad status_args 2 "status takes no arguments" "$P" status extra
bad netns_after_command 2 "--netns must come before the command" "$P" status --netns "$NS_B"
bad stats_count_without_interval 2 "needs -i" "$P" --netns "$NS_B" stats -c 3 veth0
bad stats_bad_interval 2 "interval 'abc' is not a number" "$P" --netns "$NS_B" stats -i abc veth0
bad stats_zero_interval 2 "out of range" "$P" --netns "$NS_B" stats -i 0 veth0
bad stats_bad_count 2 "count '-1' is not a number" "$P" --netns "$NS_B" stats -i 1 -c -1 veth0
bad hist_unknown_kind 2 "usage: pktscope hist size IFACE" "$P" --netns "$NS_B" hist latency veth0
bad hist_unknown_dir 2 "unknown direction 'up'" "$P" --netns "$NS_B" hist size --dir up veth0

# ---- unknown interface, unknown netns, unknown mode -------------------------------------
for c in attach detach stats; do
	bad "unknown_iface_$c" 2 "unknown interface 'nosuch0' in netns $NS_B" "$P" --netns "$NS_B" "$c" nosuch0
done
bad unknown_iface_hist 2 "unknown interface 'nosuch0'" "$P" --netns "$NS_B" hist size nosuch0
bad iface_name_too_long 2 "not valid" "$P" --netns "$NS_B" attach abcdefghijklmnopqrstuvwxyz
bad unknown_netns 2 "unknown netns 'nosuch-$TAG'" "$P" --netns "nosuch-$TAG" status
bad netns_with_slash 2 "netns name .* is not valid" "$P" --netns ../x status
bad unknown_mode 2 "unknown XDP mode 'turbo'" "$P" --netns "$NS_B" attach --mode turbo veth0
# Not attached: stats and detach say so (runtime, 1).
bad stats_not_attached 1 "veth0 has no pktscope attached" "$P" --netns "$NS_B" stats veth0
bad detach_not_attached 1 "veth0 has no pktscope attached" "$P" --netns "$NS_B" detach veth0

# ---- native XDP refused ------------------------------------------------------------------
# ifb has no native XDP (ndo_bpf) here, nor do tun, lo or dummy: the kernel
# refuses XDP_FLAGS_DRV_MODE with EOPNOTSUPP.
bad native_refused 1 "attach XDP to ifb0 in native mode: Operation not supported.*--mode generic" \
	"$P" --netns "$NS_B" attach --mode native ifb0
# auto falls back to generic there, with a warning, and works.
"$P" --netns "$NS_B" attach ifb0 >/dev/null 2>"$TMP/err"
check_eq auto_fallback_rc 0 "$?"
if grep -q "falling back to generic" "$TMP/err"; then pass auto_fallback_warning; else
	fail auto_fallback_warning "$(cat "$TMP/err")"; fi
check_eq auto_fallback_generic 2 "$(ip -n "$NS_B" -j link show ifb0 | jq -r '.[0].xdp.mode // 0')"
check_rc auto_fallback_detach 0 "$P" --netns "$NS_B" detach ifb0

# ---- not root, or root without the capabilities --------------------------------------------
# nsenter --net keeps the host's mounts (ip netns exec would hide bpffs).
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
for c in "attach veth0" "detach veth0" "status" "stats veth0" "hist size veth0"; do
	n=${c%% *}
	# shellcheck disable=SC2086
	bad "notroot_$n" 1 "needs root \(or CAP_BPF and CAP_NET_ADMIN\)" \
		nsenter --net="/run/netns/$NS_B" "${NOBODY[@]}" "$P" $c
done
# With --netns the tool must say the same, and exit 1 (permission is a
# runtime error), not fail as if the namespace name were bad.
bad notroot_netns_attach 1 "needs root" "${NOBODY[@]}" "$P" --netns "$NS_B" attach veth0
# Root without CAP_NET_ADMIN: programs load (CAP_SYS_ADMIN) but the kernel
# refuses the XDP attachment; everything done so far is undone.
bad no_cap_net_admin 1 "Operation not permitted" \
	capsh --drop=cap_net_admin -- -c "exec $P --netns $NS_B attach veth0"
bad no_cap_net_admin_tc 1 "clsact qdisc on veth0: Operation not permitted" \
	capsh --drop=cap_net_admin -- -c "exec $P --netns $NS_B attach --no-xdp --clsact veth0"
# TCX links (the default here) need CAP_NET_ADMIN or CAP_SYS_ADMIN, and so
# does loading a TC program: without both the load is refused.
bad no_cap_net_sys_admin_tcx 1 "load TC program: Operation not permitted" \
	nsenter --net="/run/netns/$NS_B" capsh --drop=cap_net_admin,cap_sys_admin -- -c "exec $P attach --no-xdp veth0"
# Root without CAP_BPF/CAP_SYS_ADMIN/CAP_PERFMON: the load itself is refused.
bad no_cap_bpf 1 "load .* program: Operation not permitted" \
	nsenter --net="/run/netns/$NS_B" capsh --drop=cap_bpf,cap_sys_admin,cap_perfmon -- -c "exec $P attach veth0"

# ---- a pin root that is not pktscope's ----------------------------------------------------------
realroot() { stat -c '%F %a %u' /sys/fs/bpf/pktscope 2>/dev/null || echo absent; }
REALROOT=$(realroot)
# privbpf SCRIPT: run SCRIPT (bash) in a private mount namespace on a fresh
# bpffs; P, NS_B, NSINO, TMP are in its environment.
privbpf() {
	# bpffs holds no regular files: "not a directory" is a pinned map.
	P=$P NS_B=$NS_B NSINO=$NSINO TMP=$TMP unshare -m --propagation private bash -c \
		"notdir() { bpftool map create /sys/fs/bpf/pktscope type array key 4 value 4 entries 1 name notours; }
		 mount -t bpf bpf /sys/fs/bpf || exit 99; $1"
}
bad pinroot_is_file 1 "/sys/fs/bpf/pktscope exists but is not a private directory" \
	privbpf 'notdir && exec $P --netns $NS_B attach veth0'
bad pinroot_other_owner 1 "/sys/fs/bpf/pktscope exists but is not a private directory.*owner 65534" \
	privbpf 'mkdir -m 700 /sys/fs/bpf/pktscope && chown 65534 /sys/fs/bpf/pktscope &&
		 exec $P --netns $NS_B attach veth0'
bad pinroot_open_mode 1 "/sys/fs/bpf/pktscope exists but is not a private directory.*mode 755" \
	privbpf 'mkdir -m 755 /sys/fs/bpf/pktscope && exec $P --netns $NS_B attach veth0'
bad pinroot_status 1 "/sys/fs/bpf/pktscope exists but is not a private directory" \
	privbpf 'notdir && exec $P status'
# Another module's directory beside the attachments (the TCP module pins
# under tcp-<netns>) is not an attachment: status -j stays one valid document
# listing the one real attachment, and says nothing on stderr.
out=$(privbpf 'mkdir -m 700 /sys/fs/bpf/pktscope && $P --netns $NS_B attach veth0 >/dev/null 2>&1 &&
	mkdir -m 700 /sys/fs/bpf/pktscope/tcp-123 && $P status -j 2>$TMP/st.err;
	echo "stderr:$(cat $TMP/st.err)"; $P --netns $NS_B detach veth0 2>/dev/null')
check_eq status_other_dir_json 1 "$(head -n -1 <<<"$out" | jq '.attachments | length' 2>&1)"
check_eq status_other_dir_quiet "stderr:" "$(tail -1 <<<"$out")"
# The private bpffs really was private: the real one is untouched.
check_eq pinroot_real_untouched "$REALROOT" "$(realroot)"

# ---- pinned maps of another layout ---------------------------------------------------------------
# A pin directory for lo in NS_B whose meta map does not match this build:
# value size 64 instead of 80; right size but layout version 99; right meta
# but a stats map of another value size.  stats, hist and detach must refuse
# (exit 1) and leave the pins where they are.
# The good layout is taken from a real attachment of this build: its meta
# value (bytes 4..7 are layout_version) and its stats value size.
core_attach "$NS_B" >/dev/null 2>&1
GOOD_META=$(bpftool map lookup pinned "$PIN/meta" key 0 0 0 0 -j 2>/dev/null | jq -r '.value | join(" ")')
GOOD_STATS=$(bpftool map show pinned "$PIN/stats" -j 2>/dev/null | jq -r .bytes_value)
core_detach_ours
GOOD_VERSION=$(( $(awk '{ print $5 }' <<<"$GOOD_META") ))
META_SIZE=$(wc -w <<<"$GOOD_META")
if [ "$META_SIZE" -lt 16 ] || [ -z "$GOOD_STATS" ]; then
	fail layout_reference "could not read the meta/stats maps of a real attachment"
	exit 1
fi
meta_hex() { # VERSION
	awk -v v="$(printf '0x%02x' "$1")" '{ $5 = v; $6 = $7 = $8 = "0x00"; print }' <<<"$GOOD_META"
}
LODIR="/sys/fs/bpf/pktscope/$NSINO-1"
mkpins() { # META_VALUE_SIZE VERSION STATS_VALUE_SIZE
	cat <<EOF
mkdir -m 700 -p $LODIR || exit 98
bpftool map create $LODIR/meta type array key 4 value $1 entries 1 name ps_meta || exit 97
if [ $1 = $META_SIZE ]; then
	bpftool map update pinned $LODIR/meta key 0 0 0 0 value $(meta_hex "$2") || exit 96
fi
bpftool map create $LODIR/stats type percpu_array key 4 value $3 entries 3 name ps_stats || exit 95
EOF
}
for c in "stats lo" "hist size lo" "detach lo"; do
	n=${c%% *}
	bad "layout_meta_size_$n" 1 "has value size $((META_SIZE - 16)), this build expects $META_SIZE" \
		privbpf "$(mkpins $((META_SIZE - 16)) "$GOOD_VERSION" "$GOOD_STATS"); exec \$P --netns \$NS_B $c"
	bad "layout_version_$n" 1 "layout version 99" \
		privbpf "$(mkpins "$META_SIZE" 99 "$GOOD_STATS"); exec \$P --netns \$NS_B $c"
	bad "layout_stats_size_$n" 1 "stats has value size $((GOOD_STATS - 8))" \
		privbpf "$(mkpins "$META_SIZE" "$GOOD_VERSION" $((GOOD_STATS - 8))); exec \$P --netns \$NS_B $c"
done
# The refusing reader removed nothing.
check_eq layout_detach_keeps_pins "meta stats" \
	"$(privbpf "$(mkpins "$META_SIZE" 99 "$GOOD_STATS"); \$P --netns \$NS_B detach lo 2>/dev/null; echo \$(ls $LODIR)")"
# A well-formed pin directory is accepted by the same path (the fake is
# otherwise right): stats of it exits 0.
check_eq layout_good_accepted 0 \
	"$(privbpf "$(mkpins "$META_SIZE" "$GOOD_VERSION" "$GOOD_STATS"); \$P --netns \$NS_B stats lo >/dev/null 2>&1; echo \$?")"

# ---- nothing left in the kernel --------------------------------------------------------------
wait_for 10 test -z "$(core_leaks)"
check_eq no_leaked_objects "" "$(core_leaks | tr '\n' ' ')"

suite_end
