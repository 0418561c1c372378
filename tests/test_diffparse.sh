#!/usr/bin/env bash
# Differential parsing: frames from tests/diffparse/gen_frames.py (valid ones
# of every kind bpf/parse.h knows, truncations at every byte, flipped length,
# IHL, version, next-header fields, bogus IPv6 extension chains, VLAN stacks
# of 3+, IPv4 options overrunning the header, zero-length L4) go through
# ps_xdp and ps_tc_in by BPF_PROG_TEST_RUN (build/tests/difftest_parser) and
# through tshark; tests/diffparse/compare.py maps both to L3/L4/verdict and
# fails on any disagreement outside its list of deliberate differences.
#   FRAMES=N (default 2000)  SEED=S (default: random, printed)
# make fuzz runs the same with FRAMES=50000.
source "$(dirname "$0")/lib.sh"

FRAMES=${FRAMES:-2000}
SEED=${SEED:-$(( $(date +%s%N) % 1000000007 ))}
PY=/usr/bin/python3
DIFF_BIN=$BUILD_DIR/tests/difftest_parser
echo "seed $SEED, $FRAMES frames (replay: SEED=$SEED FRAMES=$FRAMES tests/run.sh diffparse)"

if ! $PY -c 'import scapy' 2>/dev/null; then
	skip setup "python3-scapy is not installed for $PY: run 'make deps'"
	exit 0
fi
if ! command -v tshark >/dev/null; then
	skip setup "tshark is not installed: run 'make deps'"
	exit 0
fi
if [ ! -x "$DIFF_BIN" ]; then
	fail setup "$DIFF_BIN is missing: run 'make'"
	exit 1
fi

tmp=$(mktemp -d /tmp/ps-diffparse.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! $PY "$TESTS_DIR/diffparse/gen_frames.py" "$tmp/f.pcap" "$tmp/f.desc" "$FRAMES" "$SEED" 2>"$tmp/gen.err"; then
	fail generate "gen_frames.py failed: $(tail -3 "$tmp/gen.err" | tr '\n' ' ')"
	exit 1
fi
check_eq generate/frames "$FRAMES" "$(wc -l <"$tmp/f.desc")"

if ! "$DIFF_BIN" "$tmp/f.pcap" >"$tmp/ps.txt" 2>"$tmp/ps.err"; then
	fail pktscope_run "difftest_parser failed: $(tail -3 "$tmp/ps.err" | tr '\n' ' ')"
	exit 1
fi
check_eq pktscope_run/frames "$FRAMES" "$(wc -l <"$tmp/ps.txt")"

# Reassembly off: each frame is judged alone, as the BPF programs see it.
if ! tshark -r "$tmp/f.pcap" -n -o ip.defragment:FALSE -o ipv6.defragment:FALSE \
	-T fields -E separator=/t -E occurrence=a -E aggregator=, \
	-e frame.number -e frame.protocols -e _ws.malformed -e _ws.expert.message \
	-e _ws.short -e ip.hdr_len -e ip.len -e ip.proto -e ip.frag_offset \
	-e ipv6.plen -e ipv6.nxt -e ipv6.hopopts.nxt -e ipv6.routing.nxt \
	-e ipv6.dstopts.nxt -e ipv6.fraghdr.nxt -e ah.next_header -e ipv6.fraghdr.offset \
	-e ip.version -e tcp.hdr_len -e ipv6.hopopts.len_oct -e ipv6.routing.len_oct \
	-e ipv6.dstopts.len_oct -e ah.length >"$tmp/ts.txt" 2>"$tmp/ts.err"; then
	fail tshark_run "tshark failed: $(tail -3 "$tmp/ts.err" | tr '\n' ' ')"
	exit 1
fi
check_eq tshark_run/frames "$FRAMES" "$(wc -l <"$tmp/ts.txt")"

$PY "$TESTS_DIR/diffparse/compare.py" "$tmp/f.pcap" "$tmp/f.desc" "$tmp/ps.txt" "$tmp/ts.txt" >"$tmp/cmp.txt" 2>&1
rc=$?
# The first disagreements in full (frame, hook, how it was made, hex), the
# summary always.
grep -A2 '^DIFF ' "$tmp/cmp.txt" | head -60
tail -3 "$tmp/cmp.txt"
n=$(sed -n 's/^disagreements: //p' "$tmp/cmp.txt")
if [ $rc -le 1 ] && [ -n "$n" ]; then
	check_eq "disagreements_with_tshark(seed=$SEED)" 0 "$n"
else
	fail compare "compare.py exited $rc: $(tail -3 "$tmp/cmp.txt" | tr '\n' ' ')"
fi
# Every frame went through XDP; TC may refuse a frame whose IP header is cut.
xdp=$(sed -n 's/^frames [0-9]*; compared xdp \([0-9]*\),.*/\1/p' "$tmp/cmp.txt")
check_eq compared_all_frames_at_xdp "$FRAMES" "$xdp"
suite_end
