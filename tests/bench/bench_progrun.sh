#!/usr/bin/env bash
# Per-packet cost of the XDP and TC (ingress) programs next to an empty
# XDP_PASS / TC_ACT_OK program (tests/bpf/empty.bpf.c), via BPF_PROG_TEST_RUN
# (tests/unit/bench_progrun.c): frames 64 B UDP/IPv4, 1500 B TCP/IPv6 with
# timestamps, 64 B QinQ UDP/IPv4, 64 B non-first IPv4 fragment; feature sets
# counters only, +RTT (attach --rtt), +one drop rule that does not match,
# everything on (RTT + the rule), and everything on with the rule tried on
# every frame (the port prefilter's bits cleared, as for a packet whose port
# shares the rule's bit); and the cheapest accounting, packets and bytes in
# a per-CPU array without parsing (count); and at XDP the peer for the drop
# rule, xdp-filter (xdp-tools), loaded as `xdp-filter load` loads it
# (defaults: policy allow, all features) and as `xdp-filter load -f udp`,
# each given the same rule (`xdp-filter port 10 -p udp`).  Each round runs
# the empty program, the five sets, count and the peers back to back (order
# rotated every round), pinned to one CPU;
# figures are medians of the rounds with the per-round ratio's min..max.
# Targets: <= 2x of the empty program with everything on; everything on
# costs less than xdp-filter's default build with one rule.  About 35 s.
set -u
cd "$(dirname "$0")/../.."
BENCH_NAME=progrun; . tests/bench/lib.sh
BUILD_DIR=${BUILD_DIR:-$PWD/build}
bin=$BUILD_DIR/tests/bench_progrun
if [ ! -x "$bin" ]; then
	echo "bench_progrun: $bin is missing: run 'make'" >&2
	exit 1
fi
# Rounds are cheap (about 2 s each): at least 11 of them, or REPS if more.
rounds=${BENCH_ROUNDS:-$((BENCH_REPS > 11 ? BENCH_REPS : 11))}
repeat=${BENCH_REPEAT:-1000000}
cpu=$(($(nproc) - 1))
# Where xdp-filter finds its objects: $LIBXDP_OBJECT_PATH, else libxdp's.
if [ -z "${LIBXDP_OBJECT_PATH:-}" ]; then
	d=$(pkg-config --variable=libdir libxdp 2>/dev/null)/bpf
	[ -d "$d" ] && export LIBXDP_OBJECT_PATH=$d
fi
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
taskset -c "$cpu" "$bin" -r "$repeat" -n "$rounds" >"$raw" || exit 1
echo "BPF_PROG_TEST_RUN, repeat $repeat, $rounds interleaved rounds on CPU $cpu; ns/packet (CPU time of the caller / repeat)"

vals() { awk -v f="$1" -v h="$2" -v p="$3" '$1 == "RAW" && $2 == f && $3 == h && $4 == p { $1 = $2 = $3 = $4 = ""; print }' "$raw"; }
declare -A what=([udp4_64]="64 B UDP/IPv4" [tcp6_1500]="1500 B TCP/IPv6 (timestamps)"
	[qinq_udp4_64]="64 B QinQ UDP/IPv4" [frag4_64]="64 B IPv4 non-first fragment")
declare -A set=([counters]="counters only" [rtt]="counters + RTT" [filter]="counters + 1 drop rule (no match)"
	[all]="everything on (RTT + 1 rule)"
	[alltried]="everything on, the rule tried (prefilter passes the frame)")
for f in udp4_64 tcp6_1500 qinq_udp4_64 frag4_64; do
	for h in xdp tc; do
		base=$(vals "$f" "$h" empty)
		for s in counters rtt filter all alltried; do
			t=""
			[ "$s" = all ] && t="<= 2x"
			bench_figure "$h.$f.$s" "${h^^} per-packet cost, ${what[$f]}, ${set[$s]}" ns/pkt \
				"pktscope $s" "$(vals "$f" "$h" "$s")" "empty $h" "$base" "$t" lower
		done
		# The cheapest accounting (packets and bytes, no parsing) next to
		# the empty program, and pktscope's full set next to it.
		bench_figure "$h.$f.count" "${h^^} per-packet cost, ${what[$f]}, count only (packets and bytes in a per-CPU array, no parsing)" ns/pkt \
			"count $h" "$(vals "$f" "$h" count)" "empty $h" "$base" "" lower
		bench_figure "$h.$f.all-vs-count" "${h^^} per-packet cost, ${what[$f]}, pktscope with everything on vs count only" ns/pkt \
			"pktscope all" "$(vals "$f" "$h" all)" "count $h" "$(vals "$f" "$h" count)" "" lower
		# The peer (XDP only; no rows when its objects are missing).
		[ "$h" = xdp ] && [ -n "$(vals "$f" xdp xdpfilter)" ] || continue
		bench_figure "xdp.$f.xdpfilter" "XDP per-packet cost, ${what[$f]}, xdp-filter as \`xdp-filter load\` loads it (allow, all features) + \`port 10 -p udp\`" ns/pkt \
			"xdp-filter" "$(vals "$f" xdp xdpfilter)" "empty xdp" "$base" "" lower
		bench_figure "xdp.$f.all-vs-xdpfilter" "XDP per-packet cost, ${what[$f]}, pktscope with everything on (RTT + 1 rule) vs xdp-filter's default build with the same rule" ns/pkt \
			"pktscope all" "$(vals "$f" xdp all)" "xdp-filter" "$(vals "$f" xdp xdpfilter)" "<= 1x" lower
		bench_figure "xdp.$f.filter-vs-xdpfilter-udp" "XDP per-packet cost, ${what[$f]}, pktscope counters + 1 rule vs xdp-filter built for UDP ports only (\`load -f udp\`) with the same rule" ns/pkt \
			"pktscope filter" "$(vals "$f" xdp filter)" "xdp-filter -f udp" "$(vals "$f" xdp xdpfilter-udp)" "" lower
	done
done
