#!/usr/bin/env bash
# The benchmark suite's own machinery (make bench measures; this checks that
# what it measures is put together right), quickly:
#   - tests/bench/lib.sh: bench_stats' median/min/max, bench_figure's ratio
#     (of medians, or the median of per-rep ratios with BENCH_RATIO=paired)
#     and its JSON line;
#   - tests/bench/run.sh's merge of every build/bench/*.json into
#     results.json and the README's markdown table;
#   - tests/bench/bench_progrun.sh end to end with a tiny repeat count: one
#     figure per frame, hook and program, each with its rounds on both sides;
#     the xdp-filter peer's rows, no pin left by it, none without its objects;
#   - tests/unit/tcx_hold.c (the tcx-empty floor of bench_throughput.sh):
#     the program runs on both TCX hooks, counts exactly the packets that
#     crossed them, and goes away with the process.
source "$(dirname "$0")/lib.sh"
source "$TESTS_DIR/core_lib.sh"

tmp=$(mktemp -d /tmp/ps-bench-test.XXXXXX)
TAG=$(uniq_tag)b
HOLD=""
cleanup() {
	[ -n "$HOLD" ] && kill -TERM "$HOLD" 2>/dev/null && wait "$HOLD" 2>/dev/null
	core_bench_down "$TAG"
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- lib.sh ---------------------------------------------------------------
(
	BENCH_NAME=unit BENCH_OUT=$tmp/lib; . "$REPO_DIR/tests/bench/lib.sh"
	check_eq stats/odd "2 1 3" "$(bench_stats 3 1 2)"
	check_eq stats/even "2.5 1 4" "$(bench_stats 4 1 3 2)"
	check_eq stats/non_numeric_dropped "5 5 5" "$(bench_stats fail 5 nan)"
	check_eq stats/none "nan nan nan" "$(bench_stats)"
	# Subject 3 4 9 against base 1 2 3: medians 4 / 2 = 2; per-rep ratios
	# 3, 2, 3 (median 3, min 2, max 3).
	bench_figure f.plain "plain" ms S "3 4 9" B "1 2 3" "<= 2x" lower >/dev/null
	BENCH_RATIO=paired bench_figure f.paired "paired" ms S "3 4 9" B "1 2 3" "" lower >/dev/null
	bench_figure f.unpaired "different lengths" ms S "3 4 9" B "1 2" "" higher >/dev/null
	j=$tmp/lib/unit.json
	check_eq figure/lines 3 "$(wc -l <"$j")"
	check_eq figure/plain "2 2 3 4 3 9 2 1 3 <= 2x lower" \
		"$(jq -r 'select(.id == "f.plain") | [.ratio, .ratio_min, .ratio_max, .subject.median, .subject.min, .subject.max, .base.median, .base.min, .base.max, .target, .better] | join(" ")' "$j")"
	check_eq figure/paired "3 2 3" \
		"$(jq -r 'select(.id == "f.paired") | [.ratio, .ratio_min, .ratio_max] | join(" ")' "$j")"
	# Unequal lengths: no per-rep ratios, the ratio of the medians (4 / 1.5).
	check_eq figure/unpaired "2.667 null" \
		"$(jq -r 'select(.id == "f.unpaired") | "\(.ratio) \(.ratio_min)"' "$j")"
	check_eq figure/values "[3,4,9] [1,2,3]" \
		"$(jq -c 'select(.id == "f.plain") | .subject.values, .base.values' "$j" | tr '\n' ' ' | sed 's/ $//')"
	check_eq figure/machine "$(nproc)" "$(jq -r 'select(.id == "f.plain") | .machine.cpus' "$j")"
)

# ---- run.sh's merge ---------------------------------------------------------
# No bench named "none": run.sh only merges what BENCH_OUT already holds.
mkdir -p "$tmp/merge"
cp "$tmp/lib/unit.json" "$tmp/merge/a.json"
printf '{"bench":"b","id":"b.one","what":"one","unit":"ns","subject":{"label":"x","values":[1],"median":1,"min":1,"max":1},"base":{"label":"y","values":[2],"median":2,"min":2,"max":2},"ratio":0.5,"ratio_min":null,"ratio_max":null,"target":"","better":"lower","machine":{}}\n' \
	>"$tmp/merge/b.json"
out=$(BENCH_OUT=$tmp/merge bash "$REPO_DIR/tests/bench/run.sh" none 2>&1)
check_eq merge/no_such_bench 1 "$(echo "$out" | grep -c 'bench_none.sh: no such bench')"
check_eq merge/figures 4 "$(jq length "$tmp/merge/results.json" 2>/dev/null)"
check_eq merge/table_rows 4 "$(grep -c '^| ' "$tmp/merge/results.md" | awk '{ print $1 - 1 }')"
check_eq merge/row_paired "| unit | f.paired: paired | S: 4 ms (3..9) | B: 2 ms (1..3) | 3 (2..3) |  |" \
	"$(grep 'f.paired' "$tmp/merge/results.md")"
check_eq merge/row_target "1" "$(grep -c '^| unit | f.plain: plain | .* | 2 (2..3) | <= 2x |$' "$tmp/merge/results.md")"

# ---- bench_progrun.sh, end to end ---------------------------------------------
if [ -x "$BUILD_DIR/tests/bench_progrun" ]; then
	BENCH_REPEAT=1000 BENCH_ROUNDS=2 BENCH_OUT=$tmp/pr BUILD_DIR=$BUILD_DIR \
		bash "$REPO_DIR/tests/bench/bench_progrun.sh" >"$tmp/pr.out" 2>&1
	check_eq progrun/exit 0 $?
	j=$tmp/pr/progrun.json
	# 4 frames x 2 hooks x (5 feature sets + count + all-vs-count), and 4
	# frames x the xdp-filter peer's 3 at XDP.
	check_eq progrun/figures 68 "$(wc -l <"$j" 2>/dev/null)"
	check_eq progrun/two_rounds_each 68 \
		"$(jq -s '[.[] | select((.subject.values | length) == 2 and (.base.values | length) == 2 and (.ratio | type) == "number")] | length' "$j")"
	check_eq progrun/targets "xdp.frag4_64.all xdp.qinq_udp4_64.all xdp.tcp6_1500.all xdp.udp4_64.all tc.frag4_64.all tc.qinq_udp4_64.all tc.tcp6_1500.all tc.udp4_64.all" \
		"$(jq -r 'select(.target == "<= 2x") | .id' "$j" | sort -t. -k1,1r -k2,2 | tr '\n' ' ' | sed 's/ $//')"
	check_eq progrun/count_vs_empty "empty xdp" "$(jq -r 'select(.id == "xdp.udp4_64.count") | .base.label' "$j")"
	check_eq progrun/all_vs_count "count tc" "$(jq -r 'select(.id == "tc.tcp6_1500.all-vs-count") | .base.label' "$j")"
	check_eq progrun/peer_targets "xdp.frag4_64.all-vs-xdpfilter xdp.qinq_udp4_64.all-vs-xdpfilter xdp.tcp6_1500.all-vs-xdpfilter xdp.udp4_64.all-vs-xdpfilter" \
		"$(jq -r 'select(.target == "<= 1x") | .id' "$j" | sort | tr '\n' ' ' | sed 's/ $//')"
	check_eq progrun/peer_base "xdp-filter -f udp" "$(jq -r 'select(.id == "xdp.qinq_udp4_64.filter-vs-xdpfilter-udp") | .base.label' "$j")"
	check_eq progrun/peer_loaded 0 "$(grep -c 'note: no xdpfilter' "$tmp/pr.out")"
	# xdp-filter's maps are pinned by name when it loads them; the bench's
	# copies must leave no pin behind.
	check_eq progrun/peer_no_pin 0 "$(ls /sys/fs/bpf | grep -c -E '^(filter_|xdp_stats_map)')"
	# Without xdp-tools' objects: the peer rows are left out, with a note.
	LIBXDP_OBJECT_PATH=$tmp/none BENCH_REPEAT=1000 BENCH_ROUNDS=2 BENCH_OUT=$tmp/pr2 \
		BUILD_DIR=$BUILD_DIR bash "$REPO_DIR/tests/bench/bench_progrun.sh" >"$tmp/pr2.out" 2>&1
	check_eq progrun/no_peer_exit 0 $?
	check_eq progrun/no_peer_figures 56 "$(wc -l <"$tmp/pr2/progrun.json" 2>/dev/null)"
	check_eq progrun/no_peer_notes 2 "$(grep -c "note: no xdpfilter.*$tmp/none/xdpfilt_alw_" "$tmp/pr2.out")"
else
	fail progrun/binary "$BUILD_DIR/tests/bench_progrun is missing: run 'make'"
fi

# ---- tcx_hold ------------------------------------------------------------------
core_bench_require "$TAG"
# Quiet IPv6: no MLD/ND on the veth while packets are counted.
for ns in "$NS_A" "$NS_B"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
done
ip netns exec "$NS_A" "$BUILD_DIR/tests/tcx_hold" "$BUILD_DIR/empty.bpf.o" count_tc veth0 \
	>"$tmp/hold.out" 2>&1 &
HOLD=$!
for _ in $(seq 100); do grep -q attached "$tmp/hold.out" && break; sleep 0.1; done
id=$(sed -n 's/^attached count_tc, program id \([0-9]*\)$/\1/p' "$tmp/hold.out")
if [ -z "$id" ]; then
	fail tcx_hold/attach "no 'attached' line: $(head -3 "$tmp/hold.out" | tr '\n' ' ')"
else
	pass tcx_hold/attach
	check_eq tcx_hold/ingress "$id" "$(tcx_progs_of "$NS_A" veth0 ingress)"
	check_eq tcx_hold/egress "$id" "$(tcx_progs_of "$NS_A" veth0 egress)"
	# 20 echo requests out, 20 replies in: 40 packets of 98 bytes (static
	# neighbours, IPv6 off: nothing else crosses the veth).
	ip netns exec "$NS_A" ping -q -c 20 -i 0.01 -W 1 "$IP_B" >/dev/null
	check_eq tcx_hold/pings 0 $?
	mid=$(bpftool map show -j | jq --argjson ids "$(bpftool prog show id "$id" -j | jq -c .map_ids)" \
		'.[] | select(.name == "count_recs" and (.id as $i | $ids | index($i))) | .id')
	check_eq tcx_hold/counted "40 3920" \
		"$(bpftool map lookup id "$mid" key 2 0 0 0 -j | jq -r '[.formatted.values[].value.pkts] as $p | [.formatted.values[].value.bytes] as $b | "\($p | add) \($b | add)"')"
	kill -TERM "$HOLD"; wait "$HOLD"
	check_eq tcx_hold/exit 0 $?
	HOLD=""
	check_eq tcx_hold/ingress_gone "" "$(tcx_progs_of "$NS_A" veth0 ingress)"
	check_eq tcx_hold/egress_gone "" "$(tcx_progs_of "$NS_A" veth0 egress)"
	check_rc tcx_hold/prog_freed 255 bpftool prog show id "$id"
fi
check_rc tcx_hold/no_interface 2 ip netns exec "$NS_A" "$BUILD_DIR/tests/tcx_hold" \
	"$BUILD_DIR/empty.bpf.o" count_tc nosuchif0
check_rc tcx_hold/no_program 1 ip netns exec "$NS_A" "$BUILD_DIR/tests/tcx_hold" \
	"$BUILD_DIR/empty.bpf.o" nosuchprog veth0
check_eq tcx_hold/nothing_left "" "$(tcx_progs_of "$NS_A" veth0 ingress)$(tcx_progs_of "$NS_A" veth0 egress)"

suite_end
