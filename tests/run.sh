#!/usr/bin/env bash
# Runs every test suite (tests/test_*.sh), counts PASS/FAIL/SKIP lines and ends
# with "N passed, N failed, N skipped".  Exit status: 0 only when nothing failed.
#   tests/run.sh                 all suites
#   tests/run.sh core unit       suites whose name contains one of the words
set -u
cd "$(dirname "$0")/.."
# BUILD_DIR picks another build (make test SANITIZE=1 uses build-san).
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac
export BUILD_DIR
export PKTSCOPE=$BUILD_DIR/pktscope
LOGS=$BUILD_DIR/test-logs
mkdir -p "$LOGS"

if [ "$(id -u)" != 0 ]; then
	echo "tests need root (BPF, network namespaces): run 'sudo make test'" >&2
	exit 2
fi

suites=()
for s in tests/test_*.sh; do
	if [ $# -gt 0 ]; then
		keep=0
		for w in "$@"; do case "$s" in *"$w"*) keep=1 ;; esac; done
		[ $keep = 1 ] || continue
	fi
	suites+=("$s")
done

passed=0 failed=0 skipped=0
t_all=$(date +%s)
for s in "${suites[@]}"; do
	name=$(basename "$s" .sh)
	t0=$(date +%s)
	# Each suite gets a time limit so one hang cannot eat the CI budget.
	timeout --kill-after=10 "${SUITE_TIMEOUT:-300}" bash "$s" >"$LOGS/$name.log" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$LOGS/$name.log")
	f=$(grep -c '^FAIL ' "$LOGS/$name.log")
	k=$(grep -c '^SKIP ' "$LOGS/$name.log")
	if [ $rc != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $name: suite exited $rc without a FAIL line (timeout is 124)" >>"$LOGS/$name.log"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + k))
	printf '%-28s %3d passed %3d failed %3d skipped  %4ds\n' "$name" "$p" "$f" "$k" $(( $(date +%s) - t0 ))
	grep -E '^(FAIL|SKIP) ' "$LOGS/$name.log" | sed 's/^/    /'
done
echo "total time $(( $(date +%s) - t_all ))s; logs in $LOGS/"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
