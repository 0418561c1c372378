# Shared by every test suite (source it).  A suite prints one line per check:
#   PASS name | FAIL name: why | SKIP name: why
# and tests/run.sh counts those lines.  Suites are run as root from the repo
# root, with PKTSCOPE pointing at the binary under test.
set -u

: "${PKTSCOPE:=$PWD/build/pktscope}"
export PKTSCOPE
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$REPO_DIR/build}
SUITE=$(basename "$0" .sh)
FAILS=0

pass() { echo "PASS $SUITE/$1"; }
fail() { echo "FAIL $SUITE/$1: ${2:-}"; FAILS=$((FAILS + 1)); }
skip() { echo "SKIP $SUITE/$1: ${2:-}"; }

# check_eq NAME EXPECTED ACTUAL: exact comparison, both printed on failure.
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# check_cmd NAME CMD...: the command must succeed.
check_cmd() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "'$*' failed: $(echo "$out" | tail -3 | tr '\n' ' ')"; fi
}

# check_rc NAME EXPECTED_RC CMD...: exit code must be EXPECTED_RC; stderr is
# kept in $LAST_ERR for the caller to inspect.
LAST_ERR=""
check_rc() {
	local name=$1 want=$2; shift 2
	local errf rc
	errf=$(mktemp)
	"$@" >/dev/null 2>"$errf"; rc=$?
	LAST_ERR=$(cat "$errf"); rm -f "$errf"
	if [ "$rc" = "$want" ]; then pass "$name"; else fail "$name" "exit $rc, wanted $want (stderr: $LAST_ERR)"; fi
}

# Exit status of a suite: non-zero when any check failed.
suite_end() { [ "$FAILS" = 0 ]; }

# Kill a background helper and everything it started (its process group).
kill_tree() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# A short unique tag for netns and interface names of this run (<= 6 chars
# so that "$tag-xxxx" fits IFNAMSIZ).
uniq_tag() { printf 'p%05d' $(( $$ % 100000 )); }
