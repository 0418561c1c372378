#!/usr/bin/env bash
# libFuzzer targets of the parsers of outside input (tests/fuzz/): the daemon
# config, command-line values (typed parsers, --listen, filter add), the
# metrics endpoint's HTTP request parsing, /proc/PID/maps and ELF symbol
# tables.  Each binary (clang, ASan+UBSan, built by `make fuzz-bins`) runs for
# FUZZ_SECS seconds (6 here, 60 in `make fuzz`) from a copy of its seed
# corpus in a temp dir; PASS when libFuzzer exits 0 and wrote no crash file.
# A crash or broken invariant leaves the input under
# $BUILD_DIR/test-logs/fuzz/NAME/ with the log beside it.
# Runtime: 5 targets x (FUZZ_SECS + ~1 s), about 35 s in `make test`.
source "$(dirname "$0")/lib.sh"

SECS=${FUZZ_SECS:-6}
TARGETS="config cli http procmaps elf"
OUT=$BUILD_DIR/test-logs/fuzz
WORK=$(mktemp -d /tmp/pktscope-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# The same build names as `make BUILD=...` used, so nothing is rebuilt twice.
build=$BUILD_DIR
case $build in "$REPO_DIR"/*) build=${build#"$REPO_DIR"/} ;; esac
if ! make -C "$REPO_DIR" --no-print-directory BUILD="$build" fuzz-bins >"$WORK/make.log" 2>&1; then
	fail build "make fuzz-bins failed: $(tail -3 "$WORK/make.log" | tr '\n' ' ')"
	exit 1
fi
pass build

for t in $TARGETS; do
	bin=$BUILD_DIR/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		fail "$t" "$bin is missing"
		continue
	fi
	# Seeds are copied: libFuzzer adds what it finds to its corpus dir.
	mkdir -p "$WORK/$t"
	if [ "$t" = elf ]; then
		cp "$BUILD_DIR"/fuzz/seed-elf/* "$WORK/$t/"
	else
		cp "$REPO_DIR"/tests/fuzz/corpus/"$t"/* "$WORK/$t/"
	fi
	rm -rf "${OUT:?}/$t"
	mkdir -p "$OUT/$t"
	dict=()
	[ -f "$REPO_DIR/tests/fuzz/$t.dict" ] && dict=(-dict="$REPO_DIR/tests/fuzz/$t.dict")
	# -timeout: one input may take 10 s before it counts as a hang.
	(cd "$WORK" && timeout --kill-after=10 $((SECS + 120)) "$bin" -max_total_time="$SECS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$OUT/$t/" "$WORK/$t") >"$OUT/$t.log" 2>&1
	rc=$?
	crashes=$(find "$OUT/$t" -type f | head -3)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log")
	echo "    $t: ${runs:-?} inputs in ${SECS}s, corpus $(ls "$WORK/$t" | wc -l) files, exit $rc"
	if [ $rc = 0 ] && [ -z "$crashes" ] && [ -n "$runs" ] && [ "$runs" -gt 0 ]; then
		pass "$t"
	else
		why=$(grep -m1 -E 'invariant broken|ERROR: |runtime error' "$OUT/$t.log")
		fail "$t" "exit $rc; ${why:-see $OUT/$t.log}; input: ${crashes:-none written} (replay: FUZZ_VERBOSE=1 $bin INPUT)"
	fi
done
suite_end
