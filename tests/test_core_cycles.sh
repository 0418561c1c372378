#!/usr/bin/env bash
# 100 attach/detach cycles on one veth: every one succeeds, and afterwards
# the interface, the pins and the kernel's pktscope programs and maps are
# exactly as before (no program, filter, qdisc, pin or map left over).
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

TAG=$(uniq_tag)c
TMP=$(mktemp -d)
CYCLES=${CYCLES:-100}

trap core_b_undo EXIT
trap 'exit 130' INT TERM

core_bench_require "$TAG"
core_b_vars

# What the kernel shows for veth0 in NS_B, and our pins.
iface_state() {
	ip -n "$NS_B" -j link show veth0 | jq -c '.[0].xdp // "no xdp"'
	tc -n "$NS_B" qdisc show dev veth0
	tc -n "$NS_B" filter show dev veth0 ingress
	tc -n "$NS_B" filter show dev veth0 egress
	[ -e "$PIN" ] && echo "pin dir $PIN"
}

CORE_OBJS0=$TMP/objs0
ps_objects | sort >"$CORE_OBJS0"
iface_state >"$TMP/state0"
n_progs0=$(bpftool prog show -j | jq length)
n_maps0=$(bpftool map show -j | jq length)

bad=0 counted=0
t0=$(date +%s)
for i in $(seq "$CYCLES"); do
	"$PKTSCOPE" --netns "$NS_B" attach veth0 >/dev/null 2>"$TMP/err" ||
		{ bad=$((bad + 1)); echo "# cycle $i attach: $(cat "$TMP/err")"; }
	# Halfway, prove the attachment is real: one ping is one ICMP packet.
	if [ "$i" = $((CYCLES / 2)) ]; then
		ip netns exec "$NS_A" ping -q -c 1 -W 2 "$IP_B" >/dev/null
		counted=$(ps_json "$NS_B" stats veth0 | jq -r '.dirs.xdp.l4_packets.icmp')
	fi
	"$PKTSCOPE" --netns "$NS_B" detach veth0 >/dev/null 2>"$TMP/err" ||
		{ bad=$((bad + 1)); echo "# cycle $i detach: $(cat "$TMP/err")"; }
done
echo "# $CYCLES cycles in $(( $(date +%s) - t0 ))s"
check_eq cycles_all_succeeded 0 "$bad"
check_eq cycles_counted_midway 1 "$counted"
check_eq cycles_iface_as_before "$(cat "$TMP/state0")" "$(iface_state)"
# Freeing is deferred (RCU): poll until the leftovers are gone.
wait_for 10 test -z "$(core_leaks)"
check_eq cycles_no_leaked_programs "" "$(core_leaks | tr '\n' ' ')"
# The global numbers, for the log (other suites may run at the same time
# here; in CI the suites run one by one and these must match).
echo "# programs $n_progs0 -> $(bpftool prog show -j | jq length), maps $n_maps0 -> $(bpftool map show -j | jq length)"

suite_end
