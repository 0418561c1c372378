#!/usr/bin/env bash
# Unit tests: every build/tests/test_* binary (BPF_PROG_TEST_RUN of the XDP
# and TC programs with crafted frames, see tests/unit/).  Each binary prints
# its own PASS/FAIL/SKIP lines; this suite relays them and fails a binary that
# is missing, crashes, or exits non-zero without saying why.
source "$(dirname "$0")/lib.sh"

bins=()
for b in "$BUILD_DIR"/tests/test_*; do
	[ -f "$b" ] && [ -x "$b" ] && bins+=("$b")
done
if [ ${#bins[@]} = 0 ]; then
	fail binaries "no $BUILD_DIR/tests/test_* binary: run 'make' first"
	exit 1
fi
[ -x "$BUILD_DIR/tests/test_parser" ] || fail test_parser "$BUILD_DIR/tests/test_parser is missing: run 'make'"

for b in "${bins[@]}"; do
	name=$(basename "$b")
	out=$(mktemp)
	# libbpf warnings and the verifier log go to the output, shown on failure.
	PS_TEST_VERBOSE=1 "$b" >"$out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$out"
	nfail=$(grep -c '^FAIL ' "$out")
	nlines=$(grep -cE '^(PASS|FAIL|SKIP) ' "$out")
	if [ "$nfail" != 0 ]; then
		FAILS=$((FAILS + nfail))
		# Context for the failures (libbpf or verifier messages).
		grep -vE '^(PASS|FAIL|SKIP) ' "$out" | tail -20 | sed 's/^/    /'
	elif [ $rc != 0 ] || [ "$nlines" = 0 ]; then
		fail "$name" "exited $rc after $nlines result lines: $(grep -vE '^(PASS|SKIP) ' "$out" | tail -3 | tr '\n' ' ')"
	fi
	rm -f "$out"
done
suite_end
